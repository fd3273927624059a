using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using LeakNode.Scanner.Detection;
using LeakNode.Scanner.Reporting;
using LeakNode.Scanner.Tests.Support;

namespace LeakNode.Scanner.Tests.Reporting;

/// <summary>
/// The SARIF report checked by Microsoft's SARIF Multitool (<c>validate</c>: the SARIF 2.1.0 JSON schema plus the
/// SARIF validation rules), which test.sh installs from npm (<c>@microsoft/sarif-multitool-linux</c>) and names in
/// <c>LEAKNODE_SARIF_MULTITOOL</c>. A finding of every built-in detector is in the report.
/// </summary>
public sealed class SarifValidationTests : IDisposable
{
    private readonly TempFolder _folder = new();

    private static string? Multitool => Environment.GetEnvironmentVariable("LEAKNODE_SARIF_MULTITOOL") is { Length: > 0 } path && File.Exists(path) ? path : null;

    [Fact]
    public async Task Sarif_EveryDetector_PassesTheMultitoolsSchemaAndRules()
    {
        var tool = Multitool ?? Skip();
        var factory = new SecretFactory(seed: 41);
        var style = 0;
        foreach (var (kind, make) in factory.Tokens)
        {
            _folder.Write($"src/{kind}.env", factory.Line(kind, make(), style++) + "\n");
        }
        var result = await new SecretScanner().ScanAsync(Path.Combine(_folder.Path, "src"), TestContext.Current.CancellationToken);
        Assert.True(result.Findings.Select(f => f.RuleId).Distinct().Count() >= BuiltInDetectors.All.Count - 2, "nearly every detector has a finding in the report");
        var report = Path.Combine(_folder.Path, "report.sarif");
        await using (var file = new StreamWriter(report))
        {
            ReportWriter.Write(ReportFormat.Sarif, result, file, redact: true);
        }

        var problems = await ValidateAsync(tool, report);

        Assert.DoesNotContain(problems, p => p.Level == "error");
    }

    [Fact]
    public async Task Multitool_ReportWithoutVersion_IsAnError()
    {
        // The check above can fail: a report the schema refuses is reported as an error.
        var tool = Multitool ?? Skip();
        var result = new ScanResult { Target = "x", Findings = [], Notices = [], Statistics = new ScanStatistics() };
        using var writer = new StringWriter();
        ReportWriter.Write(ReportFormat.Sarif, result, writer, redact: true);
        var sarif = JsonNode.Parse(writer.ToString())!.AsObject();
        sarif.Remove("version");
        var report = _folder.Write("broken.sarif", sarif.ToJsonString());

        var problems = await ValidateAsync(tool, report);

        Assert.Contains(problems, p => p.Level == "error" && p.Text.Contains("version", StringComparison.Ordinal));
    }

    private static string Skip()
    {
        Assert.Skip("LEAKNODE_SARIF_MULTITOOL is not set: test.sh installs Microsoft's SARIF Multitool from npm and sets it (x86-64 Linux)");
        return "";
    }

    /// <summary>Runs <c>Sarif.Multitool validate</c> and returns what it reported (its output is itself SARIF).</summary>
    private async Task<List<(string RuleId, string Level, string Text)>> ValidateAsync(string tool, string report)
    {
        var output = Path.Combine(_folder.Path, Path.GetFileNameWithoutExtension(report) + ".validation.sarif");
        var info = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "validate", report, "--output", output, "--log", "ForceOverwrite", "--quiet" })
        {
            info.ArgumentList.Add(argument);
        }
        // The multitool is a .NET program of its own: it must not pick up the test host's settings.
        info.Environment.Remove("DOTNET_ROOT");
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.True(File.Exists(output), $"the multitool wrote no output (exit {process.ExitCode}): {await stdout} {await stderr}");
        using var validation = JsonDocument.Parse(await File.ReadAllTextAsync(output, TestContext.Current.CancellationToken));
        return validation.RootElement.GetProperty("runs")[0].GetProperty("results").EnumerateArray()
            .Select(r => (
                r.GetProperty("ruleId").GetString()!,
                r.TryGetProperty("level", out var level) ? level.GetString()! : "warning",
                r.GetProperty("message").ToString()))
            .ToList();
    }

    public void Dispose() => _folder.Dispose();
}
