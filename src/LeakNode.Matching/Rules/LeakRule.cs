using LeakNode.Matching.Digests;

namespace LeakNode.Matching.Rules;

/// <summary>One leak as the matcher sees it: an id, what to do on a hit, and its tokens in digest form.</summary>
/// <param name="Id">The leak's id, reported with every match (never the token).</param>
/// <param name="Action">Block or monitor.</param>
/// <param name="Tokens">The leak's tokens, in digest form only.</param>
public sealed record LeakRule(string Id, RuleAction Action, IReadOnlyList<TokenDigest> Tokens);
