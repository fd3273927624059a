namespace LeakNode.Matching;

/// <summary>
/// A rule set or update was refused: it is malformed, does not apply to the current version, or exceeds the
/// <see cref="MatcherLimits"/>. The message lists every problem, naming leaks and tokens by id, never by value.
/// Nothing changed: the previous rule set is still in force.
/// </summary>
public sealed class RuleSetRejectedException : Exception
{
    /// <summary>At most this many problems are spelled out in the message; all stay in <see cref="Problems"/>.</summary>
    private const int ProblemsInMessage = 20;

    public RuleSetRejectedException(IReadOnlyList<string> problems)
        : base(Format(problems))
    {
        Problems = problems;
    }

    public RuleSetRejectedException()
        : this(["the rule set was refused"])
    {
    }

    public RuleSetRejectedException(string message)
        : this([message])
    {
    }

    public RuleSetRejectedException(string message, Exception innerException)
        : base(message, innerException)
    {
        Problems = [message];
    }

    /// <summary>Every problem found, one sentence each.</summary>
    public IReadOnlyList<string> Problems { get; }

    private static string Format(IReadOnlyList<string> problems)
    {
        var shown = problems.Take(ProblemsInMessage).Select(p => "  - " + p);
        var more = problems.Count > ProblemsInMessage ? $"\n  … and {problems.Count - ProblemsInMessage} more" : "";
        return $"Rule set refused ({problems.Count} problem{(problems.Count == 1 ? "" : "s")}):\n{string.Join('\n', shown)}{more}";
    }
}
