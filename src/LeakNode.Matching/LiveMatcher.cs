using LeakNode.Matching.Digests;
using LeakNode.Matching.Rules;

namespace LeakNode.Matching;

/// <summary>
/// Holds the matcher in force and moves it from version to version without ever pausing a scan: readers take
/// <see cref="Current"/> (one volatile read) and keep that version for the whole stream; writers publish the
/// next version with one reference swap.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="Apply"/> is the fast path (copy-on-write, milliseconds at a million tokens). Updates accumulate
/// removed tokens and extra filter bits, so when the current version says <see cref="TokenMatcher.CompactionRecommended"/>
/// a compaction runs in the background; updates that arrive meanwhile are applied to the current version as
/// usual and replayed onto the compacted one before it is published.
/// </para>
/// <para>Writers are serialised; readers never block.</para>
/// </remarks>
public sealed class LiveMatcher
{
    private readonly Lock _gate = new();
    private readonly List<RuleSetDelta> _appliedDuringCompaction = [];
    private volatile TokenMatcher _current;
    private Task _compaction = Task.CompletedTask;
    private bool _compacting;
    private long _generation;

    public LiveMatcher(TokenMatcher initial)
    {
        ArgumentNullException.ThrowIfNull(initial);
        _current = initial;
    }

    /// <summary>Raised, outside the writer lock, after a new version is in force.</summary>
    public event Action<TokenMatcher>? Changed;

    /// <summary>Raised when a background compaction fails; the uncompacted version stays in force.</summary>
    public event Action<Exception>? CompactionFailed;

    /// <summary>The version in force.</summary>
    public TokenMatcher Current => _current;

    /// <summary>The background compaction in flight, or a completed task. For tests and orderly shutdown.</summary>
    public Task Compaction
    {
        get
        {
            lock (_gate)
            {
                return _compaction;
            }
        }
    }

    /// <summary>Starts an empty line at version 0.</summary>
    public static LiveMatcher Empty(DigestKey key, MatcherLimits? limits = null) =>
        new(TokenMatcher.Build(key, RuleSet.Empty, limits));

    /// <summary>Builds a complete rule set (on the caller's thread) and puts it in force.</summary>
    /// <exception cref="RuleSetRejectedException">The rule set is refused; the current version stays.</exception>
    public TokenMatcher Load(RuleSet rules)
    {
        var current = _current;
        var built = TokenMatcher.Build(current.Key, rules, current.Limits);
        Replace(built);
        return built;
    }

    /// <summary>Puts a separately built matcher in force, abandoning any compaction of the previous line.</summary>
    public void Replace(TokenMatcher matcher)
    {
        ArgumentNullException.ThrowIfNull(matcher);
        lock (_gate)
        {
            _generation++;
            _appliedDuringCompaction.Clear();
            _current = matcher;
        }
        Changed?.Invoke(matcher);
    }

    /// <summary>Applies an update to the version in force and publishes the result.</summary>
    /// <exception cref="RuleSetRejectedException">The update is refused; the current version stays.</exception>
    public TokenMatcher Apply(RuleSetDelta delta)
    {
        TokenMatcher next;
        lock (_gate)
        {
            next = _current.Apply(delta);
            _current = next;
            if (_compacting)
            {
                _appliedDuringCompaction.Add(delta);
            }
            else if (next.CompactionRecommended)
            {
                StartCompaction(next);
            }
        }
        Changed?.Invoke(next);
        return next;
    }

    private void StartCompaction(TokenMatcher snapshot)
    {
        _compacting = true;
        var generation = _generation;
        _compaction = Task.Run(() => Compact(snapshot, generation));
    }

    private void Compact(TokenMatcher snapshot, long generation)
    {
        TokenMatcher? published = null;
        try
        {
            var compacted = snapshot.Compact();
            lock (_gate)
            {
                if (generation == _generation)
                {
                    foreach (var delta in _appliedDuringCompaction)
                    {
                        compacted = compacted.Apply(delta);
                    }
                    _current = published = compacted;
                }
            }
        }
        catch (Exception exception) when (exception is RuleSetRejectedException or InvalidOperationException or OutOfMemoryException)
        {
            CompactionFailed?.Invoke(exception);
        }
        finally
        {
            lock (_gate)
            {
                _compacting = false;
                _appliedDuringCompaction.Clear();
            }
        }

        if (published is not null)
        {
            Changed?.Invoke(published);
        }
    }
}
