using System.Globalization;
using LeakNode.Scanner;

namespace LeakNode.Cli;

/// <summary>
/// One self-rewriting status line on standard error while a scan runs, for a person at a terminal only: when
/// standard error is redirected (CI logs, a pipe) nothing is drawn, so logs never fill with carriage returns.
/// </summary>
internal sealed class ProgressDisplay : IDisposable
{
    // Four redraws a second reads as live without costing the scan anything measurable.
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    // Short scans finish before the line would be useful; drawing it would only flash.
    private static readonly TimeSpan Delay = TimeSpan.FromSeconds(1);

    private readonly ScanStatistics _statistics;
    private readonly TextWriter _error;
    private readonly Timer _timer;
    private readonly Lock _gate = new();
    private int _drawn;
    private int _frame;

    private ProgressDisplay(ScanStatistics statistics, TextWriter error)
    {
        _statistics = statistics;
        _error = error;
        _timer = new Timer(_ => Draw(), null, Delay, Interval);
    }

    public static IDisposable? StartIfTerminal(ScanStatistics statistics, TextWriter error) =>
        Console.IsErrorRedirected ? null : new ProgressDisplay(statistics, error);

    private void Draw()
    {
        lock (_gate)
        {
            var spinner = "|/-\\"[_frame++ % 4];
            var line = string.Create(CultureInfo.InvariantCulture,
                $"{spinner} scanning: {_statistics.Documents:N0} documents, {_statistics.Bytes / (1024.0 * 1024):0.0} MiB, {_statistics.Findings:N0} findings");
            _error.Write("\r" + line.PadRight(_drawn));
            _drawn = line.Length;
        }
    }

    public void Dispose()
    {
        _timer.Dispose();
        lock (_gate)
        {
            if (_drawn > 0)
            {
                _error.Write("\r" + new string(' ', _drawn) + "\r");
                _drawn = 0;
            }
        }
    }
}
