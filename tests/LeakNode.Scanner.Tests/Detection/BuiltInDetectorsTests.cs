using LeakNode.Scanner.Detection;
using LeakNode.Scanner.Tests.Support;

namespace LeakNode.Scanner.Tests.Detection;

public sealed class BuiltInDetectorsTests
{
    private static readonly SecretFactory Factory = new(seed: 6);

    public static TheoryData<string, int> EveryDetector()
    {
        var data = new TheoryData<string, int>();
        foreach (var rule in BuiltInDetectors.All)
        {
            for (var style = 0; style < 5; style++)
            {
                data.Add(rule.Id, style);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(EveryDetector))]
    public void Scan_TokenOfEachFormatInEachFileStyle_FoundByItsDetector(string ruleId, int style)
    {
        // A seed of the case, the same in every run (string.GetHashCode is randomized per process).
        var factory = new SecretFactory(seed: ruleId.Aggregate(17, (hash, c) => unchecked((hash * 31) + c)) ^ style);
        var token = factory.Tokens[ruleId]();
        var text = $"# settings\n{factory.Line(ruleId, token, style)}\nother = 1\n";

        var findings = DetectorSet.BuiltIn.Scan(text, new DocumentOrigin("settings.txt"));

        var finding = Assert.Single(findings, f => f.Secret == token);
        Assert.Equal(ruleId, finding.RuleId);
        Assert.Equal(2, finding.StartLine);
        var line = text.Split('\n')[1];
        Assert.Equal(line.IndexOf(token[..Math.Min(token.Length, 20)], StringComparison.Ordinal) + 1, finding.StartColumn);
    }

    [Fact]
    public void All_AtLeastTwentyFiveFormatsPlusGeneric_EachWithKindAndDescription()
    {
        Assert.True(BuiltInDetectors.All.Count >= 26);
        Assert.All(BuiltInDetectors.All, rule =>
        {
            Assert.False(string.IsNullOrEmpty(rule.Kind));
            Assert.False(string.IsNullOrEmpty(rule.Description));
            Assert.NotEmpty(rule.Keywords);
        });
        Assert.Equal(BuiltInDetectors.All.Count, BuiltInDetectors.All.Select(r => r.Id).Distinct().Count());
    }

    /// <summary>Text no detector may report, each with the reason it is not a leak.</summary>
    public static TheoryData<string, string> NotSecrets() => new()
    {
        // Shape right, checksum wrong: GitHub and npm tokens carry a CRC-32.
        { "GitHub classic token with a wrong checksum", $"token = \"{Factory.GitHubStyleBadChecksum("gh" + "p_")}\"" },
        { "GitHub OAuth token with a wrong checksum", $"x {Factory.GitHubStyleBadChecksum("gh" + "o_")}" },
        { "npm token with a wrong checksum", $"//registry.npmjs.org/:_authToken={Factory.GitHubStyleBadChecksum("np" + "m_")}" },
        { "GitHub token of the wrong length", "gh" + "p_" + Factory.Chars("abcdefghijklmnopqrstuvwxyz0123456789", 35) },
        // Documentation examples.
        { "AWS documentation's example key id", "aws_access_key_id = AKIA" + "IOSFODNN7" + "EXAMPLE" },
        { "AWS documentation's example secret key", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY" },
        { "masked token", "token: gh" + "p_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" },
        { "template variable", "password = \"${DB_PASSWORD}\"" },
        { "placeholder", "api_key = \"your-api-key-here-123\"" },
        { "environment lookup", "secret = os.environ.get(\"APP_SECRET\")" },
        // Identifiers and hashes.
        { "UUID after a keyword", "token_id = \"123e4567-e89b-12d3-a456-426614174000\"" },
        { "git commit id", "commit " + Factory.HexString(40) },
        { "sha256 digest", "sha256: " + Factory.HexString(64) },
        { "all-letters value", "password = \"correcthorsebatterystaple\"" },
        { "all-digits value", "token_count = 12345678901234" },
        { "low-entropy value", "secret = \"aaaaaaaabbbbbbbb1\"" },
        // Near misses of prefixes.
        { "AKIA inside a word", "XAKIA" + Factory.Chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 16) },
        { "JWT whose header is not JSON", "eyJ" + Factory.Chars("abcdefghij", 20) + ".eyJ" + Factory.Chars("abcdefghij", 20) + "." + Factory.Chars("abcdefghij", 20) },
        { "PEM block without key material", "-----BEGIN RSA PRIV" + "ATE KEY-----\n...\n-----END RSA PRIV" + "ATE KEY-----" },
        { "inline allow marker", $"token = \"{Factory.GitHubStyle("gh" + "p_")}\" # leaknode:allow" },
        { "gitleaks' inline allow marker", $"token = \"{Factory.GitHubStyle("gh" + "p_")}\" # gitleaks:allow" },
    };

    [Theory]
    [MemberData(nameof(NotSecrets))]
    public void Scan_LookAlike_NothingFound(string because, string text)
    {
        var findings = DetectorSet.BuiltIn.Scan(text + "\n", new DocumentOrigin("doc.md"));

        Assert.True(findings.Count == 0, $"{because}: found {string.Join(", ", findings.Select(f => f.RuleId + " " + f.Preview))}");
    }

    /// <summary>Bugs found and fixed, each kept as a case. This group only grows.</summary>
    public static TheoryData<string, string, string> Regression() => new()
    {
        // Square's lookbehind refused '=': an .env line (KEY=sq0atp-…) was missed.
        { "square token right after '='", "SQUARE_TOKEN=" + "sq0" + "atp-" + Factory.Chars("abcdefghijklmnopqrstuvwxyzABC0123456789", 22), "square-access-token" },
        // The AWS secret-key pattern knew " and ' but not the backtick of a JavaScript template string.
        { "AWS secret key in backticks", "const aws_secret_access_key = `" + Factory.Chars("abcdefghijklmnopqrstuvwxyzABC0123456789", 40) + "`;", "aws-secret-access-key" },
    };

    [Theory]
    [MemberData(nameof(Regression))]
    public void Scan_Regression_FoundByItsDetector(string because, string text, string ruleId)
    {
        var findings = DetectorSet.BuiltIn.Scan(text + "\n", new DocumentOrigin("regression.txt"));

        Assert.True(findings.Exists(f => f.RuleId == ruleId), because);
    }

    [Fact]
    public void Scan_GenericAndExactOnTheSameValue_OnlyTheExactOneReported()
    {
        var token = Factory.GitHubStyle("gh" + "p_");

        var findings = DetectorSet.BuiltIn.Scan($"api_token = \"{token}\"\n", new DocumentOrigin("a.py"));

        Assert.Equal("github-pat", Assert.Single(findings).RuleId);
    }

    [Fact]
    public void Scan_Finding_PreviewMasksTheSecretAndFingerprintIsStable()
    {
        var token = Factory.GitHubStyle("gh" + "p_");

        var first = Assert.Single(DetectorSet.BuiltIn.Scan(token, new DocumentOrigin("a.txt")));
        var second = Assert.Single(DetectorSet.BuiltIn.Scan("\n\n  " + token, new DocumentOrigin("a.txt")));
        var elsewhere = Assert.Single(DetectorSet.BuiltIn.Scan(token, new DocumentOrigin("b.txt")));

        Assert.Equal("gh" + "p_…" + token[^4..], first.Preview);
        Assert.DoesNotContain(token[4..^4], first.Fingerprint, StringComparison.Ordinal);
        Assert.Equal(first.Fingerprint, second.Fingerprint);
        Assert.NotEqual(first.Fingerprint, elsewhere.Fingerprint);
    }
}
