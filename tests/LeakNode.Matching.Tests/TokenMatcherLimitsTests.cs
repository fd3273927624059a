using System.Text;
using LeakNode.Matching.Digests;
using LeakNode.Matching.Rules;
using LeakNode.Matching.Tests.Support;
using LeakNode.Testing;

namespace LeakNode.Matching.Tests;

/// <summary>Rule sets over a bound, or malformed, are refused whole with every problem named, never by token value.</summary>
public sealed class TokenMatcherLimitsTests
{
    [Fact]
    public void Build_OverEveryLimit_RefusesWithOneProblemEach()
    {
        var rules = new TestRules();
        var longToken = new string('x', 300);
        rules.Put("a", RuleAction.Block, Encoding.ASCII.GetBytes(longToken), "ghp_abcdefghijklmnopqrstuvwxyz0123456789"u8.ToArray());
        rules.Put("b", RuleAction.Block, "abcdefghijkl"u8.ToArray());
        var limits = new MatcherLimits { MaxTokens = 2, MaxLeaks = 1, MaxTokenLength = 256, MaxMemoryBytes = 1024 };

        var error = Assert.Throws<RuleSetRejectedException>(() => rules.Build(limits));

        Assert.True(error.Problems.Count == 4, error.Message);
        Assert.Contains(error.Problems, p => p.Contains("has 300 bytes, over the limit of 256 (MaxTokenLength)", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("3 tokens, over the limit of 2 (MaxTokens)", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("2 leaks, over the limit of 1 (MaxLeaks)", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("(MaxMemoryBytes)", StringComparison.Ordinal));
        Assert.DoesNotContain(longToken, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("abcdefghijkl", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_MalformedRuleSet_RefusesWithEveryProblemNamed()
    {
        var good = TestRules.Digester.Digest("t1", "ghp_abcdefghijklmnopqrstuvwxyz0123456789");
        var rules = new RuleSet(3,
        [
            new LeakRule("dup", RuleAction.Block, [good]),
            new LeakRule("dup", RuleAction.Block, [good with { Id = "t2" }]),
            new LeakRule("", RuleAction.Block, [good with { Id = "t3" }]),
            new LeakRule("bad-hmac", RuleAction.Block, [good with { Id = "t4", Hmac = new byte[3] }]),
            new LeakRule("bad-span", RuleAction.Block, [good with { Id = "t5", SpanStart = 39 }]),
            new LeakRule("bad-action", (RuleAction)9, [good with { Id = "t6" }]),
            new LeakRule("short", RuleAction.Block, [good with { Id = "t7", Length = 5 }]),
        ]);

        var error = Assert.Throws<RuleSetRejectedException>(() => TokenMatcher.Build(TestRules.Key, rules));

        Assert.Equal(6, error.Problems.Count);
        Assert.Contains(error.Problems, p => p.Contains("leak id 'dup' appears more than once", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("a leak has an empty id", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("token 't4' has an HMAC of 3 bytes", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("token 't5' has span start 39", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("unknown action 9", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("token 't7' has length 5", StringComparison.Ordinal));
    }

    [Fact]
    public void Build_ManyProblems_MessageListsTwentyAndCountsTheRest()
    {
        var leaks = Enumerable.Range(0, 30).Select(i => new LeakRule($"l{i}", RuleAction.Block, [])).ToList();

        var error = Assert.Throws<RuleSetRejectedException>(() => TokenMatcher.Build(TestRules.Key, new RuleSet(1, leaks)));

        Assert.Equal(30, error.Problems.Count);
        Assert.Contains("… and 10 more", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_MemoryEstimate_WithinAQuarterOfWhatIsBuilt()
    {
        var factory = new TokenFactory(8);
        var rules = new TestRules();
        for (var i = 0; i < 2000; i++)
        {
            rules.Put($"l{i}", RuleAction.Block, factory.RealWorld(), factory.RealWorld(), factory.RealWorld());
        }
        var set = rules.ToRuleSet();
        var matcher = TokenMatcher.Build(TestRules.Key, set);

        // A limit a little under the real size refuses; the real size accepts.
        var real = matcher.MemoryBytes;
        Assert.Throws<RuleSetRejectedException>(() => TokenMatcher.Build(TestRules.Key, set, new MatcherLimits { MaxMemoryBytes = real * 3 / 4 }));
        Assert.Equal(6000, TokenMatcher.Build(TestRules.Key, set, new MatcherLimits { MaxMemoryBytes = real * 5 / 4 }).TokenCount);
    }

    [Fact]
    public void Digest_TokenShorterThanEight_Refused()
    {
        var error = Assert.Throws<ArgumentException>(() => TestRules.Digester.Digest("t", "1234567"));

        Assert.Contains($"tokens are {WindowPlan.MinTokenLength} to", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("1234567", error.Message, StringComparison.Ordinal);
    }
}
