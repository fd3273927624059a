using System.Diagnostics;
using LeakNode.Cloud.Sources;
using LeakNode.Scanner;

namespace LeakNode.Cli;

/// <summary>
/// How <c>leaknode scan --cloud</c> names what it scanned, so that a leak's source says where the token is for
/// everyone, not where it was on the scanning machine: a repository by its <c>origin</c> remote (without
/// credentials), a local repository without a remote by its <c>file://</c> URL, a folder or file by its full path,
/// a URL as given (without credentials).
/// </summary>
internal static class CloudTarget
{
    public static string Of(string target)
    {
        if (Uri.TryCreate(target, UriKind.Absolute, out var uri) && !uri.IsFile)
        {
            return SourceKinds.WithoutCredentials(target);
        }
        var path = Path.GetFullPath(target);
        if (!Directory.Exists(path) || !SecretScanner.IsGitRepository(path))
        {
            return path;
        }
        return RemoteOf(path) is { } remote ? SourceKinds.WithoutCredentials(remote) : new Uri(path).AbsoluteUri;
    }

    /// <summary>The repository's <c>origin</c> URL, or null when it has none (or git is not there to say).</summary>
    private static string? RemoteOf(string repository)
    {
        try
        {
            var info = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var argument in new[] { "-C", repository, "config", "--get", "remote.origin.url" })
            {
                info.ArgumentList.Add(argument);
            }
            using var git = Process.Start(info)!;
            var url = git.StandardOutput.ReadToEnd().Trim();
            git.StandardError.ReadToEnd();
            git.WaitForExit();
            return git.ExitCode == 0 && url.Length > 0 ? url : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
