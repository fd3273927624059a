using LeakNode.Scanner.Detection;
using LeakNode.Scanner.Gitleaks;
using LeakNode.Scanner.Tests.Support;

namespace LeakNode.Scanner.Tests.Gitleaks;

/// <summary>gitleaks rules loaded from TOML and applied: regex, secret group, entropy, keywords, path, allowlists, extend.</summary>
public sealed class GitleaksConfigTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly SecretFactory _factory = new(seed: 11);

    private GitleaksConfig Load(string toml) => GitleaksConfig.Load(_folder.Write("rules-" + Guid.NewGuid().ToString("N") + ".toml", toml));

    private static List<Finding> Scan(GitleaksConfig config, string text, string path = "app/settings.py", string? commit = null) =>
        config.ToDetectorSet().Scan(text, new DocumentOrigin(path) { Commit = commit });

    [Fact]
    public void Scan_RuleWithSecretGroupAndKeyword_ReportsTheGroup()
    {
        var config = Load("""
            [[rules]]
            id = "internal-key"
            description = "Internal service key"
            regex = '''(?i)(internal[_-]key)\s*=\s*"(ik_[a-z0-9]{20})"'''
            secretGroup = 2
            keywords = ["internal"]
            """);
        var key = "ik_" + _factory.Chars("abcdefghijklmnopqrstuvwxyz0123456789", 20);

        var finding = Assert.Single(Scan(config, $"INTERNAL_KEY = \"{key}\"\n"));

        Assert.Equal("internal-key", finding.RuleId);
        Assert.Equal(key, finding.Secret);
        Assert.Empty(Scan(config, $"other = \"{key}\"\n")); // no keyword, no scan
    }

    [Fact]
    public void Scan_EntropyThreshold_LowEntropySecretDropped()
    {
        var config = Load("""
            [[rules]]
            id = "k"
            regex = '''k=([a-z0-9]{16})'''
            entropy = 3.5
            """);

        // Two characters: 1 bit a character. Sixteen different ones: 4 bits, the most 16 characters can have.
        Assert.Empty(Scan(config, "k=aaaaaaaabbbbbbbb"));
        Assert.Single(Scan(config, "k=abcdefghijklmn01"));
    }

    public static TheoryData<string, string, string, bool> Allowlists() => new()
    {
        { "rule allowlist by path", "[[rules.allowlists]]\npaths = ['''^test/''']", "test/a.py", false },
        { "rule allowlist path elsewhere", "[[rules.allowlists]]\npaths = ['''^test/''']", "src/a.py", true },
        { "old-style rule allowlist", "[rules.allowlist]\nstopwords = ['''k=zz''']", "src/a.py", true },
        { "stop word in the secret", "[[rules.allowlists]]\nstopwords = ['''dummy''']", "src/a.py", false },
        { "regex on the line", "[[rules.allowlists]]\nregexTarget = \"line\"\nregexes = ['''#\\s*fixture''']", "src/a.py", false },
        { "AND needs every check", "[[rules.allowlists]]\ncondition = \"AND\"\npaths = ['''^test/''']\nstopwords = ['''dummy''']", "src/a.py", true },
        { "AND with every check met", "[[rules.allowlists]]\ncondition = \"AND\"\npaths = ['''^src/''']\nstopwords = ['''dummy''']", "src/a.py", false },
        { "commit allowlist, other commit", "[[rules.allowlists]]\ncommits = ['''abc123''']", "src/a.py", true },
    };

    [Theory]
    [MemberData(nameof(Allowlists))]
    public void Scan_RuleAllowlist_AppliedAsGitleaksDoes(string because, string allowlist, string path, bool reported)
    {
        var config = Load("[[rules]]\nid = \"k\"\nregex = '''k=([a-z0-9]{10,})'''\n" + allowlist + "\n");

        var findings = Scan(config, "k=dummy12345abc # fixture\n", path, commit: "def456");

        Assert.True(reported == (findings.Count == 1), because);
    }

    [Fact]
    public void Scan_GlobalAllowlistWithTargetRules_OnlyThoseRulesAllowed()
    {
        var config = Load("""
            [[rules]]
            id = "a"
            regex = '''a=([0-9]{6})'''
            [[rules]]
            id = "b"
            regex = '''b=([0-9]{6})'''
            [[allowlists]]
            targetRules = ["a"]
            regexes = ['''^123''']
            """);

        var findings = Scan(config, "a=123456 b=123456");

        Assert.Equal("b", Assert.Single(findings).RuleId);
    }

    [Fact]
    public void Load_ExtendUseDefault_BuiltInDetectorsKeptAndTunedById()
    {
        var config = Load("""
            [extend]
            useDefault = true
            disabledRules = ["jwt"]
            [[rules]]
            id = "github-pat"
            description = "Our description"
            [[rules.allowlists]]
            paths = ['''^fixtures/''']
            """);
        var token = _factory.GitHubStyle("gh" + "p_");

        var finding = Assert.Single(Scan(config, token, "src/a.txt"));

        Assert.Equal("Our description", finding.Description);
        Assert.Equal("github", finding.Kind);
        Assert.Empty(Scan(config, token, "fixtures/a.txt"));
        Assert.DoesNotContain(config.Rules, r => r.Id == "jwt");
        Assert.Contains(config.Rules, r => r.Id == BuiltInDetectors.GenericId);
        // The checksum still applies: the built-in rule's validator survives the extension.
        Assert.Empty(Scan(config, _factory.GitHubStyleBadChecksum("gh" + "p_"), "src/a.txt"));
    }

    [Fact]
    public void Scan_PathOnlyRule_ReportsTheFile()
    {
        var config = Load("""
            [[rules]]
            id = "pkcs12-file"
            path = '''(?i)\.p(?:12|fx)$'''
            """);

        var finding = Assert.Single(Scan(config, "binary-ish", "certs/server.pfx"));

        Assert.Equal("certs/server.pfx", finding.Path);
        Assert.Empty(Scan(config, "x", "certs/server.pem"));
    }

    public static TheoryData<string, string> Refused() => new()
    {
        { "not TOML", "is not valid TOML" },
        { "[[rules]]\nid = \"x\"\nregex = '''a**'''", "x: invalid regex: invalid nested repetition operator" },
        { "[[rules]]\nid = \"x\"\nregex = '''a'''\n[[rules.required]]\nid = \"y\"", "composite rules ([[rules.required]]) are not supported" },
        { "[extend]\nuseDefault = true\npath = \"base.toml\"", "extend.path and extend.useDefault being set" },
        { "[[rules]]\nid = \"x\"\nregex = '''a'''\n[[rules.allowlists]]\ncondition = \"XOR\"\npaths = ['''a''']", "unknown allowlist |condition| 'XOR'" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void Load_BadConfig_RefusedWithAClearMessage(string toml, string message)
    {
        var error = Assert.Throws<GitleaksConfigException>(() => Load(toml));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _folder.Dispose();
}
