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

    /// <summary>
    /// For a git history scan: commits already scanned, typically the <see cref="ScanResult.GitHeads"/> of the previous
    /// scan of the same repository. Only the commits not reachable from them are read, and of their blobs only those
    /// that none of these commits' history holds. An id that is not a commit of the repository (force-pushed away,
    /// garbage-collected, mistyped) is left out with a notice, never an error: the history it covered is then
    /// scanned again. Default empty: the whole history.
    /// </summary>
    public IReadOnlyList<string> GitSince { get; init; } = [];

    /// <summary>
    /// For a clone URL: a folder to keep a bare mirror of the repository in, cloned the first time and fetched
    /// (<c>--prune --force</c>) on every later scan, instead of a temporary clone deleted after the scan. A mirror git
    /// cannot read or update is cloned again. A folder that holds anything but a git repository is refused, never
    /// emptied. One scan at a time per folder. Null (default): a temporary clone.
    /// </summary>
    public string? GitMirrorDirectory { get; init; }

    /// <summary>Documents scanned at once. Default: one per processor.</summary>
    public int Parallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>Live counters the caller may poll to show progress.</summary>
    public ScanStatistics Statistics { get; init; } = new();

    /// <summary>Receives one line per skipped item; findings and secrets are never logged.</summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;

    /// <summary>The HTTP client URLs are fetched with; null makes one with <see cref="Limits"/>' timeout.</summary>
    public HttpClient? HttpClient { get; init; }
}
