using LeakNode.Matching;
using LeakNode.Matching.Digests;
using LeakNode.Node.Configuration;
using Microsoft.Extensions.Logging;

namespace LeakNode.Node.Rules;

/// <summary>
/// Loads <c>Rules:File</c> at start and again whenever it changes; a file that fails to load leaves the previous
/// rule set in force and says why. Change detection watches the file's folder (editors and Kubernetes ConfigMaps
/// replace files rather than write them in place) and, as a safety net for file systems that raise no events,
/// also compares the file's size and time every few seconds.
/// </summary>
internal sealed partial class RuleFileSource : IDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(5);

    private readonly string _path;
    private readonly TokenDigester _digester;
    private readonly RuleState _state;
    private readonly MatcherLimits _limits;
    private readonly TimeSpan _delay;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private FileSystemWatcher? _watcher;
    private Timer? _debounce;
    private Timer? _poll;
    private (long Length, DateTime Written) _seen;
    private long _version;

    public RuleFileSource(RulesOptions options, DigestKey key, RuleState state, MatcherLimits limits, ILogger logger)
    {
        _path = Path.GetFullPath(options.File!);
        _digester = new TokenDigester(key);
        _state = state;
        _limits = limits;
        _delay = options.ReloadDelay;
        _logger = logger;
    }

    /// <summary>Loads the file; at start a failure stops the node, so it returns the problems.</summary>
    public IReadOnlyList<string> LoadInitial()
    {
        var problems = Load();
        if (problems.Count == 0)
        {
            Watch();
        }
        return problems;
    }

    /// <summary>Reloads now (also what a change triggers). Returns the problems; none means the new rules are in force.</summary>
    public IReadOnlyList<string> Load()
    {
        lock (_gate)
        {
            _seen = Stamp();
            var version = _version + 1;
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var (rules, problems) = RuleFile.Read(_path, _digester, version);
            var read = System.Diagnostics.Stopwatch.GetElapsedTime(started);
            if (rules is null)
            {
                Log.RulesRefused(_logger, _path, problems.Count, string.Join("; ", problems));
                return problems;
            }
            try
            {
                var matcher = TokenMatcher.Build(_digester.Key, rules, _limits);
                _state.Replace(matcher, "file");
                _version = version;
                var total = System.Diagnostics.Stopwatch.GetElapsedTime(started);
                Log.RulesLoaded(_logger, _path, version, matcher.LeakCount, matcher.TokenCount, (long)read.TotalMilliseconds, (long)(total - read).TotalMilliseconds);
                return [];
            }
            catch (RuleSetRejectedException error)
            {
                Log.RulesRefused(_logger, _path, error.Problems.Count, string.Join("; ", error.Problems));
                return error.Problems;
            }
        }
    }

    private void Watch()
    {
        var folder = Path.GetDirectoryName(_path)!;
        _watcher = new FileSystemWatcher(folder)
        {
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime | NotifyFilters.DirectoryName,
            IncludeSubdirectories = false,
        };
        _watcher.Changed += (_, _) => Schedule();
        _watcher.Created += (_, _) => Schedule();
        _watcher.Renamed += (_, _) => Schedule();
        _watcher.Deleted += (_, _) => Schedule();
        _watcher.EnableRaisingEvents = true;
        _debounce = new Timer(_ => Reload(), null, Timeout.Infinite, Timeout.Infinite);
        _poll = new Timer(_ => Poll(), null, PollInterval, PollInterval);
    }

    private void Schedule() => _debounce?.Change(_delay, Timeout.InfiniteTimeSpan);

    private void Poll()
    {
        if (Stamp() != _seen)
        {
            Schedule();
        }
    }

    private void Reload()
    {
        if (!File.Exists(_path))
        {
            // A replace in progress, or the file was removed: keep what is in force; the next event or poll retries.
            return;
        }
        if (Stamp() == _seen)
        {
            return;
        }
        Log.RulesFileChanged(_logger, _path);
        var problems = Load();
        if (problems.Count > 0)
        {
            Log.ReloadFailed(_logger, _path);
        }
    }

    private (long, DateTime) Stamp()
    {
        var info = new FileInfo(_path);
        return info.Exists ? (info.Length, info.LastWriteTimeUtc) : (-1, default);
    }

    public void Dispose()
    {
        _watcher?.Dispose();
        _debounce?.Dispose();
        _poll?.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(Diagnostics.EventIds.RulesLoaded, LogLevel.Warning, "Rules loaded from {Path}: version {Version}, {Leaks} leaks, {Tokens} tokens (read and digested in {ReadMs} ms, built in {BuildMs} ms)")]
        public static partial void RulesLoaded(ILogger logger, string path, long version, int leaks, int tokens, long readMs, long buildMs);

        [LoggerMessage(Diagnostics.EventIds.RulesRefused, LogLevel.Error, "Rules in {Path} refused ({Count} problems); the rules in force stay: {Problems}")]
        public static partial void RulesRefused(ILogger logger, string path, int count, string problems);

        [LoggerMessage(Diagnostics.EventIds.RulesFileChanged, LogLevel.Information, "Rule file {Path} changed; reloading")]
        public static partial void RulesFileChanged(ILogger logger, string path);

        [LoggerMessage(Diagnostics.EventIds.RulesReloadFailed, LogLevel.Warning, "Reload of {Path} failed; the previous rules stay in force")]
        public static partial void ReloadFailed(ILogger logger, string path);
    }
}
