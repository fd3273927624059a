using System.Text;

namespace LeakNode.Scanner.Sources;

/// <summary>A finding with the blob its document was read from (null outside git history).</summary>
internal readonly record struct FoundIn(Finding Finding, string? Blob);

/// <summary>
/// Decides, for each finding of a history scan, whether its secret is still in HEAD's tree (<see cref="Finding.AtHead"/>):
/// a secret that lives only in history is leaked but no longer served; one at HEAD is in every fresh clone.
/// </summary>
/// <remarks>
/// Two steps, cheapest first. A finding whose blob is in HEAD's tree is there (the file is unchanged since, or
/// moved unchanged: a blob id names its bytes, not its path). Every other secret is searched for, as bytes, in
/// every blob of HEAD's tree: the file was edited elsewhere and still holds it, or the secret was copied into
/// another file, or (in an incremental scan) it sits in a blob an earlier scan read. This reads HEAD's files once,
/// and only when a finding is not settled by the first step: a checkout is a small part of a history.
/// Limits: a blob over <see cref="ScanLimits.MaxFileBytes"/> is not searched, and a secret inside a compressed
/// archive that changed since is not seen in its bytes.
/// </remarks>
internal static class GitHeadPresence
{
    public static async Task<List<Finding>> MarkAsync(string repository, string? head, IReadOnlyCollection<FoundIn> found, long maxBytes, CancellationToken cancellationToken)
    {
        if (found.Count == 0)
        {
            return [];
        }
        var tree = head is null ? new HeadTree([], []) : await ReadTreeAsync(repository, head, cancellationToken).ConfigureAwait(false);

        var present = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (finding, blob) in found)
        {
            if (blob is not null && tree.Blobs.Contains(blob))
            {
                present.Add(finding.Secret);
            }
        }
        var searched = found.Select(f => f.Finding.Secret).Where(s => s.Length > 0 && !present.Contains(s)).Distinct(StringComparer.Ordinal).ToList();
        if (searched.Count > 0 && tree.Blobs.Count > 0)
        {
            await SearchAsync(repository, tree.Blobs, searched, present, maxBytes, cancellationToken).ConfigureAwait(false);
        }

        return [.. found.Select(f => f.Finding with
        {
            AtHead = f.Blob is not null && tree.Blobs.Contains(f.Blob)
                || (f.Finding.Secret.Length > 0 ? present.Contains(f.Finding.Secret) : tree.Paths.Contains(f.Finding.Path)),
        })];
    }

    private sealed record HeadTree(HashSet<string> Blobs, HashSet<string> Paths);

    private static async Task<HeadTree> ReadTreeAsync(string repository, string head, CancellationToken cancellationToken)
    {
        var listing = await Git.RunAsync(repository, null, cancellationToken, "-c", "core.quotePath=false", "ls-tree", "-r", "-z", "--full-tree", head).ConfigureAwait(false);
        if (listing.ExitCode != 0)
        {
            throw new ScanException($"git ls-tree failed in {repository}: {listing.Error}");
        }
        var blobs = new HashSet<string>(StringComparer.Ordinal);
        var paths = new HashSet<string>(StringComparer.Ordinal);
        // <mode> SP <type> SP <id> TAB <path> NUL; with -z the path is not quoted.
        foreach (var entry in listing.Text.Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            var tab = entry.IndexOf('\t', StringComparison.Ordinal);
            var fields = tab < 0 ? [] : entry[..tab].Split(' ');
            if (fields.Length == 3 && fields[1] == "blob")
            {
                blobs.Add(fields[2]);
                paths.Add(entry[(tab + 1)..]);
            }
        }
        return new HeadTree(blobs, paths);
    }

    /// <summary>Reads HEAD's blobs through one cat-file and moves each secret found in one to <paramref name="present"/>.</summary>
    private static async Task SearchAsync(
        string repository, HashSet<string> blobs, List<string> secrets, HashSet<string> present, long maxBytes, CancellationToken cancellationToken)
    {
        var needles = secrets.Select(s => (Secret: s, Bytes: Encoding.UTF8.GetBytes(s))).ToList();
        using var catFile = Git.Start(repository, "cat-file", "--batch");
        var errors = catFile.StandardError.ReadToEndAsync(CancellationToken.None);
        // Every id is written at once by one task while this one reads the answers: nothing waits on a round trip.
        var asking = Task.Run(async () =>
        {
            try
            {
                foreach (var blob in blobs)
                {
                    await catFile.StandardInput.WriteAsync((blob + "\n").AsMemory(), cancellationToken).ConfigureAwait(false);
                }
                catFile.StandardInput.Close();
            }
            catch (IOException)
            {
                // cat-file was ended early: every secret was found before all blobs were read.
            }
        }, cancellationToken);
        try
        {
            await Task.Run(() =>
            {
                var reader = new GitObjectReader(catFile.StandardOutput.BaseStream);
                for (var i = 0; i < blobs.Count && needles.Count > 0; i++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var size = reader.ReadHeader();
                    if (size < 0)
                    {
                        continue;
                    }
                    if (size > maxBytes)
                    {
                        reader.Skip(size + 1);
                        continue;
                    }
                    var content = reader.ReadContent(size);
                    needles.RemoveAll(n =>
                    {
                        if (content.AsSpan().IndexOf(n.Bytes) < 0)
                        {
                            return false;
                        }
                        present.Add(n.Secret);
                        return true;
                    });
                }
            }, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Git.Kill(catFile);
            await asking.ContinueWith(static _ => { }, TaskScheduler.Default).ConfigureAwait(false);
            _ = await errors.ConfigureAwait(false);
        }
    }
}
