namespace LeakNode.Cloud.Leaks;

/// <summary>The user's decisions on a leak (PRODUCT.md, "Leak lifecycle").</summary>
public enum LeakAction
{
    Vpatch,
    Close,
    MarkFalse,
    Reopen,
}

/// <summary>
/// The lifecycle table of PRODUCT.md as code: from a status and remediation, what an action leads to, or why it
/// is refused. Nothing else decides transitions.
/// </summary>
internal static class LeakLifecycle
{
    /// <summary>The name of an action in paths and history entries.</summary>
    public static string Name(LeakAction action) => action switch
    {
        LeakAction.Vpatch => "vpatch",
        LeakAction.Close => "close",
        LeakAction.MarkFalse => "mark-false",
        _ => "reopen",
    };

    /// <summary>The state after <paramref name="action"/>, or the reason the lifecycle forbids it.</summary>
    public static (string Status, string Remediation)? Next(string status, string remediation, LeakAction action, out string? refusal)
    {
        refusal = null;
        switch (action)
        {
            case LeakAction.Vpatch when status == LeakStatuses.Open && remediation == Remediations.Vpatch:
                refusal = "the virtual patch is applied already";
                return null;
            case LeakAction.Vpatch when status == LeakStatuses.Open:
                return (LeakStatuses.Open, Remediations.Vpatch);
            case LeakAction.Vpatch:
                refusal = $"the leak is {status}: only an open leak can be patched (reopen it first)";
                return null;
            case LeakAction.Close or LeakAction.MarkFalse when status == LeakStatuses.Open:
                // Closing or marking false withdraws the patch: the tokens are no longer watched at all.
                return (action == LeakAction.Close ? LeakStatuses.Closed : LeakStatuses.False, Remediations.None);
            case LeakAction.Close or LeakAction.MarkFalse:
                refusal = $"the leak is {status}: only an open leak can be {(action == LeakAction.Close ? "closed" : "marked false")} (reopen it first)";
                return null;
            case LeakAction.Reopen when status == LeakStatuses.Open:
                refusal = "the leak is open already";
                return null;
            default:
                // Reopened leaks are watched again but not blocked: the patch is a decision to take again.
                return (LeakStatuses.Open, Remediations.None);
        }
    }
}
