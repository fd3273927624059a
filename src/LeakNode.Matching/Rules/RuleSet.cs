namespace LeakNode.Matching.Rules;

/// <summary>A complete, versioned rule set: every leak a node watches, at one version.</summary>
/// <param name="Version">Monotonic version; deltas name the version they apply to.</param>
/// <param name="Leaks">The leaks. Ids must be unique.</param>
public sealed record RuleSet(long Version, IReadOnlyList<LeakRule> Leaks)
{
    /// <summary>The empty rule set at version 0: nothing watched.</summary>
    public static RuleSet Empty { get; } = new(0, []);

    /// <summary>Counts every token of every leak.</summary>
    public long TokenCount
    {
        get
        {
            long count = 0;
            foreach (var leak in Leaks)
            {
                count += leak.Tokens.Count;
            }
            return count;
        }
    }
}
