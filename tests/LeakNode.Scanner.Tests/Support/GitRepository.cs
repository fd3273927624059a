using System.Diagnostics;

namespace LeakNode.Scanner.Tests.Support;

/// <summary>A real git repository in a temp folder, driven through the git command as a person would.</summary>
public sealed class GitRepository : IDisposable
{
    private readonly TempFolder _folder = new();
    private int _clock;

    public GitRepository()
    {
        Run("init", "-q", "-b", "main");
        Run("config", "user.name", "Test Author");
        Run("config", "user.email", "author@example.test");
        Run("config", "commit.gpgsign", "false");
    }

    public string Path => _folder.Path;

    public string FileUrl => new Uri(Path).AbsoluteUri;

    public void Write(string relative, string content) => _folder.Write(relative, content);

    public void Write(string relative, byte[] content) => _folder.Write(relative, content);

    /// <summary>Stages everything and commits; returns the new commit's id. Dates advance a day a commit.</summary>
    public string Commit(string message)
    {
        Run("add", "-A");
        var date = new DateTimeOffset(2024, 1, 1, 12, 0, 0, TimeSpan.Zero).AddDays(_clock++).ToString("O");
        Run(new Dictionary<string, string> { ["GIT_AUTHOR_DATE"] = date, ["GIT_COMMITTER_DATE"] = date }, "commit", "-q", "-m", message);
        return Run("rev-parse", "HEAD").Trim();
    }

    public string Run(params string[] arguments) => Run(null, arguments);

    private string Run(Dictionary<string, string>? environment, params string[] arguments)
    {
        var info = new ProcessStartInfo("git")
        {
            WorkingDirectory = Path,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        foreach (var (key, value) in environment ?? [])
        {
            info.Environment[key] = value;
        }
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"git {string.Join(' ', arguments)} failed: {error}");
        }
        return output;
    }

    public void Dispose() => _folder.Dispose();
}
