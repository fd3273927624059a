using LeakNode.Scanner.Baselines;
using LeakNode.Scanner.Detection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LeakNode.Scanner;

/// <summary>What a scan looks for, what it leaves out, and its bounds. Every property has a working default.</summary>
public sealed class ScanOptions
{
    /// <summary>The detectors: the built-in ones by default, or those of a gitleaks config (a gitleaks config, <c>GitleaksConfig.Load</c>).</summary>
    public DetectorSet Detectors { get; init; } = DetectorSet.BuiltIn;

    /// <summary>The organisation's own tokens, as digests, reported on an exact hit; null for none.</summary>
    public InventoryWatchList? Inventory { get; init; }

    /// <summary>Findings already known; they are counted but not reported again. Null for none.</summary>
    public Baseline? Baseline { get; init; }

    public ScanLimits Limits { get; init; } = new();

    /// <summary>
    /// When the target is a git repository, scan the files as they are on disk instead of the whole history.
    /// Default false: a repository is scanned through its history, where deleted secrets still live.
    /// </summary>
    public bool NoGit { get; init; }

    /// <summary>Documents scanned at once. Default: one per processor.</summary>
    public int Parallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>Live counters the caller may poll to show progress.</summary>
    public ScanStatistics Statistics { get; init; } = new();

    /// <summary>Receives one line per skipped item; findings and secrets are never logged.</summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;

    /// <summary>The HTTP client URLs are fetched with; null makes one with <see cref="Limits"/>' timeout.</summary>
    public HttpClient? HttpClient { get; init; }
}
