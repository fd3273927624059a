using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using LeakNode.Scanner.Detection;

namespace LeakNode.Scanner.Sources;

/// <summary>
/// Every blob that ever existed in a git repository's history (all refs), each read once and attributed to the
/// first commit that introduced it: its commit, author, date and path.
/// </summary>
/// <remarks>
/// <para>
/// Why the <c>git</c> command and not a libgit2 binding: git is on every machine that has a repository to scan
/// (and in every CI image); its object reading (packs, deltas, commit graphs, partial clones, SHA-256 repositories)
/// is the reference one and always current; and a binding ships a native library per platform for what two
/// streaming processes do here. The cost is two pipes, which run at git's own speed.
/// </para>
/// <para>
/// How: <c>git log --all --topo-order --reverse -m --raw --no-renames</c> lists, oldest first and parents before
/// children, every commit's changes against each of its parents (a root commit against the empty tree). A blob
/// reachable from any ref first appears in the diff of the commit that introduced it, so the first time a blob id
/// is seen names that commit; later sightings (the same file on another branch, a rename, a merge) are skipped.
/// The blobs' bytes come from one <c>git cat-file --batch</c> process, one request at a time.
/// </para>
/// </remarks>
internal static class GitHistorySource
{
    // Gitlinks (submodules) name commits of another repository; symbolic links hold a path, not content.
    private const string GitlinkMode = "160000";
    private const string SymlinkMode = "120000";

    public static bool IsRepository(string path)
    {
        if (Directory.Exists(Path.Combine(path, ".git")) || File.Exists(Path.Combine(path, ".git")))
        {
            return true;
        }
        // A bare repository (a mirror clone) has HEAD, objects/ and refs/ at its top.
        return File.Exists(Path.Combine(path, "HEAD")) && Directory.Exists(Path.Combine(path, "objects")) && Directory.Exists(Path.Combine(path, "refs"));
    }

    public static async IAsyncEnumerable<ScanItem> EnumerateAsync(
        string repository, ScanLimits limits, DetectorSet detectors, ScanStatistics statistics, Action<string> notice,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var log = Git.Start(repository,
            "-c", "core.quotePath=false", "log", "--all", "--topo-order", "--reverse", "-m", "--raw", "--no-renames",
            "--no-abbrev", "--no-color", "--format=format:\u0001%H\u001f%an\u001f%ae\u001f%aI\u001f%s");
        using var catFile = Git.Start(repository, "cat-file", "--batch");
        var blobs = new BlobReader(catFile);

        var seen = new HashSet<string>(StringComparer.Ordinal);
        DocumentOrigin? commit = null;
        string? line;
        while ((line = await log.StandardOutput.ReadLineAsync(cancellationToken).ConfigureAwait(false)) is not null)
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
            if (!seen.Add(blob))
            {
                continue;
            }
            var path = Unquote(line[(tab + 1)..]);
            if (detectors.IsPathAllowed(path))
            {
                statistics.AddSkipped();
                continue;
            }
            var content = await blobs.ReadAsync(blob, limits.MaxFileBytes, cancellationToken).ConfigureAwait(false);
            if (content is null)
            {
                notice($"{path} (blob {blob[..12]} in {commit.Commit![..12]}): skipped, over the {limits.MaxFileBytes}-byte file limit");
                continue;
            }
            yield return new ScanItem(commit with { Path = path }, content);
        }

        await log.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        catFile.StandardInput.Close();
        await catFile.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        if (log.ExitCode != 0)
        {
            var error = (await log.StandardError.ReadToEndAsync(cancellationToken).ConfigureAwait(false)).Trim();
            // A repository without a commit has no history: nothing to scan, not an error.
            if (!error.Contains("does not have any commits", StringComparison.Ordinal))
            {
                throw new ScanException($"git log failed in {repository}: {error}");
            }
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

    /// <summary>Reads blobs by id from a running <c>git cat-file --batch</c>.</summary>
    private sealed class BlobReader(Process process)
    {
        private readonly Stream _output = process.StandardOutput.BaseStream;
        private readonly StreamWriter _input = process.StandardInput;

        /// <summary>The blob's bytes, or null when it is larger than <paramref name="maxBytes"/> (then read past).</summary>
        public async Task<byte[]?> ReadAsync(string id, long maxBytes, CancellationToken cancellationToken)
        {
            await _input.WriteAsync(id + "\n").ConfigureAwait(false);
            await _input.FlushAsync(cancellationToken).ConfigureAwait(false);

            // "<id> blob <size>\n", then the bytes, then "\n"; "<id> missing\n" for an object not present.
            var header = await ReadHeaderAsync(cancellationToken).ConfigureAwait(false);
            var parts = header.Split(' ');
            if (parts.Length < 3)
            {
                return [];
            }
            var size = long.Parse(parts[2], CultureInfo.InvariantCulture);
            if (size > maxBytes)
            {
                await SkipAsync(size + 1, cancellationToken).ConfigureAwait(false);
                return null;
            }
            var content = new byte[size];
            await _output.ReadExactlyAsync(content, cancellationToken).ConfigureAwait(false);
            await SkipAsync(1, cancellationToken).ConfigureAwait(false);
            return content;
        }

        private async Task<string> ReadHeaderAsync(CancellationToken cancellationToken)
        {
            var header = new StringBuilder();
            var one = new byte[1];
            while (true)
            {
                await _output.ReadExactlyAsync(one, cancellationToken).ConfigureAwait(false);
                if (one[0] == '\n')
                {
                    return header.ToString();
                }
                header.Append((char)one[0]);
            }
        }

        private async Task SkipAsync(long count, CancellationToken cancellationToken)
        {
            var buffer = new byte[81920];
            while (count > 0)
            {
                var read = await _output.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, count)), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new ScanException("git cat-file ended before a blob was read whole");
                }
                count -= read;
            }
        }
    }
}
