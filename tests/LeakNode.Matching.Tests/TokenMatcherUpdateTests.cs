using LeakNode.Matching.Rules;
using LeakNode.Matching.Tests.Support;
using LeakNode.Testing;

namespace LeakNode.Matching.Tests;

/// <summary>Updates (copy-on-write deltas) and compaction, checked against the oracle after every step.</summary>
public sealed class TokenMatcherUpdateTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Apply_RandomDeltaSequence_EqualsOracleAtEveryVersion(int seed)
    {
        var random = new Random(seed);
        var factory = new TokenFactory(seed);
        var rules = new TestRules();
        for (var i = 0; i < 30; i++)
        {
            rules.Put($"base-{i}", RuleAction.Monitor, factory.Mixed(), factory.Mixed());
        }
        var matcher = rules.Build();
        var versions = new List<(TokenMatcher Matcher, IReadOnlyDictionary<string, byte[]> Tokens)> { (matcher, rules.Tokens) };
        var everToken = new List<byte[]>(rules.Tokens.Values);

        for (var step = 0; step < 40; step++)
        {
            var from = rules.Version;
            var to = rules.NextVersion();
            var live = rules.ToRuleSet().Leaks.Select(l => l.Id).ToList();
            RuleSetDelta delta;
            switch (random.Next(4))
            {
                case 0 when live.Count > 0:
                    var gone = live[random.Next(live.Count)];
                    rules.Remove(gone);
                    delta = RuleSetDelta.Remove(from, to, gone);
                    break;
                case 1 when live.Count > 0:
                    var changed = live[random.Next(live.Count)];
                    var action = random.Next(2) == 0 ? RuleAction.Block : RuleAction.Monitor;
                    rules.SetAction(changed, action);
                    delta = RuleSetDelta.ChangeAction(from, to, new LeakActionChange(changed, action));
                    break;
                case 2 when live.Count > 0:
                    // Replace a leak whole: some tokens kept, some new.
                    var replaced = live[random.Next(live.Count)];
                    var tokens = new[] { factory.Mixed(), everToken[random.Next(everToken.Count)] };
                    everToken.AddRange(tokens);
                    delta = RuleSetDelta.Upsert(from, to, rules.Put(replaced, RuleAction.Block, tokens));
                    break;
                default:
                    var added = Enumerable.Range(0, random.Next(1, 4)).Select(_ => factory.Mixed()).ToArray();
                    everToken.AddRange(added);
                    delta = RuleSetDelta.Upsert(from, to, rules.Put($"added-{step}", RuleAction.Block, added));
                    break;
            }

            matcher = matcher.Apply(delta);
            Assert.Equal(to, matcher.Version);
            versions.Add((matcher, rules.Tokens));

            var data = Haystacks.Plant(random, Haystacks.Noise(random, 4000), everToken, 40);
            AssertMatches(matcher, rules, data, random);
        }

        // Every older version still answers for its own rule set: updates never change a published version.
        var check = Haystacks.Plant(random, Haystacks.Noise(random, 4000), everToken, 60);
        foreach (var (old, tokens) in versions)
        {
            Assert.Equal(Oracle.Find(check, tokens), Scan.Found(old, check, Scan.Whole()));
        }

        // Compaction keeps the answers and the version.
        var compacted = matcher.Compact();
        Assert.Equal(matcher.Version, compacted.Version);
        Assert.Equal(matcher.TokenCount, compacted.TokenCount);
        Assert.False(compacted.CompactionRecommended);
        AssertMatches(compacted, rules, check, random);

        // And the compacted line goes on taking deltas.
        var last = compacted.Apply(RuleSetDelta.Upsert(rules.Version, rules.NextVersion(), rules.Put("after-compaction", RuleAction.Block, everToken[0])));
        AssertMatches(last, rules, check, random);
    }

    private static void AssertMatches(TokenMatcher matcher, TestRules rules, byte[] data, Random random)
    {
        var expected = Oracle.Find(data, rules.Tokens);
        Assert.Equal(expected, Scan.Found(matcher, data, Scan.RandomSizes(random, 700)));
        foreach (var match in matcher.FindAll(data))
        {
            Assert.Equal(rules.ActionOf(matcher.GetTokenId(match.Token)), match.Action);
        }
    }

    [Fact]
    public void Apply_WrongFromVersion_RefusedAndNothingChanges()
    {
        var rules = new TestRules();
        var token = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"u8.ToArray();
        rules.Put("a", RuleAction.Block, token);
        var matcher = rules.Build();

        var error = Assert.Throws<RuleSetRejectedException>(() => matcher.Apply(RuleSetDelta.Remove(7, 8, "a")));

        Assert.Contains("applies to version 7, but the current version is 1", error.Message, StringComparison.Ordinal);
        Assert.Single(matcher.FindAll(token));
    }

    [Fact]
    public void Apply_UnknownLeaksAndBadTokens_RefusedWithEveryProblemNamed()
    {
        var rules = new TestRules();
        rules.Put("a", RuleAction.Block, "ghp_abcdefghijklmnopqrstuvwxyz0123456789"u8.ToArray());
        var matcher = rules.Build();
        var badDigest = TestRules.Digester.Digest("bad", "0123456789abcdef") with { Windows = [1, 2] };

        var error = Assert.Throws<RuleSetRejectedException>(() => matcher.Apply(new RuleSetDelta(
            1, 2,
            [new LeakRule("b", RuleAction.Block, [badDigest]), new LeakRule("c", RuleAction.Block, [])],
            ["missing"],
            [new LeakActionChange("ghost", RuleAction.Block)])));

        Assert.Equal(4, error.Problems.Count);
        Assert.Contains(error.Problems, p => p.Contains("cannot remove leak 'missing'", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("token 'bad' carries 2 window hashes", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("leak 'c' has no tokens", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("leak 'ghost'", StringComparison.Ordinal));
    }

    [Fact]
    public void Apply_RemoveThenReAddSameId_FindsOnlyNewTokens()
    {
        var rules = new TestRules();
        var oldToken = "sk_live_aaaaaaaaaaaaaaaaaaaaaaaa0000000000"u8.ToArray();
        var newToken = "sk_live_bbbbbbbbbbbbbbbbbbbbbbbb1111111111"u8.ToArray();
        rules.Put("leak", RuleAction.Block, oldToken);
        var matcher = rules.Build();

        matcher = matcher.Apply(new RuleSetDelta(1, 2, [rules.Put("leak", RuleAction.Monitor, newToken)], ["leak"], []));

        Assert.Empty(matcher.FindAll(oldToken));
        var match = Assert.Single(matcher.FindAll(newToken));
        Assert.Equal(RuleAction.Monitor, match.Action);
        Assert.Equal(1, matcher.LeakCount);
        Assert.Equal(1, matcher.TokenCount);
    }

    [Fact]
    public void Apply_IntoEmptyMatcher_CreatesGroupsOnDemand()
    {
        var matcher = TokenMatcher.Build(TestRules.Key, RuleSet.Empty);
        var rules = new TestRules();
        var tokens = new[] { "abcdefgh"u8.ToArray(), "AKIAABCDEFGHIJKLMNOP"u8.ToArray(), "ghp_abcdefghijklmnopqrstuvwxyz0123456789"u8.ToArray() };
        var rule = rules.Put("leak", RuleAction.Block, tokens);

        matcher = matcher.Apply(RuleSetDelta.Upsert(0, 1, rule));

        var data = "abcdefgh AKIAABCDEFGHIJKLMNOP ghp_abcdefghijklmnopqrstuvwxyz0123456789"u8.ToArray();
        Assert.Equal(Oracle.Find(data, rules.Tokens), Scan.Found(matcher, data, Scan.Fixed(3)));
    }

    [Fact]
    public void Apply_ManySmallUpdates_RecommendsCompactionAndCompactionKeepsMatches()
    {
        var factory = new TokenFactory(11);
        var rules = new TestRules();
        rules.Put("seed", RuleAction.Block, factory.RealWorld());
        var matcher = rules.Build();
        for (var i = 0; i < 300; i++)
        {
            matcher = matcher.Apply(RuleSetDelta.Upsert(rules.Version, rules.NextVersion(), rules.Put($"l{i}", RuleAction.Block, factory.RealWorld(), factory.RealWorld())));
        }

        Assert.True(matcher.CompactionRecommended);
        var data = Haystacks.Plant(factory.Random, Haystacks.Noise(factory.Random, 20_000), rules.Tokens.Values.ToList(), 100);
        var expected = Oracle.Find(data, rules.Tokens);
        Assert.Equal(expected, Scan.Found(matcher, data, Scan.Whole()));

        var compacted = matcher.Compact();
        Assert.False(compacted.CompactionRecommended);
        Assert.Equal(expected, Scan.Found(compacted, data, Scan.Whole()));
    }

    [Fact]
    public void Apply_OneLeakOnLargeSet_OnlyThatLeakChanges()
    {
        // 100k tokens, one leak added then another removed (bench/ measures how long this takes).
        var factory = new TokenFactory(5);
        var rules = new TestRules();
        for (var i = 0; i < 10_000; i++)
        {
            rules.Put($"l{i}", RuleAction.Block, Enumerable.Range(0, 10).Select(_ => factory.RealWorld()).ToArray());
        }
        var matcher = rules.Build();
        var added = rules.Put("new", RuleAction.Block, factory.RealWorld());

        var next = matcher.Apply(RuleSetDelta.Upsert(rules.Version, rules.Version + 1, added));
        var removedLeak = rules.Rule("l5");
        var removed = next.Apply(RuleSetDelta.Remove(rules.Version + 1, rules.Version + 2, "l5"));

        Assert.Equal(100_001, next.TokenCount);
        Assert.Equal(99_991, removed.TokenCount);
        var newToken = rules.Tokens[added.Tokens[0].Id];
        var goneToken = rules.Tokens[removedLeak.Tokens[0].Id];
        Assert.Empty(matcher.FindAll(newToken));
        Assert.Single(next.FindAll(newToken));
        Assert.Single(removed.FindAll(newToken));
        Assert.Single(next.FindAll(goneToken));
        Assert.Empty(removed.FindAll(goneToken));
    }
}
