using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using LeakNode.Scanner.Sources;

namespace LeakNode.Scanner;

/// <summary>
/// Scans a target for leaked secrets: a folder or file, archives in it (recursively), a git repository's whole
/// history (by path or clone URL), or documents at URLs. One scan at a time per scanner (its notices and
/// <see cref="ScanOptions.Statistics"/> belong to the scan in progress); a scan itself runs
/// <see cref="ScanOptions.Parallelism"/> documents at once.
/// </summary>
public sealed partial class SecretScanner
{
    // git's own test for binary content: a NUL in the first 8,000 bytes.
    private const int BinaryProbeBytes = 8000;

    private readonly ScanOptions _options;

    public SecretScanner(ScanOptions? options = null) => _options = options ?? new ScanOptions();

    /// <summary>
    /// Scans <paramref name="target"/>: a path (folder, file, archive, git repository), a clone URL (<c>file://</c>,
    /// <c>ssh://</c>, <c>git@host:…</c>, or http(s) ending in <c>.git</c>), or any other http(s) URL, fetched as
    /// one document.
    /// </summary>
    /// <exception cref="ScanException">The target does not exist, cannot be read, cloned or fetched.</exception>
    public async Task<ScanResult> ScanAsync(string target, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(target);
        _notices.Clear();
        if (IsCloneUrl(target))
        {
            return await ScanCloneAsync(target, cancellationToken).ConfigureAwait(false);
        }
        if (Uri.TryCreate(target, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps))
        {
            return await ScanUrlsAsync([url], target, failOnError: true, cancellationToken).ConfigureAwait(false);
        }
        if (!File.Exists(target) && !Directory.Exists(target))
        {
            throw new ScanException($"the target '{target}' does not exist (neither a file nor a folder)");
        }
        if (Directory.Exists(target) && !_options.NoGit && GitHistorySource.IsRepository(target))
        {
            Log.ScanStarted(_options.Logger, target, "git history");
            return await ScanGitAsync(target, target, cancellationToken).ConfigureAwait(false);
        }
        Log.ScanStarted(_options.Logger, target, Directory.Exists(target) ? "folder" : "file");
        var files = FileSystemSource.Enumerate(target, _options.Limits, _options.Detectors, _options.Statistics, Notice);
        return await RunAsync(target, files.ToAsyncEnumerable(), strictArchive: File.Exists(target), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Fetches and scans each URL; one that cannot be fetched is named in the notices and the scan goes on.</summary>
    public Task<ScanResult> ScanUrlsAsync(IReadOnlyList<Uri> urls, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(urls);
        _notices.Clear();
        return ScanUrlsAsync(urls, $"{urls.Count} URLs", failOnError: false, cancellationToken);
    }

    /// <summary>Reads a file of URLs, one a line ('#' starts a comment), and scans them.</summary>
    /// <exception cref="ScanException">The file cannot be read or holds a line that is not an http(s) URL.</exception>
    public Task<ScanResult> ScanUrlListAsync(string file, CancellationToken cancellationToken = default) =>
        ScanUrlsAsync(UrlSource.ReadList(file), cancellationToken);

    /// <summary>Scans one document held in memory (archives in it are opened), with the configured detectors and inventory.</summary>
    public List<Finding> ScanContent(string path, byte[] content)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(content);
        var findings = new ConcurrentBag<FoundIn>();
        Process(new ScanItem(new Detection.DocumentOrigin(path), content), 0, null, findings, strictArchive: false);
        return Order(findings.Select(f => f.Finding));
    }

    /// <summary>
    /// Whether <see cref="ScanAsync"/> clones <paramref name="target"/>: <c>file://</c>, <c>ssh://</c>, <c>git://</c>,
    /// <c>git@host:path</c>, or http(s) ending in <c>.git</c>.
    /// </summary>
    public static bool IsCloneUrl(string target) =>
        target.StartsWith("file://", StringComparison.OrdinalIgnoreCase) ||
        target.StartsWith("ssh://", StringComparison.OrdinalIgnoreCase) ||
        target.StartsWith("git://", StringComparison.OrdinalIgnoreCase) ||
        (target.StartsWith("git@", StringComparison.Ordinal) && target.Contains(':', StringComparison.Ordinal)) ||
        ((target.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || target.StartsWith("http://", StringComparison.OrdinalIgnoreCase)) &&
            target.TrimEnd('/').EndsWith(".git", StringComparison.OrdinalIgnoreCase));

    /// <summary>Whether <see cref="ScanAsync"/> reads <paramref name="path"/> as a git repository (a work tree or a bare one) through its history.</summary>
    public static bool IsGitRepository(string path) => GitHistorySource.IsRepository(path);

    private async Task<ScanResult> ScanCloneAsync(string url, CancellationToken cancellationToken)
    {
        if (_options.GitMirrorDirectory is { } mirror)
        {
            var fetched = await Git.MirrorAsync(url, mirror, _options.Limits.CloneTimeout, Note, cancellationToken).ConfigureAwait(false);
            Log.ScanStarted(_options.Logger, url, fetched ? "git mirror, fetched" : "git mirror, cloned");
            return await ScanGitAsync(url, mirror, cancellationToken).ConfigureAwait(false);
        }
        Log.ScanStarted(_options.Logger, url, "git clone");
        var directory = Path.Combine(Path.GetTempPath(), "leaknode-clone-" + Guid.NewGuid().ToString("N"));
        try
        {
            await Git.CloneMirrorAsync(url, directory, _options.Limits.CloneTimeout, cancellationToken).ConfigureAwait(false);
            return await ScanGitAsync(url, directory, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            DeleteQuietly(directory);
        }
    }

    /// <summary>
    /// The history of <paramref name="repository"/>: the refs are read first (they are the result's heads), then the
    /// history from them (less what <see cref="ScanOptions.GitSince"/> covers), then each finding is told whether its
    /// secret is still at HEAD.
    /// </summary>
    private async Task<ScanResult> ScanGitAsync(string target, string repository, CancellationToken cancellationToken)
    {
        var snapshot = await GitHistorySource.SnapshotAsync(repository, _options.GitSince, SinceDropped, cancellationToken).ConfigureAwait(false);
        var items = GitHistorySource.EnumerateAsync(
            repository, snapshot, _options.Limits, _options.Detectors, _options.Statistics, Notice, Math.Max(1, _options.Parallelism), cancellationToken);
        return await RunAsync(target, items, strictArchive: false, cancellationToken, async found =>
        {
            var marked = await GitHeadPresence.MarkAsync(repository, snapshot.Head, found, _options.Limits.MaxFileBytes, cancellationToken).ConfigureAwait(false);
            return (marked, snapshot.Heads);
        }).ConfigureAwait(false);

        void SinceDropped(string commit)
        {
            Note($"commit {commit} given as already scanned is not a commit of {target} (force-pushed away or garbage-collected); ignored, and what it covered scanned again");
        }
    }

    private async Task<ScanResult> ScanUrlsAsync(IReadOnlyList<Uri> urls, string target, bool failOnError, CancellationToken cancellationToken)
    {
        Log.ScanStarted(_options.Logger, target, "URLs");
        var ownClient = _options.HttpClient is null;
        var client = _options.HttpClient ?? UrlSource.CreateClient(_options.Limits);
        try
        {
            var items = UrlSource.EnumerateAsync(urls, client, _options.Limits, Notice, failOnError, cancellationToken);
            return await RunAsync(target, items, strictArchive: false, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (ownClient)
            {
                client.Dispose();
            }
        }
    }

    private readonly ConcurrentQueue<string> _notices = new();

    private void Notice(string notice)
    {
        _notices.Enqueue(notice);
        _options.Statistics.AddSkipped();
        Log.Skipped(_options.Logger, notice);
    }

    /// <summary>A notice about the scan itself rather than a skipped item (a mirror cloned again, a commit id ignored).</summary>
    private void Note(string note)
    {
        _notices.Enqueue(note);
        Log.Noted(_options.Logger, note);
    }

    /// <param name="finish">For git history: sets each finding's <see cref="Finding.AtHead"/> and names the heads scanned.</param>
    private async Task<ScanResult> RunAsync(
        string target, IAsyncEnumerable<ScanItem> items, bool strictArchive, CancellationToken cancellationToken,
        Func<IReadOnlyCollection<FoundIn>, Task<(List<Finding> Findings, IReadOnlyList<string> Heads)>>? finish = null)
    {
        var clock = Stopwatch.StartNew();
        var findings = new ConcurrentBag<FoundIn>();
        var parallel = new ParallelOptions
        {
            MaxDegreeOfParallelism = Math.Max(1, _options.Parallelism),
            CancellationToken = cancellationToken,
        };
        await Parallel.ForEachAsync(items, parallel, (item, _) =>
        {
            Process(item, 0, null, findings, strictArchive);
            return ValueTask.CompletedTask;
        }).ConfigureAwait(false);

        IReadOnlyList<string> heads = [];
        List<Finding> all;
        if (finish is not null)
        {
            (var marked, heads) = await finish(findings).ConfigureAwait(false);
            all = Order(marked);
        }
        else
        {
            all = Order(findings.Select(f => f.Finding));
        }
        var suppressed = 0;
        if (_options.Baseline is { } baseline)
        {
            suppressed = all.RemoveAll(baseline.Contains);
        }
        Log.ScanDone(_options.Logger, target, _options.Statistics.Documents, _options.Statistics.Bytes, all.Count, clock.ElapsedMilliseconds);
        return new ScanResult
        {
            Target = target,
            Findings = all,
            SuppressedByBaseline = suppressed,
            Notices = [.. _notices],
            Statistics = _options.Statistics,
            GitHeads = heads,
            Duration = clock.Elapsed,
        };
    }

    private void Process(ScanItem item, int depth, ArchiveBudget? budget, ConcurrentBag<FoundIn> findings, bool strictArchive)
    {
        var format = ArchiveExpander.Detect(item.Content);
        if (format != ArchiveExpander.Format.None)
        {
            if (depth >= _options.Limits.MaxArchiveDepth)
            {
                Notice($"{item.Origin.Path}: archive not opened, nested deeper than {_options.Limits.MaxArchiveDepth} levels");
                return;
            }
            budget ??= new ArchiveBudget(_options.Limits.MaxArchiveExpandedBytes);
            try
            {
                foreach (var entry in ArchiveExpander.Expand(item, format, _options.Limits, budget, Notice))
                {
                    Process(entry, depth + 1, budget, findings, strictArchive: false);
                }
            }
            catch (Exception e) when (e is InvalidDataException or IOException or NotSupportedException or FormatException)
            {
                var message = $"{item.Origin.Path}: unreadable {format.ToString().ToLowerInvariant()} archive ({e.Message})";
                if (strictArchive && depth == 0)
                {
                    throw new ScanException(message, e);
                }
                Notice(message);
            }
            return;
        }

        _options.Statistics.AddDocument(item.Content.Length);
        var found = _options.Inventory?.Scan(item.Content, item.Origin) ?? [];
        if (Decode(item.Content) is { } text)
        {
            var detected = _options.Detectors.Scan(text, item.Origin);
            // An inventory hit is certain; a detector finding over the same characters says less.
            detected.RemoveAll(d => found.Exists(i => i.StartLine == d.StartLine && i.StartColumn <= d.EndColumn && d.StartColumn <= i.EndColumn));
            found.AddRange(detected);
        }
        _options.Statistics.AddFindings(found.Count);
        foreach (var finding in found)
        {
            findings.Add(new FoundIn(finding, item.Origin.Blob));
        }
    }

    /// <summary>The document as text, or null when it is binary (only the inventory, which reads bytes, looks at it).</summary>
    private static string? Decode(byte[] content)
    {
        ReadOnlySpan<byte> bytes = content;
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            return Encoding.UTF8.GetString(bytes[3..]);
        }
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]))
        {
            return Encoding.Unicode.GetString(bytes[2..]);
        }
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
        {
            return Encoding.BigEndianUnicode.GetString(bytes[2..]);
        }
        if (bytes[..Math.Min(bytes.Length, BinaryProbeBytes)].Contains((byte)0))
        {
            return null;
        }
        return Encoding.UTF8.GetString(bytes);
    }

    private static List<Finding> Order(IEnumerable<Finding> findings) =>
        [.. findings
            .OrderBy(f => f.Path, StringComparer.Ordinal)
            .ThenBy(f => f.StartLine)
            .ThenBy(f => f.StartColumn)
            .ThenBy(f => f.RuleId, StringComparer.Ordinal)
            .ThenBy(f => f.Commit, StringComparer.Ordinal)];

    private static void DeleteQuietly(string directory)
    {
        try
        {
            Git.DeleteDirectory(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A temporary clone left behind is untidy, not wrong; the scan's result stands.
        }
    }
}
