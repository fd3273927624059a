using Grpc.Core;
using LeakNode.Node.Configuration;
using LeakNode.Node.Diagnostics;
using LeakNode.Node.RuleSync;
using LeakNode.Protocol.V1;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LeakNode.Node.Events;

/// <summary>
/// Delivers attack events to the cloud over <c>ShipEvents</c>: the spool first, oldest first, then the queue in
/// batches (at most <c>Events:BatchSize</c> events or 1 MiB, sent once full or after <c>Events:BatchInterval</c>).
/// One batch is in flight at a time and leaves the node only when the cloud acknowledges it; a batch whose ack did
/// not come goes to the spool and is sent again, with the same event ids, after the reconnect (the cloud stores
/// each id once). While the cloud is unreachable the queue is moved to the spool, and at shutdown whatever is
/// left in memory goes there too, so that a restart loses nothing.
/// </summary>
internal sealed partial class EventShipper : BackgroundService
{
    /// <summary>Bytes of events in one batch: a quarter of gRPC's default 4 MB message limit, whatever the event sizes.</summary>
    private const int MaxBatchBytes = 1 << 20;

    private readonly CloudChannels _channels;
    private readonly EventQueue _queue;
    private readonly EventOptions _options;
    private readonly NodeMetrics _metrics;
    private readonly ILogger _logger;

    /// <summary>The batch taken from the queue and not acknowledged yet (being filled, or sent): spooled if the stream fails or the node stops.</summary>
    private EventBatch? _pending;
    private int _pendingCount;
    private ulong _nextBatchId;
    private long _droppedCarried;
    private long _shipped;
    private bool _wasFailing;

    public EventShipper(CloudChannels channels, EventQueue queue, EventSpool spool, EventOptions options, NodeMetrics metrics, ILogger logger)
    {
        _channels = channels;
        _queue = queue;
        Spool = spool;
        _options = options;
        _metrics = metrics;
        _logger = logger;
    }

    public EventSpool Spool { get; }

    /// <summary>Events taken from the queue and not acknowledged yet (the batch being filled or sent).</summary>
    public int Pending => Volatile.Read(ref _pendingCount);

    /// <summary>Events the cloud acknowledged since start.</summary>
    public long Shipped => Interlocked.Read(ref _shipped);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reconnector = _channels.NewReconnector();
        while (!stoppingToken.IsCancellationRequested)
        {
            TimeSpan wait;
            var endpoint = reconnector.Endpoint;
            try
            {
                if (Spool.IsEmpty)
                {
                    // Nothing to deliver: open the stream when the first event comes, not before.
                    await _queue.Reader.WaitToReadAsync(stoppingToken);
                }
                if (reconnector.Failing)
                {
                    _metrics.Reconnects.Add(1, new KeyValuePair<string, object?>("stream", "events"));
                }
                await ShipAsync(endpoint, reconnector, stoppingToken);
                continue;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception error)
            {
                // Whatever went wrong, the events are kept and the loop goes on.
                if (!CloudChannels.IsConnectionFailure(error) && error is not CloudProtocolException)
                {
                    Log.Unexpected(_logger, endpoint, error);
                }
                SpoolPending();
                var (message, refused) = CloudChannels.Describe(error);
                wait = reconnector.Failed(refused);
                if (!_wasFailing)
                {
                    // Once per outage: the rule stream reports the connection in detail, this says where events go.
                    Log.ShippingFailed(_logger, endpoint, message, Spool.Events);
                    _wasFailing = true;
                }
            }
            if (!await SpoolWhileWaitingAsync(wait, stoppingToken))
            {
                break;
            }
        }
    }

    private async Task ShipAsync(string endpoint, Reconnector reconnector, CancellationToken cancellationToken)
    {
        using var call = _channels.Client(endpoint).ShipEvents(_channels.Headers, cancellationToken: cancellationToken);
        var delivered = 0L;
        while (Spool.Oldest() is (var segment, var batch))
        {
            await SendAsync(call, batch, cancellationToken);
            Spool.Delivered(segment);
            delivered += batch.Events.Count;
            Succeeded(reconnector);
        }
        if (delivered > 0)
        {
            Log.SpoolDelivered(_logger, delivered, endpoint);
        }
        if (TakeDropped() is var dropped && dropped > 0)
        {
            // Drops made while the last spooled batch was written: reported now rather than with the next attack.
            var report = Hold(new EventBatch { Dropped = dropped });
            await SendAsync(call, report, cancellationToken);
            Release();
        }
        while (true)
        {
            var batch = await NextBatchAsync(cancellationToken);
            await SendAsync(call, batch, cancellationToken);
            Release();
            Succeeded(reconnector);
        }
    }

    private void Succeeded(Reconnector reconnector)
    {
        reconnector.Succeeded();
        _wasFailing = false;
    }

    /// <summary>Sends one batch and waits for its ack (at most <c>Events:AckTimeout</c>).</summary>
    private async Task SendAsync(AsyncDuplexStreamingCall<EventBatch, EventBatchAck> call, EventBatch batch, CancellationToken cancellationToken)
    {
        batch.BatchId = ++_nextBatchId;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.AckTimeout);
        await call.RequestStream.WriteAsync(batch, timeout.Token);
        if (!await call.ResponseStream.MoveNext(timeout.Token))
        {
            throw new CloudProtocolException($"the cloud ended the event stream without acknowledging batch {batch.BatchId}");
        }
        var ack = call.ResponseStream.Current;
        if (ack.BatchId != batch.BatchId)
        {
            throw new CloudProtocolException($"the cloud acknowledged batch {ack.BatchId} while batch {batch.BatchId} was in flight");
        }
        Interlocked.Add(ref _shipped, batch.Events.Count);
        _metrics.EventsShipped.Add(batch.Events.Count);
        Log.Shipped(_logger, batch.BatchId, batch.Events.Count, ack.Stored, ack.Duplicates, batch.Dropped);
    }

    /// <summary>Waits for events and takes a batch of them from the queue: full, or whatever came within <c>Events:BatchInterval</c> of the first.</summary>
    private async Task<EventBatch> NextBatchAsync(CancellationToken cancellationToken)
    {
        await _queue.Reader.WaitToReadAsync(cancellationToken);
        var batch = Hold(new EventBatch());
        using var interval = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        interval.CancelAfter(_options.BatchInterval);
        var bytes = 0;
        while (!Fill(batch, ref bytes))
        {
            Volatile.Write(ref _pendingCount, batch.Events.Count);
            try
            {
                await _queue.Reader.WaitToReadAsync(interval.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                break;
            }
        }
        Volatile.Write(ref _pendingCount, batch.Events.Count);
        batch.Dropped = TakeDropped();
        return batch;
    }

    /// <summary>Waits before the next attempt, moving the queue to the spool every batch interval meanwhile. False when the node is stopping.</summary>
    private async Task<bool> SpoolWhileWaitingAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        var until = DateTimeOffset.UtcNow + wait;
        do
        {
            SpoolQueue();
            var left = until - DateTimeOffset.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                break;
            }
            try
            {
                await Task.Delay(left < _options.BatchInterval ? left : _options.BatchInterval, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }
        while (true);
        return true;
    }

    /// <summary>Makes <paramref name="batch"/> the one not acknowledged yet: spooled if the stream fails or the node stops.</summary>
    private EventBatch Hold(EventBatch batch)
    {
        _pending = batch;
        Volatile.Write(ref _pendingCount, batch.Events.Count);
        return batch;
    }

    /// <summary>The batch held was acknowledged, or spooled.</summary>
    private void Release()
    {
        _pending = null;
        Volatile.Write(ref _pendingCount, 0);
    }

    private void SpoolPending()
    {
        if (_pending is { } pending)
        {
            Spool.Append(pending);
            Release();
        }
    }

    /// <summary>Moves every event waiting in memory to the spool, in batches; at shutdown also the count of events dropped and not reported yet.</summary>
    private void SpoolQueue(bool final = false)
    {
        var spooled = 0;
        while (true)
        {
            var batch = new EventBatch();
            var bytes = 0;
            Fill(batch, ref bytes);
            batch.Dropped = TakeDropped();
            if (batch.Events.Count == 0 && !(final && batch.Dropped > 0))
            {
                // Drops not written down yet stay counted in memory for the next batch.
                RestoreDropped(batch.Dropped);
                break;
            }
            Spool.Append(batch);
            spooled += batch.Events.Count;
        }
        if (spooled > 0)
        {
            Log.Spooled(_logger, spooled, Spool.Events, Spool.Bytes);
        }
    }

    /// <summary>Events dropped (by the queue or the spool) and not yet reported to the cloud, for the next batch.</summary>
    private ulong TakeDropped() => (ulong)(_queue.TakeDropped() + Spool.TakeDropped() + Interlocked.Exchange(ref _droppedCarried, 0));

    private void RestoreDropped(ulong dropped) => Interlocked.Add(ref _droppedCarried, (long)dropped);

    /// <summary>Takes events from the queue into <paramref name="batch"/> while it has room. True when it is full.</summary>
    private bool Fill(EventBatch batch, ref int bytes)
    {
        while (batch.Events.Count < _options.BatchSize && bytes < MaxBatchBytes)
        {
            if (!_queue.TryDequeue(out var attack))
            {
                return false;
            }
            var wire = EventWire.ToWire(attack);
            batch.Events.Add(wire);
            bytes += wire.CalculateSize();
        }
        return true;
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        // The loop has ended: nothing else touches the batch or the queue's reading side now.
        SpoolPending();
        SpoolQueue(final: true);
    }
}
