using System.Diagnostics;
using System.Text;

namespace LeakNode.Testing.Processes;

/// <summary>
/// <c>leaknode</c> started as a real process from the CLI's build output (the configuration the tests were built
/// in), its standard output and error collected for assertions and for the test log when something fails.
/// </summary>
public sealed class LeakNodeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly object _gate = new();

    private LeakNodeProcess(Process process) => _process = process;

    public static string CliPath { get; } = FindCli();

    /// <summary>Everything the process wrote to stdout and stderr so far.</summary>
    public string Output
    {
        get
        {
            lock (_gate)
            {
                return _output.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    public static LeakNodeProcess Start(IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var start = StartInfo(arguments, environment, workingDirectory);
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var wrapper = new LeakNodeProcess(process);
        process.OutputDataReceived += (_, line) => wrapper.Append(line.Data);
        process.ErrorDataReceived += (_, line) => wrapper.Append(line.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return wrapper;
    }

    /// <summary>
    /// Runs a command that ends by itself (<c>scan</c>, <c>inventory …</c>) to its end, and returns its exit code and
    /// what it wrote to standard output and standard error, apart. Fails when it runs longer than <paramref name="timeout"/>.
    /// </summary>
    public static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(
        IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null, string? workingDirectory = null)
    {
        var list = arguments.ToList();
        using var process = Process.Start(StartInfo(list, environment, workingDirectory))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new ProcessExpectationException($"leaknode {string.Join(' ', list)} did not end within {timeout}. Output:\n{await stdout}{await stderr}");
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    private static ProcessStartInfo StartInfo(IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment, string? workingDirectory)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        start.ArgumentList.Add(CliPath);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        // The child must not inherit overrides meant for this test process, nor a developer's own settings.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("LEAKNODE_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(key);
        }
        if (environment is not null)
        {
            foreach (var (key, value) in environment)
            {
                start.Environment[key] = value;
            }
        }
        return start;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_gate)
        {
            _output.AppendLine(line);
        }
    }

    /// <summary>Waits until the output contains <paramref name="text"/>; fails with the output so far when it does not in time or the process exits.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            if (_process.HasExited)
            {
                throw new ProcessExpectationException($"leaknode exited with {_process.ExitCode} before writing '{text}'. Output:\n{Output}");
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new ProcessExpectationException($"leaknode did not write '{text}' within {timeout}. Output:\n{Output}");
            }
            await Task.Delay(50);
        }
    }

    /// <summary>Kills the process at once (a crash, a pulled plug): nothing is flushed.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, as docker stop and Kubernetes send, then waits for a clean exit.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        if (!_process.HasExited)
        {
            using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync();
        }
        using var wait = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(wait.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }

    private static string FindCli()
    {
        // The test assembly sits in tests/LeakNode.EndToEnd.Tests/bin/<Configuration>/net10.0/.
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var path = Repository.File(Path.Combine("src", "LeakNode.Cli", "bin", configuration, "net10.0", "leaknode.dll"));
        return File.Exists(path) ? path : throw new InvalidOperationException($"The CLI is not built at {path}: build the solution first.");
    }
}

/// <summary>A process did not do what a test waited for; the message carries its output. Fails the test that waited.</summary>
public sealed class ProcessExpectationException : Exception
{
    public ProcessExpectationException()
    {
    }

    public ProcessExpectationException(string message)
        : base(message)
    {
    }

    public ProcessExpectationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
