namespace LeakNode.Scanner;

/// <summary>What a scan found, and what it skipped and why.</summary>
public sealed class ScanResult
{
    /// <summary>The target as given.</summary>
    public required string Target { get; init; }

    /// <summary>Findings, less those the baseline already knew, ordered by path, commit and line.</summary>
    public required IReadOnlyList<Finding> Findings { get; init; }

    /// <summary>Findings left out because the baseline lists them.</summary>
    public int SuppressedByBaseline { get; init; }

    /// <summary>Items skipped or cut, each with its reason (too large, not an archive after all, fetch failed).</summary>
    public required IReadOnlyList<string> Notices { get; init; }

    /// <summary>
    /// For a git history scan: the distinct commits that the repository's refs (and HEAD) pointed at when the scan
    /// started, read before the history, so exactly the history reachable from them was scanned. Pass them as
    /// <see cref="ScanOptions.GitSince"/> to scan only what comes after. Empty for other targets.
    /// </summary>
    public IReadOnlyList<string> GitHeads { get; init; } = [];

    public required ScanStatistics Statistics { get; init; }

    public TimeSpan Duration { get; init; }
}
