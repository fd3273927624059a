using System.Collections.Immutable;
using LeakNode.Cloud.Sync;
using LeakNode.Matching.Rules;

namespace LeakNode.Cloud.Tests.Support;

/// <summary>
/// A rule feed kept in memory: every version is a full map of leaks, and a delta is the difference between two
/// of them, folded as the real feed folds its change log. Versions before <see cref="Forget"/> are unknown to it.
/// </summary>
internal sealed class InMemoryRuleFeed : IRuleFeed
{
    private readonly Lock _lock = new();
    private readonly SortedDictionary<long, ImmutableDictionary<string, LeakRule>> _versions = new() { [0] = ImmutableDictionary<string, LeakRule>.Empty };
    private long _newest;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>When set, snapshots and deltas fail with it, as a feed whose database is gone.</summary>
    public Exception? Failure { get; set; }

    public long Newest
    {
        get
        {
            lock (_lock)
            {
                return _newest;
            }
        }
    }

    /// <summary>Adds or replaces leaks; returns the new version.</summary>
    public long Put(params LeakRule[] leaks) => Change(map => map.SetItems(leaks.Select(l => KeyValuePair.Create(l.Id, l))));

    public long Remove(params string[] leakIds) => Change(map => map.RemoveRange(leakIds));

    public long SetAction(string leakId, RuleAction action) => Change(map => map.SetItem(leakId, map[leakId] with { Action = action }));

    /// <summary>Forgets every version before the newest, as a change log that was pruned.</summary>
    public void Forget()
    {
        lock (_lock)
        {
            foreach (var version in _versions.Keys.Where(v => v < _newest).ToList())
            {
                _versions.Remove(version);
            }
        }
    }

    private long Change(Func<ImmutableDictionary<string, LeakRule>, ImmutableDictionary<string, LeakRule>> change)
    {
        TaskCompletionSource changed;
        long version;
        lock (_lock)
        {
            version = ++_newest;
            _versions[version] = change(_versions[version - 1]);
            changed = _changed;
            _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        changed.SetResult();
        return version;
    }

    public Task<long> CurrentVersionAsync(CancellationToken cancellationToken) => Task.FromResult(Newest);

    /// <summary>How many snapshots were read.</summary>
    public int SnapshotReads => _snapshotReads;

    private int _snapshotReads;

    public Task<RuleSet> SnapshotAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _snapshotReads);
        if (Failure is { } failure)
        {
            return Task.FromException<RuleSet>(failure);
        }
        lock (_lock)
        {
            return Task.FromResult(new RuleSet(_newest, [.. _versions[_newest].Values.OrderBy(l => l.Id, StringComparer.Ordinal)]));
        }
    }

    public Task<RuleSetDelta?> DeltaAsync(long fromVersion, CancellationToken cancellationToken)
    {
        if (Failure is { } failure)
        {
            return Task.FromException<RuleSetDelta?>(failure);
        }
        lock (_lock)
        {
            if (!_versions.TryGetValue(fromVersion, out var from))
            {
                return Task.FromResult<RuleSetDelta?>(null);
            }
            var to = _versions[_newest];
            var removed = from.Keys.Where(id => !to.ContainsKey(id)).Order(StringComparer.Ordinal).ToList();
            var upserted = new List<LeakRule>();
            var actions = new List<LeakActionChange>();
            foreach (var (id, leak) in to.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                if (!from.TryGetValue(id, out var before) || !ReferenceEquals(before.Tokens, leak.Tokens))
                {
                    upserted.Add(leak);
                }
                else if (before.Action != leak.Action)
                {
                    actions.Add(new LeakActionChange(id, leak.Action));
                }
            }
            return Task.FromResult<RuleSetDelta?>(new RuleSetDelta(fromVersion, _newest, upserted, removed, actions));
        }
    }

    public async Task WaitForVersionAsync(long afterVersion, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (_newest > afterVersion)
                {
                    return;
                }
                changed = _changed.Task;
            }
            await changed.WaitAsync(cancellationToken);
        }
    }
}
