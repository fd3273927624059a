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

    public EventQueue(int capacity, NodeMetrics? metrics)
    {
        _channel = Channel.CreateBounded<AttackEvent>(
            new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            _ =>
            {
                Interlocked.Decrement(ref _count);
                metrics?.EventsDropped.Add(1);
            });
    }

    /// <summary>Events waiting.</summary>
    public int Count => Volatile.Read(ref _count);

    public ChannelReader<AttackEvent> Reader => _channel.Reader;

    public void Enqueue(AttackEvent attack)
    {
        Interlocked.Increment(ref _count);
        _channel.Writer.TryWrite(attack);
    }

    /// <summary>Takes every event waiting, for the shipper (and tests).</summary>
    public List<AttackEvent> Drain()
    {
        var events = new List<AttackEvent>();
        while (_channel.Reader.TryRead(out var attack))
        {
            Interlocked.Decrement(ref _count);
            events.Add(attack);
        }
        return events;
    }
}
