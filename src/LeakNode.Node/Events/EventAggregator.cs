using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace LeakNode.Node.Events;

/// <summary>
/// Turns detections into attack events, folding identical attempts (same leak, token, client, method, path and
/// action) within the aggregation window into one event with a hit count: a client retrying a leaked token in a
/// loop makes one event a second, not thousands. An event leaves when its window closes.
/// </summary>
internal sealed partial class EventAggregator : IDisposable
{
    private readonly TimeSpan _window;
    private readonly EventQueue _queue;
    private readonly ILogger _logger;
    private readonly bool _log;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Dictionary<Key, Open> _open = [];
    private readonly ITimer _timer;

    public EventAggregator(TimeSpan window, EventQueue queue, bool log, ILogger logger, TimeProvider? time = null)
    {
        _window = window;
        _queue = queue;
        _log = log;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        var tick = window > TimeSpan.Zero ? TimeSpan.FromTicks(Math.Max(window.Ticks / 4, TimeSpan.TicksPerMillisecond * 10)) : TimeSpan.FromMilliseconds(50);
        _timer = _time.CreateTimer(_ => Flush(all: false), null, tick, tick);
    }

    /// <summary>Records one attempt. Returns the id of the event that stands for it (an earlier one, when it repeats one).</summary>
    public string Record(AttackEvent attempt)
    {
        var key = new Key(attempt.LeakId, attempt.TokenId, attempt.ClientIp, attempt.Method, attempt.Path, attempt.Action);
        lock (_gate)
        {
            if (_open.TryGetValue(key, out var open))
            {
                open.Hits++;
                return open.First.Id;
            }
            _open[key] = new Open(attempt, _time.GetUtcNow());
        }
        if (_window <= TimeSpan.Zero)
        {
            Flush(all: false);
        }
        return attempt.Id;
    }

    /// <summary>Emits the events whose window has closed (or all of them).</summary>
    public void Flush(bool all)
    {
        List<AttackEvent>? closed = null;
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            foreach (var (key, open) in _open)
            {
                if (all || now - open.Since >= _window)
                {
                    (closed ??= []).Add(open.First with { Hits = open.Hits });
                    _open.Remove(key);
                }
            }
        }
        if (closed is null)
        {
            return;
        }
        foreach (var attack in closed)
        {
            _queue.Enqueue(attack);
            if (_log)
            {
                Log.Attack(_logger, JsonSerializer.Serialize(attack, EventJsonContext.Readable.AttackEvent));
            }
        }
    }

    public void Dispose()
    {
        _timer.Dispose();
        Flush(all: true);
    }

    private readonly record struct Key(string Leak, string Token, string Client, string Method, string Path, string Action);

    private sealed class Open(AttackEvent first, DateTimeOffset since)
    {
        public AttackEvent First { get; } = first;

        public DateTimeOffset Since { get; } = since;

        public int Hits { get; set; } = first.Hits;
    }

    private static partial class Log
    {
        [LoggerMessage(Diagnostics.EventIds.AttackEvent, LogLevel.Information, "{Event}")]
        public static partial void Attack(ILogger logger, string @event);
    }
}
