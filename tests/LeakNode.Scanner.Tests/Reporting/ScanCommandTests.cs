using System.Diagnostics;
using System.Text.Json;
using LeakNode.Scanner.Tests.Support;
using LeakNode.Testing;

namespace LeakNode.Scanner.Tests.Reporting;

/// <summary><c>leaknode scan</c> as a real process: exit codes 0/1/2 (CONTRACT.md), formats, baselines, rules files.</summary>
public sealed class ScanCommandTests : IDisposable
{
    private readonly SecretFactory _factory = new(seed: 31);
    private readonly TempFolder _folder = new();

    [Fact]
    public async Task Scan_CleanFolder_ExitZero()
    {
        _folder.Write("src/a.py", "print('hello')\n");

        var (exit, stdout, _) = await RunAsync("scan", Path.Combine(_folder.Path, "src"));

        Assert.Equal(0, exit);
        Assert.Contains("No leaks found", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scan_LeakInFolder_ExitOneAndRedactedSummary()
    {
        var token = _factory.GitHubStyle("gh" + "p_");
        _folder.Write("src/a.py", $"TOKEN = \"{token}\"\n");

        var (exit, stdout, _) = await RunAsync("scan", Path.Combine(_folder.Path, "src"));

        Assert.Equal(1, exit);
        Assert.Contains("github-pat", stdout, StringComparison.Ordinal);
        Assert.Contains("a.py:1:10", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(token, stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scan_WriteBaselineThenBaseline_KnownFindingNotReportedAgain()
    {
        var src = Path.Combine(_folder.Path, "src");
        var token = _factory.GitHubStyle("gh" + "p_");
        _folder.Write("src/a.py", $"TOKEN = \"{token}\"\n");
        var baseline = Path.Combine(_folder.Path, "baseline.json");

        var (first, _, _) = await RunAsync("scan", src, "--write-baseline", baseline);
        var (second, stdout, _) = await RunAsync("scan", src, "--baseline", baseline);
        _folder.Write("src/b.py", $"KEY = \"{_factory.GitHubStyle("gh" + "o_")}\"\n");
        var (third, json, _) = await RunAsync("scan", src, "--baseline", baseline, "--format", "json");

        Assert.Equal(1, first);
        Assert.Equal(0, second);
        Assert.Contains("1 known from the baseline", stdout, StringComparison.Ordinal);
        Assert.Equal(1, third);
        using var report = JsonDocument.Parse(json);
        Assert.Equal("b.py", Assert.Single(report.RootElement.GetProperty("findings").EnumerateArray()).GetProperty("path").GetString());
        Assert.DoesNotContain(token, await File.ReadAllTextAsync(baseline, TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scan_OutputFileWithSarifExtension_SarifWritten()
    {
        _folder.Write("src/a.py", $"TOKEN = \"{_factory.GitHubStyle("gh" + "p_")}\"\n");
        var output = Path.Combine(_folder.Path, "out.sarif");

        var (exit, _, stderr) = await RunAsync("scan", Path.Combine(_folder.Path, "src"), "--output", output);

        Assert.Equal(1, exit);
        Assert.Contains("sarif report written", stderr, StringComparison.Ordinal);
        using var sarif = JsonDocument.Parse(await File.ReadAllTextAsync(output, TestContext.Current.CancellationToken));
        Assert.Equal("2.1.0", sarif.RootElement.GetProperty("version").GetString());
    }

    [Fact]
    public async Task Scan_RulesFile_ItsRulesReplaceTheBuiltIns()
    {
        _folder.Write("src/a.py", $"TOKEN = \"{_factory.GitHubStyle("gh" + "p_")}\"\ncustom = ZZTOP-1234567890\n");
        var rules = _folder.Write("rules.toml", "[[rules]]\nid = \"custom\"\nregex = '''ZZTOP-[0-9]{10}'''\nkeywords = [\"zztop\"]\n");

        var (exit, json, _) = await RunAsync("scan", Path.Combine(_folder.Path, "src"), "--rules", rules, "--format", "json");

        Assert.Equal(1, exit);
        using var report = JsonDocument.Parse(json);
        Assert.Equal("custom", Assert.Single(report.RootElement.GetProperty("findings").EnumerateArray()).GetProperty("ruleId").GetString());
    }

    public static TheoryData<string, string[], string> Errors() => new()
    {
        { "missing target", ["scan", "/nonexistent/leaknode/target"], "does not exist" },
        { "no target at all", ["scan"], "give a TARGET or --urls FILE" },
        { "bad rules file", ["scan", ".", "--rules", "RULES"], "is not a valid gitleaks config" },
        { "bad baseline", ["scan", ".", "--baseline", "RULES"], "is not valid JSON" },
        { "unknown format", ["scan", ".", "--format", "xml"], "xml" },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public async Task Scan_BadInput_ExitTwoWithAClearMessage(string because, string[] arguments, string message)
    {
        var rules = _folder.Write("bad.toml", "[[rules]]\ndescription = \"no id\"\nregex = '''x'''\n");
        var args = arguments.Select(a => a == "RULES" ? rules : a == "." ? _folder.Path : a).ToArray();

        var (exit, _, stderr) = await RunAsync(args);

        Assert.True(exit == 2, $"{because}: exit {exit}");
        Assert.Contains(message, stderr, StringComparison.Ordinal);
    }

    private static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(params string[] arguments)
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var cli = Repository.File(Path.Combine("src", "LeakNode.Cli", "bin", configuration, "net10.0", "leaknode.dll"));
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(cli);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    public void Dispose() => _folder.Dispose();
}
