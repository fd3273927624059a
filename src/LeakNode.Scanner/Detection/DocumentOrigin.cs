namespace LeakNode.Scanner.Detection;

/// <summary>Where a scanned document comes from: its path, and for git history the commit that introduced it.</summary>
/// <param name="Path">The path reported with findings (relative to the scanned root, <c>!</c> into archives, or a URL).</param>
public sealed record DocumentOrigin(string Path)
{
    public string? Commit { get; init; }

    public string? Author { get; init; }

    public string? Email { get; init; }

    public DateTimeOffset? Date { get; init; }

    public string? Message { get; init; }

    /// <summary>For git history: the id of the blob the document was read from (the archive's blob, for an entry in it).</summary>
    public string? Blob { get; init; }
}
