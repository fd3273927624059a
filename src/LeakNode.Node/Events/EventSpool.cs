using System.Globalization;
using Google.Protobuf;
using LeakNode.Node.Diagnostics;
using LeakNode.Node.Storage;
using LeakNode.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace LeakNode.Node.Events;

/// <summary>
/// Attack events waiting on disk for the cloud (<c>StateDir/spool</c>): while the cloud is unreachable, and
/// across a restart. One file per batch, named <c>{sequence}-{events}-{dropped}.batch</c> and holding the batch in
/// wire form (<see cref="EventBatch"/>), written whole (temp, flush, rename) so a crash never leaves half a batch.
/// Bounded by <c>Events:SpoolMaxBytes</c>: when full, the oldest batches are dropped, counted, and reported to the
/// cloud with the next batch sent.
/// </summary>
/// <remarks>The counts are in the file names so that the spool is known, and its oldest dropped, without reading any file.</remarks>
internal sealed partial class EventSpool
{
    private const string Extension = ".batch";

    private readonly string _folder;
    private readonly long _maxBytes;
    private readonly NodeMetrics _metrics;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly LinkedList<Segment> _segments = new();
    private long _next;
    private long _bytes;
    private long _events;
    private long _droppedUnreported;
    private long _dropped;

    public EventSpool(string stateDir, long maxBytes, NodeMetrics metrics, ILogger logger)
    {
        _folder = Path.Combine(stateDir, "spool");
        _maxBytes = maxBytes;
        _metrics = metrics;
        _logger = logger;
        StateFiles.CreateDirectory(_folder);
        foreach (var path in Directory.EnumerateFiles(_folder))
        {
            if (Segment.Parse(path) is { } segment)
            {
                _segments.AddLast(segment);
            }
            else
            {
                // A temporary file of a write the node did not finish (it crashed), or a stranger: not a batch.
                File.Delete(path);
            }
        }
        var sorted = _segments.OrderBy(s => s.Sequence).ToList();
        _segments.Clear();
        foreach (var segment in sorted)
        {
            _segments.AddLast(segment);
            _bytes += segment.Bytes;
            _events += segment.Events;
        }
        _next = sorted.Count > 0 ? sorted[^1].Sequence + 1 : 1;
    }

    /// <summary>One spooled batch.</summary>
    internal sealed record Segment(long Sequence, string Path, long Bytes, int Events, long Dropped)
    {
        public static Segment? Parse(string path)
        {
            var name = System.IO.Path.GetFileName(path);
            if (!name.EndsWith(Extension, StringComparison.Ordinal))
            {
                return null;
            }
            var fields = name[..^Extension.Length].Split('-');
            return fields.Length == 3
                && long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var sequence)
                && int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var events)
                && long.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var dropped)
                ? new Segment(sequence, path, new FileInfo(path).Length, events, dropped)
                : null;
        }
    }

    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Events spooled.</summary>
    public long Events => Interlocked.Read(ref _events);

    /// <summary>Events dropped from the spool because it was full, since start.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public bool IsEmpty
    {
        get
        {
            lock (_gate)
            {
                return _segments.Count == 0;
            }
        }
    }

    /// <summary>Events dropped since the last call, for the next batch's <c>dropped</c>.</summary>
    public long TakeDropped() => Interlocked.Exchange(ref _droppedUnreported, 0);

    /// <summary>Spools a batch (its id is the stream's business and is not kept), dropping the oldest batches to make room.</summary>
    public void Append(EventBatch batch)
    {
        if (batch.Events.Count == 0 && batch.Dropped == 0)
        {
            return;
        }
        var copy = batch.Clone();
        copy.BatchId = 0;
        lock (_gate)
        {
            // A batch larger than the whole spool keeps its newest events.
            var cut = 0;
            var size = copy.CalculateSize();
            while (size > _maxBytes && cut < copy.Events.Count)
            {
                size -= copy.Events[cut].CalculateSize() + 3;
                cut++;
            }
            if (cut > 0)
            {
                var kept = copy.Events.Skip(cut).ToList();
                copy.Events.Clear();
                copy.Events.AddRange(kept);
                CountDropped(cut, carried: 0);
            }
            size = copy.CalculateSize();
            while (_bytes + size > _maxBytes && _segments.First is { } oldest)
            {
                Remove(oldest.Value);
                CountDropped(oldest.Value.Events, oldest.Value.Dropped);
                Log.SpoolFull(_logger, oldest.Value.Events, _maxBytes);
            }
            var path = Path.Combine(_folder, string.Create(CultureInfo.InvariantCulture, $"{_next:D20}-{copy.Events.Count}-{copy.Dropped}{Extension}"));
            var bytes = copy.ToByteArray();
            try
            {
                StateFiles.ReplaceAtomically(path, file => file.Write(bytes));
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException)
            {
                // A full or read-only disk: the events are lost, and counted so that the cloud hears of it.
                Log.SpoolWriteFailed(_logger, copy.Events.Count, error.Message);
                CountDropped(copy.Events.Count, (long)copy.Dropped);
                return;
            }
            var segment = new Segment(_next++, path, bytes.Length, copy.Events.Count, (long)copy.Dropped);
            _segments.AddLast(segment);
            Interlocked.Add(ref _bytes, segment.Bytes);
            Interlocked.Add(ref _events, segment.Events);
        }
    }

    /// <summary>The oldest spooled batch, read back; unreadable files are logged and removed. Null when the spool is empty.</summary>
    public (Segment Segment, EventBatch Batch)? Oldest()
    {
        lock (_gate)
        {
            while (_segments.First is { } first)
            {
                try
                {
                    return (first.Value, EventBatch.Parser.ParseFrom(File.ReadAllBytes(first.Value.Path)));
                }
                catch (Exception error) when (error is IOException or InvalidProtocolBufferException or UnauthorizedAccessException)
                {
                    Log.SpoolUnreadable(_logger, first.Value.Path, first.Value.Events, error.Message);
                    Remove(first.Value);
                    CountDropped(first.Value.Events, first.Value.Dropped);
                }
            }
            return null;
        }
    }

    /// <summary>Removes a batch the cloud acknowledged.</summary>
    public void Delivered(Segment segment)
    {
        lock (_gate)
        {
            Remove(segment);
        }
    }

    private void Remove(Segment segment)
    {
        if (_segments.Remove(segment))
        {
            File.Delete(segment.Path);
            Interlocked.Add(ref _bytes, -segment.Bytes);
            Interlocked.Add(ref _events, -segment.Events);
        }
    }

    /// <summary>Counts <paramref name="events"/> dropped now, and carries forward the earlier drops a lost batch was to report (<paramref name="carried"/>, counted when they happened).</summary>
    private void CountDropped(long events, long carried)
    {
        Interlocked.Add(ref _droppedUnreported, events + carried);
        Interlocked.Add(ref _dropped, events);
        _metrics.SpoolDropped.Add(events);
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.SpoolFull, LogLevel.Warning, "The event spool is full (Events:SpoolMaxBytes {MaxBytes}): dropped its oldest batch of {Events} events; the cloud is told how many")]
        public static partial void SpoolFull(ILogger logger, int events, long maxBytes);

        [LoggerMessage(EventIds.SpoolWriteFailed, LogLevel.Error, "Cannot spool {Events} attack events; they are dropped: {Error}")]
        public static partial void SpoolWriteFailed(ILogger logger, int events, string error);

        [LoggerMessage(EventIds.SpoolUnreadable, LogLevel.Error, "Spooled batch {Path} ({Events} events) cannot be read and is dropped: {Error}")]
        public static partial void SpoolUnreadable(ILogger logger, string path, int events, string error);
    }
}
