using System.Collections.Concurrent;
using LeakNode.Cloud.Sync;

namespace LeakNode.Cloud.Tests.Support;

/// <summary>Attack events in memory, each id once, as the real store keeps them.</summary>
internal sealed class InMemoryAttackStore : IAttackStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, (string NodeId, IncomingAttack Attack)> _events = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ulong> _dropped = new(StringComparer.Ordinal);

    public IReadOnlyList<(string NodeId, IncomingAttack Attack)> Events
    {
        get
        {
            lock (_lock)
            {
                return [.. _events.Values];
            }
        }
    }

    /// <summary>When set, every insert fails with it, as a store whose database is gone.</summary>
    public Exception? Failure { get; set; }

    public ulong Dropped(string nodeId) => _dropped.GetValueOrDefault(nodeId);

    public Task<(int Stored, int Duplicates)> InsertBatchAsync(string nodeId, IReadOnlyList<IncomingAttack> events, CancellationToken cancellationToken)
    {
        if (Failure is { } failure)
        {
            return Task.FromException<(int, int)>(failure);
        }
        int stored = 0, duplicates = 0;
        lock (_lock)
        {
            foreach (var attack in events)
            {
                if (_events.TryAdd(attack.Id, (nodeId, attack)))
                {
                    stored++;
                }
                else
                {
                    duplicates++;
                }
            }
        }
        return Task.FromResult((stored, duplicates));
    }

    public Task RecordDroppedAsync(string nodeId, ulong dropped, CancellationToken cancellationToken)
    {
        _dropped.AddOrUpdate(nodeId, dropped, (_, count) => count + dropped);
        return Task.CompletedTask;
    }
}
