using LeakNode.Matching.Digests;
using LeakNode.Matching.Rules;
using LeakNode.Testing;

namespace LeakNode.Cloud.Tests.Support;

/// <summary>Leaks of generated tokens, digested with a test's deployment key (no real token is ever used).</summary>
internal sealed class TestLeaks(DigestKey key, int seed = 7)
{
    private readonly TokenFactory _tokens = new(seed);
    private readonly TokenDigester _digester = new(key);
    private int _next;

    public LeakRule Leak(string id, RuleAction action = RuleAction.Monitor, int tokens = 1)
    {
        var digests = new TokenDigest[tokens];
        for (var i = 0; i < tokens; i++)
        {
            digests[i] = _digester.Digest($"t{Interlocked.Increment(ref _next)}", _tokens.RealWorld());
        }
        return new LeakRule(id, action, digests);
    }
}
