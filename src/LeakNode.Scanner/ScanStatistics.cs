namespace LeakNode.Scanner;

/// <summary>
/// Live counters of a scan in progress, safe to read from another thread (a progress display polls them) while the
/// scan's workers add to them.
/// </summary>
public sealed class ScanStatistics
{
    private long _documents;
    private long _bytes;
    private long _findings;
    private long _skipped;

    /// <summary>Documents scanned: files, blobs, archive entries, URLs.</summary>
    public long Documents => Interlocked.Read(ref _documents);

    /// <summary>Bytes of content scanned.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    public long Findings => Interlocked.Read(ref _findings);

    /// <summary>Items skipped: binary, too large, allowed by path.</summary>
    public long Skipped => Interlocked.Read(ref _skipped);

    internal void AddDocument(long bytes)
    {
        Interlocked.Increment(ref _documents);
        Interlocked.Add(ref _bytes, bytes);
    }

    internal void AddFindings(int count) => Interlocked.Add(ref _findings, count);

    internal void AddSkipped() => Interlocked.Increment(ref _skipped);
}
