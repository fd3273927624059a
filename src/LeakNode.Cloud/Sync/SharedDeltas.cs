namespace LeakNode.Cloud.Sync;

/// <summary>
/// One <see cref="IRuleFeed.DeltaAsync"/> for all the nodes that ask for the same one at once. A change wakes every
/// connected node together, and nodes that follow the cloud all run the same version, so 200 nodes ask for the
/// same delta within a millisecond: one query answers them all, instead of 200 transactions on two cores.
/// </summary>
/// <remarks>
/// A node that joins a query started before the newest version was committed gets a delta to the version before
/// it. That delta is still valid (from the version the node runs to a later one), and the next update brings the
/// node the rest; when it is empty, the stream simply asks again.
/// </remarks>
internal sealed class SharedDeltas(IRuleFeed feed)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<long, Task<Matching.Rules.RuleSetDelta?>> _running = [];

    public Task<Matching.Rules.RuleSetDelta?> DeltaAsync(long fromVersion, CancellationToken cancellationToken)
    {
        Task<Matching.Rules.RuleSetDelta?>? running;
        lock (_lock)
        {
            if (!_running.TryGetValue(fromVersion, out running))
            {
                // On the pool, not here: Microsoft.Data.Sqlite runs a query synchronously inside its async methods,
                // and the query must not run under this lock, nor on the caller's thread while others line up.
                // Not cancelled by one caller: the others still want the answer.
                running = Task.Run(() => QueryAsync(fromVersion), CancellationToken.None);
                _running[fromVersion] = running;
            }
        }
        return running.WaitAsync(cancellationToken);
    }

    private async Task<Matching.Rules.RuleSetDelta?> QueryAsync(long fromVersion)
    {
        try
        {
            return await feed.DeltaAsync(fromVersion, CancellationToken.None);
        }
        finally
        {
            lock (_lock)
            {
                _running.Remove(fromVersion);
            }
        }
    }
}
