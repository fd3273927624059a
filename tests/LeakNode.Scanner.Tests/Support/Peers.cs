namespace LeakNode.Scanner.Tests.Support;

/// <summary>
/// Finds the peers' data (other projects' files kept for compatibility tests) beside the repository: the first
/// folder above the repository root that holds <c>shared/peers</c>. Never copied into the repository.
/// </summary>
public static class Peers
{
    /// <summary>The gitleaks folder (config/, testdata/), or null when the peers' data is not on this machine.</summary>
    public static string? Gitleaks => Find("gitleaks");

    private static string? Find(string name)
    {
        var root = RepositoryRoot();
        if (root is null)
        {
            return null;
        }
        // In a linked worktree (git worktree add), .git is a file naming the main repository's git folder: the
        // peers' data sits beside the main repository, so its folders are searched too.
        List<string> starts = [root];
        var dotGit = Path.Combine(root, ".git");
        if (File.Exists(dotGit) && File.ReadAllText(dotGit).Trim() is var text && text.StartsWith("gitdir:", StringComparison.Ordinal))
        {
            starts.Add(text["gitdir:".Length..].Trim());
        }
        foreach (var start in starts)
        {
            for (var folder = new DirectoryInfo(start); folder is not null; folder = folder.Parent)
            {
                var candidate = Path.Combine(folder.FullName, "shared", "peers", name);
                if (Directory.Exists(candidate))
                {
                    return candidate;
                }
            }
        }
        return null;
    }

    private static string? RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "LeakNode.sln")))
            {
                return folder.FullName;
            }
        }
        return null;
    }

    /// <summary>Skips the calling test, saying why, when the gitleaks data is absent.</summary>
    public static string RequireGitleaks()
    {
        var folder = Gitleaks;
        if (folder is null)
        {
            Assert.Skip("did not run: the gitleaks peer data (shared/peers/gitleaks beside the repository) is not on this machine");
        }
        return folder;
    }
}
