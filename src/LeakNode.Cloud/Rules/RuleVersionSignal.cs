namespace LeakNode.Cloud.Rules;

/// <summary>
/// Tells waiters that the rule version moved. Published after the transaction that made the version commits,
/// never before, so a waiter that wakes reads the new rows. The in-process implementation serves one cloud
/// process; several replicas over PostgreSQL need one fed by LISTEN/NOTIFY behind this same interface.
/// </summary>
internal interface IRuleVersionSignal
{
    /// <summary>The newest version this process knows of.</summary>
    long Latest { get; }

    /// <summary>A version was committed.</summary>
    void Publish(long version);

    /// <summary>Completes once <see cref="Latest"/> is greater than <paramref name="afterVersion"/>.</summary>
    Task WaitAsync(long afterVersion, CancellationToken cancellationToken);
}

/// <inheritdoc cref="IRuleVersionSignal"/>
internal sealed class InProcessRuleVersionSignal : IRuleVersionSignal
{
    private readonly Lock _lock = new();
    private long _latest;
    private TaskCompletionSource _changed = NewSource();

    public InProcessRuleVersionSignal(long initial) => _latest = initial;

    public long Latest => Volatile.Read(ref _latest);

    public void Publish(long version)
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            if (version <= _latest)
            {
                return;
            }
            _latest = version;
            changed = _changed;
            _changed = NewSource();
        }
        changed.TrySetResult();
    }

    public async Task WaitAsync(long afterVersion, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (_latest > afterVersion)
                {
                    return;
                }
                changed = _changed.Task;
            }
            await changed.WaitAsync(cancellationToken);
        }
    }

    // Continuations run on the pool, not inside Publish: a committing request must not run every waiter's stream.
    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
