namespace LeakNode.Matching.Rules;

/// <summary>
/// The change from one rule-set version to the next. Applied in this order: <see cref="Removed"/>,
/// then <see cref="Upserted"/> (a leak that exists is replaced whole), then <see cref="ActionChanged"/>.
/// </summary>
/// <param name="FromVersion">The version this delta applies to; any other current version refuses it.</param>
/// <param name="ToVersion">The version after the delta; must be greater than <paramref name="FromVersion"/>.</param>
/// <param name="Upserted">Leaks added, or replaced whole when their id exists.</param>
/// <param name="Removed">Ids of leaks no longer watched. An unknown id is refused.</param>
/// <param name="ActionChanged">Leaks whose action changed (vpatch applied or withdrawn), tokens unchanged.</param>
public sealed record RuleSetDelta(
    long FromVersion,
    long ToVersion,
    IReadOnlyList<LeakRule> Upserted,
    IReadOnlyList<string> Removed,
    IReadOnlyList<LeakActionChange> ActionChanged)
{
    /// <summary>A delta that only adds or replaces leaks.</summary>
    public static RuleSetDelta Upsert(long fromVersion, long toVersion, params LeakRule[] leaks) =>
        new(fromVersion, toVersion, leaks, [], []);

    /// <summary>A delta that only removes leaks.</summary>
    public static RuleSetDelta Remove(long fromVersion, long toVersion, params string[] leakIds) =>
        new(fromVersion, toVersion, [], leakIds, []);

    /// <summary>A delta that only changes the action of leaks.</summary>
    public static RuleSetDelta ChangeAction(long fromVersion, long toVersion, params LeakActionChange[] changes) =>
        new(fromVersion, toVersion, [], [], changes);
}

/// <summary>A new action for an existing leak.</summary>
public readonly record struct LeakActionChange(string LeakId, RuleAction Action);
