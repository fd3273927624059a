using LeakNode.Matching;

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

    /// <summary>Where the rule set in force came from (<c>file</c>, later <c>cloud</c> or <c>cache</c>).</summary>
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
}
