using System.CommandLine;
using System.Globalization;
using LeakNode.Cli.Inventory;
using LeakNode.Cloud.Sources;
using LeakNode.Scanner;
using LeakNode.Scanner.Baselines;
using LeakNode.Scanner.Detection;
using LeakNode.Scanner.Gitleaks;
using LeakNode.Scanner.Reporting;

namespace LeakNode.Cli;

/// <summary>
/// <c>leaknode scan TARGET</c>: scans a folder, file, archive, git repository (path or clone URL, full history) or
/// URLs for leaked secrets. Exit 0 = nothing found, 1 = leaks found, 2 = error (CONTRACT.md).
/// </summary>
internal static class ScanCommand
{
    /// <summary>Exit code for "the scan ran and found leaks".</summary>
    public const int LeaksFoundExitCode = 1;

    public static Command Create()
    {
        var target = new Argument<string?>("TARGET")
        {
            Description = "A folder, file, archive (zip, tar, tar.gz), git repository (path, or clone URL: file://, ssh://, git@host:…, https://….git) or an http(s) URL to fetch.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var format = new Option<string?>("--format", "-f")
        {
            Description = "Report format: text (default), json, sarif or csv. With --output and no --format, the file's extension decides.",
        };
        format.AcceptOnlyFromAmong("text", "json", "sarif", "csv");
        var output = new Option<FileInfo?>("--output", "-o") { Description = "Write the report to FILE instead of standard output." };
        var rules = new Option<FileInfo?>("--rules", "-r")
        {
            Description = "A gitleaks TOML config whose rules replace the built-in detectors ([extend] useDefault = true keeps them and tunes them by id).",
        };
        var baseline = new Option<FileInfo?>("--baseline") { Description = "A baseline written by --write-baseline: its findings are known and not reported again." };
        var writeBaseline = new Option<FileInfo?>("--write-baseline") { Description = "Write every finding of this scan to FILE as a baseline." };
        var noRedact = new Option<bool>("--no-redact") { Description = "Print secrets in full. By default every output shows a masked preview (ghp_…9f3a)." };
        var urls = new Option<FileInfo?>("--urls") { Description = "A file of http(s) URLs, one a line, to fetch and scan (pastes, raw files)." };
        var noGit = new Option<bool>("--no-git") { Description = "Scan a git repository's files on disk instead of its whole history." };
        var inventory = new Option<FileInfo?>("--inventory")
        {
            Description = "The organisation's own tokens as digests (from `leaknode inventory digest`, or the cloud's GET /api/v1/inventory/digests): "
                + "an exact hit is reported as kind inventory, critical.",
        };
        var inventoryKey = new Option<FileInfo?>("--inventory-key")
        {
            Description = "The inventory key file (`leaknode inventory key`), when the --inventory file does not hold the key.",
        };

        var (cloud, apiKey) = CloudApiClient.Options(required: false);
        cloud.Description = "Report the findings to this cloud (its REST address): new tokens become open leaks, known ones add this place to their leak. "
            + "The cloud's inventory is watched for too, unless --inventory is given.";

        var command = new Command("scan", "Scan a folder, file, archive, git repository (full history) or URLs for leaked tokens. Exit 0: nothing found, 1: leaks found, 2: error.")
        {
            target, format, output, rules, baseline, writeBaseline, noRedact, urls, noGit, inventory, inventoryKey, cloud, apiKey,
        };
        command.SetAction((parse, cancellation) => RunAsync(
            new Request(
                parse.GetValue(target), parse.GetValue(format), parse.GetValue(output), parse.GetValue(rules), parse.GetValue(baseline),
                parse.GetValue(writeBaseline), parse.GetValue(noRedact), parse.GetValue(urls), parse.GetValue(noGit), parse.GetValue(inventory),
                parse.GetValue(inventoryKey), parse.GetValue(cloud), parse.GetValue(apiKey)),
            parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, cancellation));
        return command;
    }

    private sealed record Request(
        string? Target, string? Format, FileInfo? Output, FileInfo? Rules, FileInfo? Baseline, FileInfo? WriteBaseline, bool NoRedact, FileInfo? Urls, bool NoGit,
        FileInfo? Inventory, FileInfo? InventoryKey, string? Cloud, string? ApiKey);

    private static async Task<int> RunAsync(Request request, TextWriter stdout, TextWriter stderr, CancellationToken cancellation)
    {
        if (request.Target is null == (request.Urls is null))
        {
            await stderr.WriteLineAsync("leaknode scan: give a TARGET or --urls FILE (one of them). See leaknode scan --help.");
            return Commands.ErrorExitCode;
        }
        if (request.InventoryKey is not null && request.Inventory is null)
        {
            await stderr.WriteLineAsync("leaknode scan: --inventory-key goes with --inventory FILE (the digests it opens).");
            return Commands.ErrorExitCode;
        }

        CloudApiClient? cloud = null;
        if (request.Cloud is not null)
        {
            cloud = CloudApiClient.Connect(request.Cloud, request.ApiKey, out var problem);
            if (cloud is null)
            {
                await stderr.WriteLineAsync("leaknode scan: " + problem);
                return Commands.ErrorExitCode;
            }
        }
        using (cloud)
        {
            return await ScanAsync(request, cloud, stdout, stderr, cancellation);
        }
    }

    private static async Task<int> ScanAsync(Request request, CloudApiClient? cloud, TextWriter stdout, TextWriter stderr, CancellationToken cancellation)
    {
        ScanResult result;
        var statistics = new ScanStatistics();
        try
        {
            var options = new ScanOptions
            {
                Detectors = request.Rules is null ? DetectorSet.BuiltIn : GitleaksConfig.Load(request.Rules.FullName).ToDetectorSet(),
                Baseline = request.Baseline is null ? null : Baseline.Load(request.Baseline.FullName),
                Inventory = request.Inventory is not null ? InventoryFiles.LoadWatchList(request.Inventory.FullName, request.InventoryKey?.FullName)
                    : cloud is not null ? await cloud.GetInventoryAsync(cancellation)
                    : null,
                NoGit = request.NoGit,
                Statistics = statistics,
            };
            var scanner = new SecretScanner(options);
            using var progress = ProgressDisplay.StartIfTerminal(statistics, stderr);
            result = request.Urls is not null
                ? await scanner.ScanUrlListAsync(request.Urls.FullName, cancellation)
                : await scanner.ScanAsync(request.Target!, cancellation);
        }
        catch (ScanException e)
        {
            await stderr.WriteLineAsync("leaknode scan: " + e.Message);
            return Commands.ErrorExitCode;
        }
        catch (InventoryFileException e)
        {
            await stderr.WriteLineAsync("leaknode scan: --inventory: " + e.Message);
            return Commands.ErrorExitCode;
        }
        catch (CloudApiException e)
        {
            await stderr.WriteLineAsync("leaknode scan: --cloud: " + e.Message);
            return Commands.ErrorExitCode;
        }
        catch (GitleaksConfigException e)
        {
            await stderr.WriteLineAsync($"leaknode scan: the rules file {request.Rules?.FullName} is not a valid gitleaks config: {e.Message}");
            return Commands.ErrorExitCode;
        }

        var format = ChooseFormat(request.Format, request.Output);
        try
        {
            if (request.Output is null)
            {
                ReportWriter.Write(format, result, stdout, redact: !request.NoRedact);
            }
            else
            {
                await using (var file = new StreamWriter(request.Output.FullName))
                {
                    ReportWriter.Write(format, result, file, redact: !request.NoRedact);
                }
                await stderr.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{result.Findings.Count} findings in {result.Statistics.Documents} documents; {format.ToString().ToLowerInvariant()} report written to {request.Output.FullName}"));
            }
            if (request.WriteBaseline is not null)
            {
                Baseline.Write(request.WriteBaseline.FullName, result.Findings);
                await stderr.WriteLineAsync($"baseline of {result.Findings.Count} findings written to {request.WriteBaseline.FullName}");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ScanException)
        {
            await stderr.WriteLineAsync("leaknode scan: cannot write the report: " + e.Message);
            return Commands.ErrorExitCode;
        }
        if (cloud is not null)
        {
            try
            {
                await FileFindingsAsync(cloud, request, result, stderr, cancellation);
            }
            catch (CloudApiException e)
            {
                await stderr.WriteLineAsync("leaknode scan: --cloud: the report is written, but the findings were not all filed: " + e.Message);
                return Commands.ErrorExitCode;
            }
        }
        return result.Findings.Count > 0 ? LeaksFoundExitCode : 0;
    }

    /// <summary>Findings a request at most: well under the cloud's default <c>Scanning:MaxFindingsPerRequest</c>.</summary>
    private const int FindingsPerRequest = 1000;

    /// <summary>
    /// Files the findings in the cloud (<c>POST /api/v1/findings</c>), in parts, each named by the place it was found:
    /// a repository by its remote URL when it has one, a fetched document by its URL, else the scanned path.
    /// </summary>
    private static async Task FileFindingsAsync(CloudApiClient cloud, Request request, ScanResult result, TextWriter stderr, CancellationToken cancellation)
    {
        if (result.Findings.Count == 0)
        {
            await stderr.WriteLineAsync($"cloud {cloud.Cloud}: nothing to file");
            return;
        }
        var place = request.Urls is null ? CloudTarget.Of(request.Target!) : null;
        var (findings, ignored, created, updated) = (0, 0, 0, 0);
        var leaks = new HashSet<string>(StringComparer.Ordinal);
        foreach (var group in result.Findings.GroupBy(f => place ?? f.Path))
        {
            foreach (var part in group.Chunk(FindingsPerRequest))
            {
                var filed = await cloud.FileFindingsAsync(
                    new FindingsRequest(group.Key, null, part.Select(f => new FindingRequest(
                        f.Secret, f.RuleId, f.Kind, f.Severity.ToString().ToLowerInvariant(), f.Path, f.StartLine, f.Commit, f.Author, f.Date, f.AtHead,
                        f.RuleId == InventoryWatchList.RuleId)).ToList()),
                    cancellation);
                (findings, ignored, created, updated) = (findings + filed.Findings, ignored + filed.Ignored, created + filed.NewLeaks, updated + filed.UpdatedLeaks);
                leaks.UnionWith(filed.LeakIds);
            }
        }
        var line = string.Create(CultureInfo.InvariantCulture, $"cloud {cloud.Cloud}: {findings} findings filed in {leaks.Count} leaks: {created} new, {updated} updated");
        await stderr.WriteLineAsync(ignored > 0 ? line + string.Create(CultureInfo.InvariantCulture, $", {ignored} ignored (not a token the cloud can watch)") : line);
    }

    private static ReportFormat ChooseFormat(string? format, FileInfo? output)
    {
        format ??= output?.Extension.ToLowerInvariant() switch
        {
            ".json" => "json",
            ".sarif" => "sarif",
            ".csv" => "csv",
            _ => "text",
        };
        return Enum.Parse<ReportFormat>(format, ignoreCase: true);
    }
}
