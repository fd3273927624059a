using LeakNode.Matching;
using LeakNode.Matching.Rules;

namespace LeakNode.Node.Rules;

/// <summary>
/// The rule set in force on this node and where it came from. Null until the first rule set is loaded, which is
/// what <c>/readyz</c> reports. Readers take <see cref="Current"/> once per request and keep that version.
/// </summary>
internal sealed class RuleState
{
    private LiveMatcher? _live;

    /// <summary>Raised after a new version is in force.</summary>
    public event Action<TokenMatcher>? Changed;

    /// <summary>The matcher in force, or null before the first rule set.</summary>
    public TokenMatcher? Current => Volatile.Read(ref _live)?.Current;

    /// <summary>Where the rule set in force came from (<c>file</c>, <c>cloud</c>, or <c>cache</c>: the cloud's rules as persisted, before the cloud confirmed them).</summary>
    public string? Source { get; private set; }

    /// <summary>When the rule set in force was loaded.</summary>
    public DateTimeOffset? LoadedAt { get; private set; }

    public void Replace(TokenMatcher matcher, string source)
    {
        Source = source;
        LoadedAt = DateTimeOffset.UtcNow;
        var live = Volatile.Read(ref _live);
        if (live is null)
        {
            live = new LiveMatcher(matcher);
            live.Changed += m => Changed?.Invoke(m);
            Volatile.Write(ref _live, live);
            Changed?.Invoke(matcher);
        }
        else
        {
            live.Replace(matcher);
        }
    }

    /// <summary>Applies a delta to the version in force (see <see cref="LiveMatcher.Apply"/>) and publishes the result.</summary>
    /// <exception cref="RuleSetRejectedException">The delta is refused; the current version stays.</exception>
    public TokenMatcher Apply(RuleSetDelta delta, string source)
    {
        var live = Volatile.Read(ref _live) ?? throw new InvalidOperationException("No rule set is in force to apply a delta to.");
        var next = live.Apply(delta);
        Source = source;
        LoadedAt = DateTimeOffset.UtcNow;
        return next;
    }

    /// <summary>Records that <paramref name="source"/> confirmed the version in force unchanged (the cloud had nothing newer than the cache).</summary>
    public void Confirm(string source) => Source = source;
}
