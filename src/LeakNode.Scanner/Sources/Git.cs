using System.Diagnostics;

namespace LeakNode.Scanner.Sources;

/// <summary>Starts the <c>git</c> command, with a clear error when it is missing.</summary>
internal static class Git
{
    public static Process Start(string? workingDirectory, params string[] arguments)
    {
        var info = new ProcessStartInfo("git")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (workingDirectory is not null)
        {
            info.ArgumentList.Add("-C");
            info.ArgumentList.Add(workingDirectory);
        }
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        // Never prompt for credentials: a scan runs unattended, and a prompt would hang it.
        info.Environment["GIT_TERMINAL_PROMPT"] = "0";
        try
        {
            return Process.Start(info) ?? throw new ScanException("could not start git");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new ScanException("scanning a git repository needs the 'git' command on PATH; it was not found", e);
        }
    }

    /// <summary>Clones <paramref name="url"/> (all refs, as a mirror) into <paramref name="directory"/>.</summary>
    public static async Task CloneMirrorAsync(string url, string directory, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var process = Start(null, "clone", "--mirror", "--quiet", "--", url, directory);
        process.StandardInput.Close();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            throw new ScanException($"cloning {url} took longer than {timeout.TotalSeconds:0} seconds");
        }
        if (process.ExitCode != 0)
        {
            throw new ScanException($"could not clone {url}: {(await stderr.ConfigureAwait(false)).Trim()}");
        }
    }
}
