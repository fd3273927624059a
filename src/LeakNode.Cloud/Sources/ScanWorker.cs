using System.Diagnostics;
using LeakNode.Cloud.Configuration;
using LeakNode.Cloud.Inventory;
using LeakNode.Cloud.Storage;
using LeakNode.Scanner;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LeakNode.Cloud.Sources;

/// <summary>
/// Scans the registered sources on their schedules: claims a due source through the database (so that two
/// replicas never scan one source at once), renews the claim while it scans, files the findings as leaks
/// (<see cref="FindingIngest"/>), and records the run. A git source keeps a mirror clone under
/// <c>Scanning:WorkDir</c> and the heads it scanned, so that the next scan fetches and reads only the new commits.
/// </summary>
internal sealed partial class ScanWorker(
    SourceStore sources, FindingIngest ingest, SourceScanning scanning, ScanningOptions options, TimeProvider clock, ILogger<ScanWorker> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(_ => Task.Run(() => LoopAsync(stoppingToken), stoppingToken)));

    private async Task LoopAsync(CancellationToken stoppingToken)
    {
        var claimId = Ids.New("wk_");
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var woken = sources.Woken;
                ClaimedSource? claimed = null;
                try
                {
                    claimed = await sources.ClaimDueAsync(claimId, options.ClaimLease, stoppingToken);
                    if (claimed is not null)
                    {
                        await RunAsync(claimed, claimId, stoppingToken);
                    }
                }
                catch (Exception error) when (error is not OperationCanceledException)
                {
                    // A database that is away for a moment must not end the worker: it tries again at the next poll.
                    Log.WorkerFailed(logger, error);
                }
                if (claimed is null)
                {
                    await Task.WhenAny(woken, Task.Delay(options.PollInterval, clock, stoppingToken));
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            try
            {
                await sources.ReleaseAsync(claimId, CancellationToken.None);
            }
            catch (Exception error) when (error is System.Data.Common.DbException or InvalidOperationException)
            {
                Log.WorkerFailed(logger, error);
            }
        }
    }

    private async Task RunAsync(ClaimedSource source, string claimId, CancellationToken stoppingToken)
    {
        var runId = await sources.StartRunAsync(source, claimId, stoppingToken);
        var started = Stopwatch.GetTimestamp();
        Log.Started(logger, runId, source.Id, source.Url, source.Cause, source.GitHeads.Count > 0 ? "incremental" : "full");
        using var scan = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        scan.CancelAfter(options.Timeout);
        var lost = false;
        using var renewing = new CancellationTokenSource();
        var renewal = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(options.ClaimLease / 3, clock);
            while (await timer.WaitForNextTickAsync(renewing.Token))
            {
                if (!await sources.RenewAsync(source.Id, claimId, options.ClaimLease, renewing.Token))
                {
                    lost = true;
                    await scan.CancelAsync();
                    return;
                }
            }
        }, CancellationToken.None);

        ScanOutcome outcome;
        try
        {
            var result = await scanning.ScanAsync(source, scan.Token);
            var filed = await ingest.IngestAsync(source.Kind, source.Url, result.Findings, $"scan:{source.Name}", scan.Token);
            outcome = new ScanOutcome(true, result.Documents, result.Bytes, filed.Findings, filed.NewLeaks, filed.UpdatedLeaks, result.GitHeads, null);
            Log.Finished(logger, runId, source.Id, Stopwatch.GetElapsedTime(started), result.Documents, result.Bytes, filed.Findings, filed.NewLeaks, filed.UpdatedLeaks);
        }
        catch (ScanException error)
        {
            outcome = Failed(error.Message);
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            outcome = Failed(lost ? "this replica lost its claim on the source" : $"the scan took longer than Scanning:Timeout ({options.Timeout})");
        }
        catch (OperationCanceledException)
        {
            outcome = Failed("the cloud stopped during the scan");
        }
        finally
        {
            await renewing.CancelAsync();
            try
            {
                await renewal;
            }
            catch (OperationCanceledException)
            {
            }
        }

        if (lost)
        {
            Log.ClaimLost(logger, source.Id);
            return;
        }
        await sources.FinishAsync(source, claimId, runId, outcome, CancellationToken.None);
        if (outcome.Stopped)
        {
            stoppingToken.ThrowIfCancellationRequested();
        }

        ScanOutcome Failed(string message)
        {
            Log.Failed(logger, runId, source.Id, source.Url, message);
            return new ScanOutcome(false, 0, 0, 0, 0, 0, null, message) { Stopped = stoppingToken.IsCancellationRequested };
        }
    }
}

/// <summary>What a scan of a source produced, in the cloud's terms.</summary>
internal sealed record SourceScanResult(IReadOnlyList<ScannedFinding> Findings, long Documents, long Bytes, IReadOnlyList<string> GitHeads);

/// <summary>
/// Scans one source with the scanner: a git source (clone URL, or a repository path) through its history since the
/// heads the last scan saw, kept in a mirror clone; a web page or paste by fetching it; a local path as it is on disk.
/// The organisation's inventory, when it has one, is watched for in every scan.
/// </summary>
internal sealed class SourceScanning(ScanningOptions options, CloudConfiguration configuration, InventoryStore inventory, ILogger<SourceScanning> logger)
{
    /// <summary>Where mirror clones live: <c>Scanning:WorkDir</c>, else <c>scans</c> under <c>DataDir</c>.</summary>
    public string WorkDir => string.IsNullOrWhiteSpace(options.WorkDir) ? Path.Combine(configuration.DataDir, "scans") : options.WorkDir;

    public async Task<SourceScanResult> ScanAsync(ClaimedSource source, CancellationToken cancellationToken)
    {
        var target = TargetOf(source.Kind, source.Url);
        var statistics = new ScanStatistics();
        var scanner = new SecretScanner(new ScanOptions
        {
            Inventory = await inventory.LoadWatchListAsync(cancellationToken),
            Parallelism = options.Parallelism,
            Statistics = statistics,
            Logger = logger,
            GitSince = source.GitHeads,
            GitMirrorDirectory = Path.Combine(WorkDir, "mirrors", source.Id),
        });
        var result = await scanner.ScanAsync(target, cancellationToken);
        var findings = result.Findings.Select(f => new ScannedFinding(
            f.Secret, f.RuleId, f.Kind, f.Severity.ToString().ToLowerInvariant(), f.Path, f.StartLine, f.Commit, f.Author, f.Date, f.AtHead,
            f.RuleId == InventoryWatchList.RuleId)).ToList();
        return new SourceScanResult(findings, result.Statistics.Documents, result.Statistics.Bytes, result.GitHeads);
    }

    /// <summary>
    /// What to hand the scanner: a web address of a repository on a git host (<c>https://github.com/org/repo</c>) is
    /// cloned (<c>….git</c>); a file on such a host (<c>/blob/</c>, <c>/raw/</c>, raw.githubusercontent.com) and any
    /// other web page are fetched; a clone URL or a path as it is.
    /// </summary>
    internal static string TargetOf(string kind, string url)
    {
        if (!SourceKinds.IsGit(kind) || !SourceKinds.IsHttp(url) || SecretScanner.IsCloneUrl(url))
        {
            return url;
        }
        var uri = new Uri(url);
        var path = uri.AbsolutePath;
        if (uri.Host.Contains("githubusercontent", StringComparison.OrdinalIgnoreCase) || path.Contains("/blob/", StringComparison.Ordinal)
            || path.Contains("/raw/", StringComparison.Ordinal) || path.Contains("/-/", StringComparison.Ordinal))
        {
            return url;
        }
        return url.TrimEnd('/') + ".git";
    }
}
