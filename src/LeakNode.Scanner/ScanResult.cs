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

    public required ScanStatistics Statistics { get; init; }

    public TimeSpan Duration { get; init; }
}
