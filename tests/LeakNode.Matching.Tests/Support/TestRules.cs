using LeakNode.Matching.Digests;
using LeakNode.Matching.Rules;

namespace LeakNode.Matching.Tests.Support;

/// <summary>
/// Plaintext leaks for tests, with the digests a matcher is built from. Keeps the plaintext on the test side
/// only, for the oracle.
/// </summary>
public sealed class TestRules
{
    public static readonly DigestKey Key = DigestKey.FromBytes(Enumerable.Range(1, 32).Select(i => (byte)(i * 7)).ToArray());
    public static readonly TokenDigester Digester = new(Key);

    private readonly Dictionary<string, (RuleAction Action, List<(string Id, byte[] Token)> Tokens)> _leaks = new(StringComparer.Ordinal);
    private int _tokenIds;

    public long Version { get; private set; } = 1;

    /// <summary>Adds (or replaces) a leak and returns the rule for it.</summary>
    public LeakRule Put(string leakId, RuleAction action, params byte[][] tokens)
    {
        var list = tokens.Select(t => ($"{leakId}/t{_tokenIds++}", t)).ToList();
        _leaks[leakId] = (action, list);
        return Rule(leakId);
    }

    public void Remove(string leakId) => _leaks.Remove(leakId);

    public void SetAction(string leakId, RuleAction action) => _leaks[leakId] = (action, _leaks[leakId].Tokens);

    public LeakRule Rule(string leakId)
    {
        var (action, tokens) = _leaks[leakId];
        return new LeakRule(leakId, action, tokens.Select(t => Digester.Digest(t.Id, t.Token)).ToList());
    }

    public RuleSet ToRuleSet() => new(Version, _leaks.Keys.Select(Rule).ToList());

    public long NextVersion() => ++Version;

    /// <summary>Every live token by id, for the oracle.</summary>
    public IReadOnlyDictionary<string, byte[]> Tokens =>
        _leaks.Values.SelectMany(l => l.Tokens).ToDictionary(t => t.Id, t => t.Token, StringComparer.Ordinal);

    public RuleAction ActionOf(string tokenId) => _leaks[tokenId[..tokenId.IndexOf('/', StringComparison.Ordinal)]].Action;

    public TokenMatcher Build(MatcherLimits? limits = null) => TokenMatcher.Build(Key, ToRuleSet(), limits);
}
