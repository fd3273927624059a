using LeakNode.Matching.Rules;
using LeakNode.Matching.Tests.Support;
using LeakNode.Testing;

namespace LeakNode.Matching.Tests;

public sealed class LiveMatcherTests
{
    [Fact]
    public async Task Apply_WhileScansRun_ScansSeeOneConsistentVersion()
    {
        var factory = new TokenFactory(3);
        var rules = new TestRules();
        var stable = factory.RealWorld();
        rules.Put("stable", RuleAction.Block, stable);
        var live = new LiveMatcher(rules.Build());
        var data = Haystacks.Plant(new Random(1), Haystacks.Noise(new Random(1), 50_000), [stable], 30);
        var expectedStable = Oracle.Find(data, new Dictionary<string, byte[]> { ["x"] = stable }).Count;

        using var stop = new CancellationTokenSource();
        var readers = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            var scans = 0;
            while (!stop.IsCancellationRequested)
            {
                var matcher = live.Current;
                var found = matcher.FindAll(data).Count(m => matcher.GetLeakId(m.Leak) == "stable");
                Assert.Equal(expectedStable, found);
                scans++;
            }
            return scans;
        })).ToArray();

        for (var i = 0; i < 200; i++)
        {
            live.Apply(RuleSetDelta.Upsert(rules.Version, rules.NextVersion(), rules.Put($"l{i}", RuleAction.Block, factory.RealWorld())));
        }
        await live.Compaction;
        await stop.CancelAsync();
        var scanned = await Task.WhenAll(readers);

        Assert.All(scanned, count => Assert.True(count > 0));
        Assert.Equal(rules.Version, live.Current.Version);
        Assert.Equal(Oracle.Find(data, rules.Tokens), Scan.Found(live.Current, data, Scan.Whole()));
    }

    [Fact]
    public async Task Apply_DuringCompaction_ReplayedOntoCompactedVersion()
    {
        var factory = new TokenFactory(4);
        var rules = new TestRules();
        for (var i = 0; i < 2000; i++)
        {
            rules.Put($"l{i}", RuleAction.Block, factory.RealWorld(), factory.RealWorld());
        }
        var live = new LiveMatcher(rules.Build());
        var published = new List<long>();
        live.Changed += m => { lock (published) { published.Add(m.Version); } };

        // Removing a fifth of the leaks makes compaction worthwhile; keep updating while it runs.
        var removals = Enumerable.Range(0, 400).Select(i => $"l{i}").ToArray();
        foreach (var id in removals)
        {
            rules.Remove(id);
        }
        live.Apply(RuleSetDelta.Remove(rules.Version, rules.NextVersion(), removals));
        for (var i = 0; i < 20; i++)
        {
            live.Apply(RuleSetDelta.Upsert(rules.Version, rules.NextVersion(), rules.Put($"n{i}", RuleAction.Monitor, factory.RealWorld())));
        }
        await live.Compaction;

        var current = live.Current;
        Assert.Equal(rules.Version, current.Version);
        Assert.False(current.CompactionRecommended);
        var data = Haystacks.Plant(new Random(9), Haystacks.Noise(new Random(9), 30_000), rules.Tokens.Values.ToList(), 200);
        Assert.Equal(Oracle.Find(data, rules.Tokens), Scan.Found(current, data, Scan.Whole()));
        lock (published)
        {
            Assert.Equal(rules.Version, published[^1]);
        }
    }

    [Fact]
    public void Load_RefusedRuleSet_KeepsCurrent()
    {
        var rules = new TestRules();
        var token = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"u8.ToArray();
        rules.Put("a", RuleAction.Block, token);
        var live = new LiveMatcher(TokenMatcher.Build(TestRules.Key, rules.ToRuleSet(), new MatcherLimits { MaxTokens = 2 }));
        var tooMany = new TestRules();
        tooMany.Put("b", RuleAction.Block, "aaaaaaaaaaaa"u8.ToArray(), "bbbbbbbbbbbb"u8.ToArray(), "cccccccccccc"u8.ToArray());

        var error = Assert.Throws<RuleSetRejectedException>(() => live.Load(tooMany.ToRuleSet()));

        Assert.Contains("3 tokens, over the limit of 2 (MaxTokens)", error.Message, StringComparison.Ordinal);
        Assert.Single(live.Current.FindAll(token));
    }
}
