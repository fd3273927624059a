using LeakNode.Cloud.Leaks;
using LeakNode.Cloud.Sync;
using LeakNode.Cloud.Tests.Support;
using LeakNode.Matching;
using LeakNode.Matching.Rules;

namespace LeakNode.Cloud.Tests.Rules;

public sealed class RuleFeedTests
{
    /// <summary>A rule set in a form two sets can be compared in: leak id → action and its tokens (id, hmac, windows).</summary>
    private static SortedDictionary<string, string> Canonical(IEnumerable<LeakRule> leaks) =>
        new(leaks.ToDictionary(
            l => l.Id,
            l => l.Action + ":" + string.Join(";", l.Tokens.Select(t => $"{t.Id}/{t.Length}/{t.SpanStart}/{Convert.ToHexString(t.Hmac)}/{string.Join(',', t.Windows)}/{t.Preview}"))),
            StringComparer.Ordinal);

    /// <summary>The delta semantics of <see cref="RuleSetDelta"/>, written out plainly: the oracle.</summary>
    private static Dictionary<string, LeakRule> Apply(RuleSet from, RuleSetDelta delta)
    {
        Assert.Equal(from.Version, delta.FromVersion);
        var leaks = from.Leaks.ToDictionary(l => l.Id, StringComparer.Ordinal);
        foreach (var id in delta.Removed)
        {
            Assert.True(leaks.Remove(id), $"delta removes {id}, which version {from.Version} does not have");
        }
        foreach (var leak in delta.Upserted)
        {
            leaks[leak.Id] = leak;
        }
        foreach (var change in delta.ActionChanged)
        {
            Assert.True(leaks.TryGetValue(change.LeakId, out var leak), $"delta changes the action of {change.LeakId}, which is not there");
            Assert.NotEqual(change.Action, leak.Action);
            leaks[change.LeakId] = leak with { Action = change.Action };
        }
        return leaks;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task DeltaAsync_FromEveryVersion_AppliedToThatSnapshot_EqualsTheSnapshotNow(int seed)
    {
        await using var cloud = await CloudHarness.StartAsync();
        var store = cloud.Service<LeakStore>();
        var feed = cloud.Service<IRuleFeed>();
        var key = cloud.Service<IDeploymentKeyring>().Key;
        var random = new Random(seed);
        var tokens = new Tokens(seed);
        var snapshots = new Dictionary<long, RuleSet> { [0] = await feed.SnapshotAsync(CloudApi.Ct) };
        Assert.Equal(0, snapshots[0].Version);
        var ids = new List<string>();
        var used = new List<string>();
        var actions = Enum.GetValues<LeakAction>();

        for (var step = 0; step < 60; step++)
        {
            try
            {
                if (ids.Count < 3 || random.Next(4) == 0)
                {
                    // Sometimes a token some earlier leak had: allowed while that one is not open, refused (409) when it is.
                    var leakTokens = tokens.Next(random.Next(1, 4)).ToList();
                    if (used.Count > 0 && random.Next(3) == 0)
                    {
                        leakTokens.Add(used[random.Next(used.Count)]);
                    }
                    var leak = await store.CreateAsync(new NewLeak($"leak {step}", "", 5, leakTokens.Distinct().ToList(), "manual", null, null), "test", CloudApi.Ct);
                    ids.Add(leak.Id);
                    used.AddRange(leakTokens);
                }
                else if (random.Next(5) == 0)
                {
                    // More tokens, sometimes one another leak has (refused while that one is open).
                    var more = tokens.Next(random.Next(1, 3)).ToList();
                    if (random.Next(3) == 0)
                    {
                        more.Add(used[random.Next(used.Count)]);
                    }
                    await store.AddTokensAsync(ids[random.Next(ids.Count)], more.Distinct().ToList(), null, "test", CloudApi.Ct);
                    used.AddRange(more);
                }
                else if (random.Next(6) == 0)
                {
                    await store.EditAsync(ids[random.Next(ids.Count)], new LeakEdit(null, null, random.Next(1, 11)), "test", CloudApi.Ct);
                }
                else
                {
                    await store.TransitionAsync(ids[random.Next(ids.Count)], actions[random.Next(actions.Length)], null, "test", CloudApi.Ct);
                }
            }
            catch (LeakRefusedException)
            {
                // A forbidden transition or a token in another open leak: no version is taken (checked below).
            }
            var snapshot = await feed.SnapshotAsync(CloudApi.Ct);
            if (snapshots.TryGetValue(snapshot.Version, out var same))
            {
                Assert.Equal(Canonical(same.Leaks), Canonical(snapshot.Leaks));
            }
            snapshots[snapshot.Version] = snapshot;
        }

        var now = await feed.SnapshotAsync(CloudApi.Ct);
        Assert.Equal(now.Version, await feed.CurrentVersionAsync(CloudApi.Ct));
        Assert.True(now.Version >= 20, $"only {now.Version} versions in 60 steps");
        var matcherNow = TokenMatcher.Build(key, now);
        foreach (var (version, snapshot) in snapshots)
        {
            var delta = await feed.DeltaAsync(version, CloudApi.Ct);
            Assert.NotNull(delta);
            Assert.Equal(now.Version, delta.ToVersion);
            Assert.Equal(Canonical(now.Leaks), Canonical(Apply(snapshot, delta).Values));
            if (version < now.Version)
            {
                // The matcher accepts the delta against the rule set it was made for, and ends where a fresh build does.
                var applied = TokenMatcher.Build(key, snapshot).Apply(delta);
                Assert.Equal(now.Version, applied.Version);
                Assert.Equal(matcherNow.LeakCount, applied.LeakCount);
                Assert.Equal(matcherNow.TokenCount, applied.TokenCount);
            }
        }
    }

    [Fact]
    public async Task SnapshotAsync_WatchesOpenLeaks_BlockOnlyWhenPatched()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var store = cloud.Service<LeakStore>();
        var feed = cloud.Service<IRuleFeed>();
        var tokens = new Tokens(7);
        NewLeak Leak(string name) => new(name, "", 5, tokens.Next(2), "manual", null, null);
        var monitored = await store.CreateAsync(Leak("monitored"), "t", CloudApi.Ct);
        var patched = await store.CreateAsync(Leak("patched"), "t", CloudApi.Ct);
        var closed = await store.CreateAsync(Leak("closed"), "t", CloudApi.Ct);
        var falsePositive = await store.CreateAsync(Leak("false"), "t", CloudApi.Ct);
        await store.TransitionAsync(patched.Id, LeakAction.Vpatch, null, "t", CloudApi.Ct);
        await store.TransitionAsync(closed.Id, LeakAction.Close, null, "t", CloudApi.Ct);
        await store.TransitionAsync(falsePositive.Id, LeakAction.MarkFalse, null, "t", CloudApi.Ct);

        var snapshot = await feed.SnapshotAsync(CloudApi.Ct);

        Assert.Equal(7, snapshot.Version);
        var leaks = snapshot.Leaks.ToDictionary(l => l.Id);
        Assert.Equal(2, leaks.Count);
        Assert.Equal(RuleAction.Monitor, leaks[monitored.Id].Action);
        Assert.Equal(RuleAction.Block, leaks[patched.Id].Action);
        Assert.Equal(patched.Tokens.Select(t => t.Id), leaks[patched.Id].Tokens.Select(t => t.Id));
        Assert.Equal(patched.Tokens.Select(t => t.Fingerprint), leaks[patched.Id].Tokens.Select(t => t.Fingerprint));
        Assert.All(snapshot.Leaks.SelectMany(l => l.Tokens), t => Assert.Null(t.Validate()));
    }

    [Fact]
    public async Task SnapshotAsync_MatcherBuiltFromIt_FindsTheTokens()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var store = cloud.Service<LeakStore>();
        var tokens = new Tokens(8).Next(3);
        var leak = await store.CreateAsync(new NewLeak("x", "", 5, tokens, "manual", null, null), "t", CloudApi.Ct);
        var matcher = TokenMatcher.Build(cloud.Service<IDeploymentKeyring>().Key, await cloud.Service<IRuleFeed>().SnapshotAsync(CloudApi.Ct));

        var matches = matcher.FindAll(System.Text.Encoding.UTF8.GetBytes($"Authorization: Bearer {tokens[1]}\r\n"));

        var match = Assert.Single(matches);
        Assert.Equal(leak.Tokens[1].Id, matcher.GetTokenId(match.Token));
    }

    [Fact]
    public async Task EditAsync_DoesNotTakeAVersion()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var store = cloud.Service<LeakStore>();
        var feed = cloud.Service<IRuleFeed>();
        var leak = await store.CreateAsync(new NewLeak("x", "", 5, new Tokens(9).Next(1), "manual", null, null), "t", CloudApi.Ct);
        var before = await feed.CurrentVersionAsync(CloudApi.Ct);
        await store.EditAsync(leak.Id, new LeakEdit("y", "z", 9), "t", CloudApi.Ct);
        Assert.Equal(before, await feed.CurrentVersionAsync(CloudApi.Ct));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(5)]
    [InlineData(long.MaxValue)]
    public async Task DeltaAsync_UnknownOrFutureVersion_IsNull(long from)
    {
        await using var cloud = await CloudHarness.StartAsync();
        var store = cloud.Service<LeakStore>();
        await store.CreateAsync(new NewLeak("x", "", 5, new Tokens(10).Next(1), "manual", null, null), "t", CloudApi.Ct);
        Assert.Null(await cloud.Service<IRuleFeed>().DeltaAsync(from, CloudApi.Ct));
    }

    [Fact]
    public async Task DeltaAsync_CurrentVersion_IsEmpty()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var feed = cloud.Service<IRuleFeed>();
        var delta = await feed.DeltaAsync(0, CloudApi.Ct);
        Assert.NotNull(delta);
        Assert.Empty(delta.Upserted);
        Assert.Empty(delta.Removed);
        Assert.Empty(delta.ActionChanged);
    }

    [Fact]
    public async Task DeltaAsync_VersionOlderThanTheKeptLog_IsNull()
    {
        await using var cloud = await CloudHarness.StartAsync(new Dictionary<string, string?> { ["Limits:RuleChangeLogSize"] = "5" });
        var store = cloud.Service<LeakStore>();
        var feed = cloud.Service<IRuleFeed>();
        var tokens = new Tokens(11);
        for (var i = 0; i < 12; i++)
        {
            await store.CreateAsync(new NewLeak($"l{i}", "", 5, tokens.Next(1), "manual", null, null), "t", CloudApi.Ct);
        }
        Assert.Equal(12, await feed.CurrentVersionAsync(CloudApi.Ct));
        Assert.Null(await feed.DeltaAsync(2, CloudApi.Ct));
        var recent = await feed.DeltaAsync(10, CloudApi.Ct);
        Assert.NotNull(recent);
        Assert.Equal(2, recent.Upserted.Count);
    }

    [Fact]
    public async Task DeltaAsync_PatchThenWithdraw_IsNoChange()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var store = cloud.Service<LeakStore>();
        var feed = cloud.Service<IRuleFeed>();
        var leak = await store.CreateAsync(new NewLeak("x", "", 5, new Tokens(12).Next(1), "manual", null, null), "t", CloudApi.Ct);
        var from = await feed.CurrentVersionAsync(CloudApi.Ct);
        await store.TransitionAsync(leak.Id, LeakAction.Close, null, "t", CloudApi.Ct);
        await store.TransitionAsync(leak.Id, LeakAction.Reopen, null, "t", CloudApi.Ct);

        var delta = await feed.DeltaAsync(from, CloudApi.Ct);

        Assert.NotNull(delta);
        Assert.Equal(from + 2, delta.ToVersion);
        Assert.Empty(delta.Upserted);
        Assert.Empty(delta.Removed);
        Assert.Empty(delta.ActionChanged);
    }

    [Fact]
    public async Task DeltaAsync_TokensAddedToAPatchedLeak_UpsertsItWhole()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var store = cloud.Service<LeakStore>();
        var feed = cloud.Service<IRuleFeed>();
        var tokens = new Tokens(15);
        var leak = await store.CreateAsync(new NewLeak("x", "", 5, tokens.Next(1), "manual", null, null), "t", CloudApi.Ct);
        await store.TransitionAsync(leak.Id, LeakAction.Vpatch, null, "t", CloudApi.Ct);
        var from = await feed.CurrentVersionAsync(CloudApi.Ct);
        await store.AddTokensAsync(leak.Id, tokens.Next(2), null, "t", CloudApi.Ct);

        var delta = await feed.DeltaAsync(from, CloudApi.Ct);

        Assert.NotNull(delta);
        var upserted = Assert.Single(delta.Upserted);
        Assert.Equal(RuleAction.Block, upserted.Action);
        Assert.Equal(3, upserted.Tokens.Count);
        Assert.Empty(delta.ActionChanged);
    }

    [Fact]
    public async Task DeltaAsync_Vpatch_IsAnActionChange()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var store = cloud.Service<LeakStore>();
        var feed = cloud.Service<IRuleFeed>();
        var leak = await store.CreateAsync(new NewLeak("x", "", 5, new Tokens(13).Next(1), "manual", null, null), "t", CloudApi.Ct);
        await store.TransitionAsync(leak.Id, LeakAction.Vpatch, null, "t", CloudApi.Ct);

        var delta = await feed.DeltaAsync(1, CloudApi.Ct);

        Assert.NotNull(delta);
        Assert.Equal(new[] { new LeakActionChange(leak.Id, RuleAction.Block) }, delta.ActionChanged);
    }

    [Fact]
    public async Task WaitForVersionAsync_CompletesWhenAChangeCommits()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var feed = cloud.Service<IRuleFeed>();
        await feed.WaitForVersionAsync(-1, CloudApi.Ct);
        var waiting = feed.WaitForVersionAsync(0, CloudApi.Ct);
        await Task.Delay(50, CloudApi.Ct);
        Assert.False(waiting.IsCompleted);

        await cloud.Service<LeakStore>().CreateAsync(new NewLeak("x", "", 5, new Tokens(14).Next(1), "manual", null, null), "t", CloudApi.Ct);

        await waiting.WaitAsync(TimeSpan.FromSeconds(5), CloudApi.Ct);
        Assert.Equal(1, await feed.CurrentVersionAsync(CloudApi.Ct));
    }

    [Fact]
    public async Task WaitForVersionAsync_Cancelled_Throws()
    {
        await using var cloud = await CloudHarness.StartAsync();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cloud.Service<IRuleFeed>().WaitForVersionAsync(0, cancel.Token));
    }
}
