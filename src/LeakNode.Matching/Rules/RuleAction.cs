namespace LeakNode.Matching.Rules;

/// <summary>What a node does with a request that carries a token of a leak.</summary>
public enum RuleAction
{
    /// <summary>Report the attempt and forward the request: the leak is watched, no block decided yet.</summary>
    Monitor = 0,

    /// <summary>Report the attempt and refuse the request: the leak's virtual patch is applied.</summary>
    Block = 1,
}
