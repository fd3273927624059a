using System.Threading.Channels;
using LeakNode.Node.Diagnostics;

namespace LeakNode.Node.Events;

/// <summary>
/// Attack events waiting for the cloud: bounded, oldest dropped first when full (and counted), read by the
/// cloud shipper. A standalone node's events also go to its log.
/// </summary>
internal sealed class EventQueue
{
    private readonly Channel<AttackEvent> _channel;
    private int _count;
    private long _droppedUnreported;
    private long _dropped;

    public EventQueue(int capacity, NodeMetrics? metrics)
    {
        _channel = Channel.CreateBounded<AttackEvent>(
            new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            _ =>
            {
                Interlocked.Decrement(ref _count);
                Interlocked.Increment(ref _droppedUnreported);
                Interlocked.Increment(ref _dropped);
                metrics?.EventsDropped.Add(1);
            });
    }

    /// <summary>Events waiting.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Events dropped because the queue was full, since start.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public ChannelReader<AttackEvent> Reader => _channel.Reader;

    /// <summary>Takes the oldest event waiting, if any.</summary>
    public bool TryDequeue([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out AttackEvent? attack)
    {
        if (_channel.Reader.TryRead(out attack))
        {
            Interlocked.Decrement(ref _count);
            return true;
        }
        return false;
    }

    /// <summary>Events dropped since the last call: the cloud hears of them in the next batch (<c>EventBatch.dropped</c>).</summary>
    public long TakeDropped() => Interlocked.Exchange(ref _droppedUnreported, 0);

    public void Enqueue(AttackEvent attack)
    {
        Interlocked.Increment(ref _count);
        _channel.Writer.TryWrite(attack);
    }

    /// <summary>Takes every event waiting, for the shipper (and tests).</summary>
    public List<AttackEvent> Drain()
    {
        var events = new List<AttackEvent>();
        while (TryDequeue(out var attack))
        {
            events.Add(attack);
        }
        return events;
    }
}
