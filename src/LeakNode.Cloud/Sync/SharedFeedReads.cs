using LeakNode.Matching.Rules;

namespace LeakNode.Cloud.Sync;

/// <summary>
/// One read of the rule feed for all the nodes that need the same one at once. A change wakes every connected node
/// together, and nodes that follow the cloud run the same version, so 200 nodes ask for the same delta within a
/// millisecond; after a cloud restart they all reconnect and ask for a snapshot, which at a million tokens is a few
/// hundred megabytes of objects each. One query answers them all.
/// </summary>
/// <remarks>
/// A node can get a read that a newer version has since superseded: one that joins a delta query started before the
/// newest version was committed, or a snapshot kept from up to <see cref="SnapshotReuse"/> ago. That is still a
/// correct update (a delta from the version the node runs, a whole older rule set), and the node's stream sends it
/// the rest right after; an empty delta just makes the stream ask again.
/// </remarks>
internal sealed class SharedFeedReads(IRuleFeed feed)
{
    /// <summary>
    /// How long a snapshot read is given to nodes that ask after it completed: long enough to cover a reconnect
    /// storm, short enough that a node rarely gets one a version behind.
    /// </summary>
    public static readonly TimeSpan SnapshotReuse = TimeSpan.FromSeconds(2);

    private readonly Lock _lock = new();
    private readonly Dictionary<long, Task<RuleSetDelta?>> _deltas = [];
    private Task<RuleSet>? _snapshot;
    private long _snapshotReadAt = long.MaxValue;

    public Task<RuleSetDelta?> DeltaAsync(long fromVersion, CancellationToken cancellationToken)
    {
        Task<RuleSetDelta?>? running;
        lock (_lock)
        {
            if (!_deltas.TryGetValue(fromVersion, out running))
            {
                running = Run(() => feed.DeltaAsync(fromVersion, CancellationToken.None), () => _deltas.Remove(fromVersion));
                _deltas[fromVersion] = running;
            }
        }
        return running.WaitAsync(cancellationToken);
    }

    public Task<RuleSet> SnapshotAsync(CancellationToken cancellationToken)
    {
        Task<RuleSet> snapshot;
        lock (_lock)
        {
            var reusable = _snapshot is { } last
                && (!last.IsCompleted || (last.IsCompletedSuccessfully && Environment.TickCount64 - _snapshotReadAt < (long)SnapshotReuse.TotalMilliseconds));
            if (!reusable)
            {
                _snapshotReadAt = long.MaxValue;
                _snapshot = Run(() => feed.SnapshotAsync(CancellationToken.None), () => _snapshotReadAt = Environment.TickCount64);
            }
            snapshot = _snapshot!;
        }
        return snapshot.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Runs a read on the pool, not under the lock nor on the first caller's thread (Microsoft.Data.Sqlite runs a
    /// query synchronously inside its async methods), and not cancelled by any one caller: the others still want
    /// it. <paramref name="done"/> runs under the lock when the read ends.
    /// </summary>
    private Task<T> Run<T>(Func<Task<T>> read, Action done) => Task.Run(async () =>
    {
        try
        {
            return await read();
        }
        finally
        {
            lock (_lock)
            {
                done();
            }
        }
    }, CancellationToken.None);
}
