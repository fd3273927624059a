using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Channels;
using LeakNode.Scanner.Detection;

namespace LeakNode.Scanner.Sources;

/// <summary>
/// The commits a history scan starts from, read once before the history: every ref's commit (the scan's
/// <see cref="ScanResult.GitHeads"/>), HEAD's commit, and the already-scanned commits that still exist.
/// </summary>
internal sealed record GitSnapshot(IReadOnlyList<string> Heads, string? Head, IReadOnlyList<string> Since);

/// <summary>
/// Every blob that ever existed in a git repository's history (all refs), each read once and attributed to the
/// first commit that introduced it: its commit, author, date and path. With already-scanned commits
/// (<see cref="ScanOptions.GitSince"/>), only the commits not reachable from them, and only the blobs they brought.
/// </summary>
/// <remarks>
/// <para>
/// Why the <c>git</c> command and not a libgit2 binding: git is on every machine that has a repository to scan
/// (and in every CI image); its object reading (packs, deltas, commit graphs, partial clones, SHA-256 repositories)
/// is the reference one and always current; and a binding ships a native library per platform for what two
/// streaming processes do here. The cost is two pipes, which run at git's own speed.
/// </para>
/// <para>
/// How: <c>git log --topo-order --reverse -m --raw --no-renames</c> over the snapshot's heads lists, oldest first and
/// parents before children, every commit's changes against each of its parents (a root commit against the empty
/// tree). A blob first appears in the diff of the commit that introduced it, so the first time a blob id is seen
/// names that commit; later sightings (the same file on another branch, a rename, a merge) are skipped. The log is
/// given the heads read beforehand rather than <c>--all</c>, so that a ref moved during the scan cannot make the
/// scanned history and the reported heads disagree.
/// </para>
/// <para>
/// The pipeline: one thread reads the log and writes the id of each new blob to a <c>git cat-file --batch</c>
/// without waiting for the answer; another reads the answers in the same order and hands whole blobs to the
/// scan's workers. Waiting for each blob before asking for the next (as this class first did) left git, the
/// detectors and the pipes taking turns: on the benchmark repository, the scan spent more time waiting than working.
/// </para>
/// </remarks>
internal static class GitHistorySource
{
    // Gitlinks (submodules) name commits of another repository; symbolic links hold a path, not content.
    private const string GitlinkMode = "160000";
    private const string SymlinkMode = "120000";

    // Blob ids in flight between the log reader and the blob reader: enough to keep cat-file busy, few enough to
    // keep the memory of ids small. Each blob read is handed over through a channel of twice the workers.
    private const int RequestsInFlight = 4096;

    public static bool IsRepository(string path)
    {
        if (Directory.Exists(Path.Combine(path, ".git")) || File.Exists(Path.Combine(path, ".git")))
        {
            return true;
        }
        // A bare repository (a mirror clone) has HEAD, objects/ and refs/ at its top.
        return File.Exists(Path.Combine(path, "HEAD")) && Directory.Exists(Path.Combine(path, "objects")) && Directory.Exists(Path.Combine(path, "refs"));
    }

    /// <summary>
    /// Reads the commits every ref points at (tags peeled; refs to trees or blobs left out), HEAD's commit, and which of
    /// <paramref name="since"/> exist as commits; each one that does not is passed to <paramref name="dropped"/>.
    /// One <c>git cat-file --batch-check</c> answers all three: <c>id^{commit}</c> is what <c>git cat-file -e
    /// id^{commit}</c> tests, for every id at once.
    /// </summary>
    public static async Task<GitSnapshot> SnapshotAsync(string repository, IReadOnlyList<string> since, Action<string> dropped, CancellationToken cancellationToken)
    {
        var refs = await Git.RunAsync(repository, null, cancellationToken, "for-each-ref", "--format=%(objectname)").ConfigureAwait(false);
        if (refs.ExitCode != 0)
        {
            throw new ScanException($"git for-each-ref failed in {repository}: {refs.Error}");
        }
        var refObjects = refs.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToList();
        var sinceIds = new List<string>();
        foreach (var id in since.Distinct(StringComparer.Ordinal))
        {
            // Only object ids: anything else (a ref name, "HEAD~3", an option) would be resolved or parsed by git.
            if (IsObjectId(id))
            {
                sinceIds.Add(id.ToLowerInvariant());
            }
            else
            {
                dropped(id);
            }
        }

        string[] questions = ["HEAD", .. refObjects, .. sinceIds];
        var answers = await Git.RunAsync(repository, questions.Select(q => q + "^{commit}"), cancellationToken,
            "cat-file", "--batch-check=%(objectname)").ConfigureAwait(false);
        var lines = answers.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (answers.ExitCode != 0 || lines.Length != questions.Length)
        {
            throw new ScanException($"git cat-file --batch-check failed in {repository}: {answers.Error}");
        }

        // A failed question is echoed back with " missing" (or " ambiguous") after it; an answer is the commit id alone.
        static string? Commit(string answer) => answer.Contains(' ', StringComparison.Ordinal) ? null : answer;
        var head = Commit(lines[0]);
        var heads = new List<string>();
        var distinct = new HashSet<string>(StringComparer.Ordinal);
        // HEAD counts as a head: `git log --all` reads it too, and a detached HEAD is on no ref.
        foreach (var answer in lines.AsSpan(0, 1 + refObjects.Count))
        {
            if (Commit(answer) is { } commit && distinct.Add(commit))
            {
                heads.Add(commit);
            }
        }
        var known = new List<string>();
        for (var i = 0; i < sinceIds.Count; i++)
        {
            if (Commit(lines[1 + refObjects.Count + i]) is { } commit)
            {
                known.Add(commit);
            }
            else
            {
                dropped(sinceIds[i]);
            }
        }
        return new GitSnapshot(heads, head, known);
    }

    private static bool IsObjectId(string id) => id.Length is >= 4 and <= 64 && id.All(char.IsAsciiHexDigit);

    public static async IAsyncEnumerable<ScanItem> EnumerateAsync(
        string repository, GitSnapshot snapshot, ScanLimits limits, DetectorSet detectors, ScanStatistics statistics, Action<string> notice,
        int parallelism, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (snapshot.Heads.Count == 0)
        {
            // No commit on any ref: no history.
            yield break;
        }
        // The revisions, as `git log --stdin` and `git rev-list --stdin` read them: heads, then ^commit for each
        // commit already scanned (the history reachable from those is left out).
        string[] revisions = [.. snapshot.Heads, .. snapshot.Since.Select(s => "^" + s)];
        var fresh = snapshot.Since.Count > 0 ? await NewObjectsAsync(repository, revisions, cancellationToken).ConfigureAwait(false) : null;

        using var log = Git.Start(repository,
            "-c", "core.quotePath=false", "log", "--stdin", "--topo-order", "--reverse", "-m", "--raw", "--no-renames",
            "--no-abbrev", "--no-color", "--format=format:\u0001%H\u001f%an\u001f%ae\u001f%aI\u001f%s");
        using var catFile = Git.Start(repository,
            "-c", "core.deltaBaseCacheLimit=" + limits.GitDeltaBaseCacheBytes.ToString(CultureInfo.InvariantCulture), "cat-file", "--batch");
        var logErrors = log.StandardError.ReadToEndAsync(CancellationToken.None);
        var catFileErrors = catFile.StandardError.ReadToEndAsync(CancellationToken.None);

        var requests = Channel.CreateBounded<(DocumentOrigin Origin, string Blob)>(
            new BoundedChannelOptions(RequestsInFlight) { SingleReader = true, SingleWriter = true });
        var items = Channel.CreateBounded<ScanItem>(new BoundedChannelOptions(Math.Max(2, 2 * parallelism)) { SingleReader = false, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        var listing = Task.Factory.StartNew(
            () => ListBlobs(log, revisions, catFile.StandardInput, requests.Writer, fresh, detectors, statistics, stop.Token),
            stop.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        var reading = Task.Factory.StartNew(
            () => ReadBlobs(catFile, requests.Reader, items.Writer, limits, notice, stop.Token),
            stop.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        var finished = false;
        try
        {
            await foreach (var item in items.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return item;
            }
            await listing.ConfigureAwait(false);
            await reading.ConfigureAwait(false);
            await log.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            await catFile.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            finished = true;
        }
        finally
        {
            if (!finished)
            {
                // The consumer stopped early (an error, a cancellation): end both processes, so the threads that
                // read them see the end of their pipes and stop.
                stop.Cancel();
                Git.Kill(log);
                Git.Kill(catFile);
                await Task.WhenAll(listing, reading).ContinueWith(static _ => { }, TaskScheduler.Default).ConfigureAwait(false);
            }
        }

        if (log.ExitCode != 0)
        {
            var error = (await logErrors.ConfigureAwait(false)).Trim();
            // A repository without a commit has no history: nothing to scan, not an error.
            if (!error.Contains("does not have any commits", StringComparison.Ordinal))
            {
                throw new ScanException($"git log failed in {repository}: {error}");
            }
        }
        if (catFile.ExitCode != 0)
        {
            throw new ScanException($"git cat-file failed in {repository}: {(await catFileErrors.ConfigureAwait(false)).Trim()}");
        }
    }

    /// <summary>
    /// The objects reachable from the heads but not from the commits already scanned: <c>git rev-list --objects</c>
    /// marks the trees of those commits (and of the commits where the new history meets the old) as already seen, so
    /// a blob an old commit held is left out even where a new merge's diff names it again.
    /// </summary>
    private static async Task<HashSet<string>> NewObjectsAsync(string repository, string[] revisions, CancellationToken cancellationToken)
    {
        var objects = await Git.RunAsync(repository, revisions, cancellationToken, "rev-list", "--objects", "--stdin").ConfigureAwait(false);
        if (objects.ExitCode != 0)
        {
            throw new ScanException($"git rev-list failed in {repository}: {objects.Error}");
        }
        var fresh = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in objects.Text.AsSpan().EnumerateLines())
        {
            var space = line.IndexOf(' ');
            var id = space < 0 ? line : line[..space];
            if (!id.IsEmpty)
            {
                fresh.Add(id.ToString());
            }
        }
        return fresh;
    }

    /// <summary>Reads the log; writes each new blob's id to cat-file and queues its origin for <see cref="ReadBlobs"/>.</summary>
    private static void ListBlobs(
        Process log, string[] revisions, StreamWriter catFileInput, ChannelWriter<(DocumentOrigin, string)> requests, HashSet<string>? fresh,
        DetectorSet detectors, ScanStatistics statistics, CancellationToken cancellationToken)
    {
        Exception? failure = null;
        try
        {
            try
            {
                foreach (var revision in revisions)
                {
                    log.StandardInput.Write(revision + "\n");
                }
                log.StandardInput.Close();
            }
            catch (IOException)
            {
                // git log refused the revisions and ended: its exit code and message say why, after the loop below.
            }

            var seen = new HashSet<string>(StringComparer.Ordinal);
            DocumentOrigin? commit = null;
            string? line;
            while ((line = log.StandardOutput.ReadLine()) is not null)
            {
                if (line.StartsWith('\u0001'))
                {
                    commit = ParseCommit(line);
                    continue;
                }
                if (!line.StartsWith(':') || commit is null)
                {
                    continue;
                }
                // :<old mode> <new mode> <old id> <new id> <status>\t<path>
                var tab = line.IndexOf('\t', StringComparison.Ordinal);
                if (tab < 0)
                {
                    continue;
                }
                var fields = line[1..tab].Split(' ');
                if (fields.Length < 5 || fields[4].StartsWith('D') || fields[1] is GitlinkMode or SymlinkMode)
                {
                    continue;
                }
                var blob = fields[3];
                if (!seen.Add(blob) || (fresh is not null && !fresh.Contains(blob)))
                {
                    continue;
                }
                var path = Unquote(line[(tab + 1)..]);
                if (detectors.IsPathAllowed(path))
                {
                    statistics.AddSkipped();
                    continue;
                }
                catFileInput.Write(blob);
                catFileInput.Write('\n');
                // Flushed at once: the blob reader is waiting for exactly this answer when the queue runs dry.
                catFileInput.Flush();
                var queued = requests.TryWrite((commit with { Path = path, Blob = blob }, blob));
                if (!queued)
                {
                    requests.WriteAsync((commit with { Path = path, Blob = blob }, blob), cancellationToken).AsTask().GetAwaiter().GetResult();
                }
            }
        }
        catch (OperationCanceledException e)
        {
            failure = e;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            failure = new ScanException("reading git log failed: " + e.Message, e);
        }
        finally
        {
            try
            {
                catFileInput.Close();
            }
            catch (IOException)
            {
                // cat-file is gone already; the reader reports it.
            }
            requests.TryComplete(failure);
        }
    }

    /// <summary>Reads cat-file's answers in the order asked and hands each blob to the scan's workers.</summary>
    private static void ReadBlobs(
        Process catFile, ChannelReader<(DocumentOrigin Origin, string Blob)> requests, ChannelWriter<ScanItem> items, ScanLimits limits,
        Action<string> notice, CancellationToken cancellationToken)
    {
        Exception? failure = null;
        try
        {
            var reader = new GitObjectReader(catFile.StandardOutput.BaseStream);
            while (requests.WaitToReadAsync(cancellationToken).AsTask().GetAwaiter().GetResult())
            {
                while (requests.TryRead(out var request))
                {
                    var size = reader.ReadHeader();
                    if (size < 0)
                    {
                        // A blob named by a tree but absent (a partial clone, a damaged repository): nothing to read.
                        notice($"{request.Origin.Path} (blob {request.Blob[..12]} in {request.Origin.Commit![..12]}): skipped, git cannot read it");
                        continue;
                    }
                    if (size > limits.MaxFileBytes)
                    {
                        reader.Skip(size + 1);
                        notice($"{request.Origin.Path} (blob {request.Blob[..12]} in {request.Origin.Commit![..12]}): skipped, over the {limits.MaxFileBytes}-byte file limit");
                        continue;
                    }
                    var item = new ScanItem(request.Origin, reader.ReadContent(size));
                    if (!items.TryWrite(item))
                    {
                        items.WriteAsync(item, cancellationToken).AsTask().GetAwaiter().GetResult();
                    }
                }
            }
        }
        catch (ChannelClosedException e) when (e.InnerException is { } inner)
        {
            // The log reader failed: its error is the scan's.
            failure = inner;
        }
        catch (Exception e) when (e is OperationCanceledException or ScanException)
        {
            failure = e;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            failure = new ScanException("reading blobs from git cat-file failed: " + e.Message, e);
        }
        finally
        {
            items.TryComplete(failure);
        }
    }

    private static DocumentOrigin ParseCommit(string line)
    {
        var parts = line[1..].Split('\u001f');
        return new DocumentOrigin("")
        {
            Commit = parts[0],
            Author = parts.Length > 1 ? parts[1] : null,
            Email = parts.Length > 2 ? parts[2] : null,
            Date = parts.Length > 3 && DateTimeOffset.TryParse(parts[3], CultureInfo.InvariantCulture, DateTimeStyles.None, out var date) ? date : null,
            Message = parts.Length > 4 ? parts[4] : null,
        };
    }

    /// <summary>
    /// Undoes git's C-style quoting of a path ("a\tb", octal escapes for bytes it will not print raw even with
    /// <c>core.quotePath=false</c>), decoding the bytes as UTF-8.
    /// </summary>
    internal static string Unquote(string path)
    {
        if (path.Length < 2 || path[0] != '"' || path[^1] != '"')
        {
            return path;
        }
        var bytes = new List<byte>(path.Length);
        for (var i = 1; i < path.Length - 1; i++)
        {
            var c = path[i];
            if (c != '\\')
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(c.ToString()));
                continue;
            }
            var next = path[++i];
            if (next is >= '0' and <= '7' && i + 2 < path.Length)
            {
                bytes.Add(Convert.ToByte(path.Substring(i, 3), 8));
                i += 2;
                continue;
            }
            bytes.Add(next switch
            {
                'a' => 7,
                'b' => 8,
                't' => 9,
                'n' => 10,
                'v' => 11,
                'f' => 12,
                'r' => 13,
                _ => (byte)next,
            });
        }
        return Encoding.UTF8.GetString([.. bytes]);
    }
}
