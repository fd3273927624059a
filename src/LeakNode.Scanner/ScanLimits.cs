namespace LeakNode.Scanner;

/// <summary>
/// Caps that keep a scan bounded whatever it is pointed at: huge files, archive bombs, endless or slow URLs.
/// A capped item is skipped (or cut, for a URL) and named in <see cref="ScanResult.Notices"/>, never silently.
/// </summary>
public sealed class ScanLimits
{
    /// <summary>Largest file, blob or archive entry scanned, in bytes. Default 32 MiB: far above any source file, below a build artefact.</summary>
    public long MaxFileBytes { get; init; } = 32L * 1024 * 1024;

    /// <summary>How deep archives nest before the scanner stops opening them (a zip in a tar.gz is depth 2). Default 4.</summary>
    public int MaxArchiveDepth { get; init; } = 4;

    /// <summary>Bytes one top-level archive may expand to, counting every nested entry. Default 512 MiB.</summary>
    public long MaxArchiveExpandedBytes { get; init; } = 512L * 1024 * 1024;

    /// <summary>
    /// Largest ratio of expanded to compressed size: a zip entry or a gzip stream past it is a compression bomb and is
    /// not expanded. Default 200: text compresses 5 to 20 times, a file of zeros 1,000 times.
    /// </summary>
    public double MaxExpansionRatio { get; init; } = 200;

    /// <summary>Largest response read from a URL; the rest is not downloaded. Default 16 MiB.</summary>
    public long MaxUrlBytes { get; init; } = 16L * 1024 * 1024;

    /// <summary>Time allowed for one URL, connection to last byte. Default 30 seconds.</summary>
    public TimeSpan UrlTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Memory git may keep of decompressed delta bases while the history's blobs are read
    /// (<c>core.deltaBaseCacheLimit</c> of the <c>git cat-file</c> the scan starts). Default 512 MiB, against git's
    /// 96 MiB: a history read walks from file to file commit by commit, and with git's default every blob of a long
    /// delta chain rebuilt its bases again; on the benchmark repository (bench/README.md, "Scanner throughput")
    /// cat-file took 9.5 s of user CPU with 96 MiB, 3.3 s with 256 MiB and 2.0 s with 512 MiB. Git uses it only as far as
    /// the repository needs.
    /// </summary>
    public long GitDeltaBaseCacheBytes { get; init; } = 512L * 1024 * 1024;

    /// <summary>Time allowed for cloning a remote repository. Default 10 minutes.</summary>
    public TimeSpan CloneTimeout { get; init; } = TimeSpan.FromMinutes(10);
}
