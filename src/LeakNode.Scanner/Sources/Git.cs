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

    /// <summary>The result of a short git command run to its end.</summary>
    public readonly record struct Output(int ExitCode, string Text, string Error);

    /// <summary>
    /// Runs a short git command to its end, feeding it <paramref name="input"/> lines, and returns what it printed.
    /// Standard input, output and error are served at once, so that a command that prints while it reads never
    /// blocks on a full pipe.
    /// </summary>
    public static async Task<Output> RunAsync(string? workingDirectory, IEnumerable<string>? input, CancellationToken cancellationToken, params string[] arguments)
    {
        using var process = Start(workingDirectory, arguments);
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            foreach (var line in input ?? [])
            {
                await process.StandardInput.WriteAsync((line + "\n").AsMemory(), cancellationToken).ConfigureAwait(false);
            }
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The command ended before reading all its input; its exit code and error say why.
        }
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            throw;
        }
        return new Output(process.ExitCode, await stdout.ConfigureAwait(false), (await stderr.ConfigureAwait(false)).Trim());
    }

    /// <summary>Ends a git process and its children if it still runs; for clean-up paths, so it never throws.</summary>
    public static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            // Already gone.
        }
    }

    /// <summary>Clones <paramref name="url"/> (all refs, as a mirror) into <paramref name="directory"/>.</summary>
    public static Task CloneMirrorAsync(string url, string directory, TimeSpan timeout, CancellationToken cancellationToken) =>
        RunTimedAsync(null, ["clone", "--mirror", "--quiet", "--", url, directory], timeout, $"cloning {url}", "could not clone " + url, cancellationToken);

    /// <summary>
    /// Keeps a bare mirror of <paramref name="url"/> in <paramref name="directory"/>: fetches into it when it is already
    /// a mirror of that URL, clones it otherwise. A mirror git cannot read or update (a broken object store, a
    /// half-written clone, HEAD or config overwritten) is cloned again beside it and swapped in, so a failed clone
    /// leaves the old mirror where it was.
    /// </summary>
    /// <returns>True when an existing mirror was fetched into, false when the mirror was cloned.</returns>
    public static async Task<bool> MirrorAsync(string url, string directory, TimeSpan timeout, Action<string> notice, CancellationToken cancellationToken)
    {
        var full = Path.GetFullPath(directory);
        if (Directory.Exists(full) && Directory.EnumerateFileSystemEntries(full).Any())
        {
            var origin = await RunAsync(null, null, cancellationToken, "--git-dir=" + full, "config", "--get", "remote.origin.url").ConfigureAwait(false);
            var bare = await RunAsync(null, null, cancellationToken, "--git-dir=" + full, "rev-parse", "--is-bare-repository").ConfigureAwait(false);
            if (origin.ExitCode == 0 && bare.ExitCode == 0 && origin.Text.Trim() == url && bare.Text.Trim() == "true")
            {
                try
                {
                    // A mirror's refspec is +refs/*:refs/*: --prune drops refs deleted upstream, --force takes
                    // force-pushed ones as they are now.
                    await RunTimedAsync(null, ["--git-dir=" + full, "fetch", "--prune", "--force", "--quiet", "origin"], timeout,
                        $"fetching {url} into {full}", "could not update the mirror of " + url, cancellationToken).ConfigureAwait(false);
                    return true;
                }
                catch (ScanException e)
                {
                    notice($"{full}: the mirror of {url} could not be updated ({e.Message}); cloning it again");
                }
            }
            else if (!LooksLikeGitDirectory(full))
            {
                // Never delete a folder that holds something else: the option may point at the wrong place.
                throw new ScanException($"the mirror folder {full} is neither empty nor a git repository; it is left as it is");
            }
            else
            {
                notice($"{full}: not a readable mirror of {url} ({(origin.ExitCode != 0 ? origin.Error : "origin " + origin.Text.Trim())}); cloning it again");
            }
        }

        var parent = Path.GetDirectoryName(full) ?? throw new ScanException($"the mirror folder {full} has no parent folder");
        Directory.CreateDirectory(parent);
        var fresh = Path.Combine(parent, Path.GetFileName(full) + ".cloning-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            await CloneMirrorAsync(url, fresh, timeout, cancellationToken).ConfigureAwait(false);
            DeleteDirectory(full);
            Directory.Move(fresh, full);
        }
        finally
        {
            DeleteDirectory(fresh);
        }
        return false;
    }

    private static bool LooksLikeGitDirectory(string directory) =>
        File.Exists(Path.Combine(directory, "HEAD")) || Directory.Exists(Path.Combine(directory, "objects")) ||
        Directory.Exists(Path.Combine(directory, "refs")) || File.Exists(Path.Combine(directory, "config"));

    /// <summary>Deletes a folder and everything in it, clearing the read-only mark git puts on pack files.</summary>
    public static void DeleteDirectory(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return;
        }
        foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
        {
            File.SetAttributes(file, FileAttributes.Normal);
        }
        Directory.Delete(directory, recursive: true);
    }

    private static async Task RunTimedAsync(string? workingDirectory, string[] arguments, TimeSpan timeout, string doing, string failure, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        Output result;
        try
        {
            result = await RunAsync(workingDirectory, null, deadline.Token, arguments).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ScanException($"{doing} took longer than {timeout.TotalSeconds:0} seconds");
        }
        if (result.ExitCode != 0)
        {
            throw new ScanException($"{failure}: {result.Error}");
        }
    }
}
