using LeakNode.Matching;
using LeakNode.Matching.Digests;
using LeakNode.Node.RuleSync;
using LeakNode.Node.Tests.Support;
using LeakNode.Protocol.V1;
using Microsoft.Extensions.Logging.Abstractions;
using RuleAction = LeakNode.Matching.Rules.RuleAction;

namespace LeakNode.Node.Tests.RuleSync;

public sealed class RuleCacheTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("leaknode-cache-test-").FullName;
    private readonly CloudScript _cloud = new();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private RuleCache Open() => new(_folder, NullLogger.Instance);

    private TokenMatcher? Load(RuleCache cache) => cache.LoadRules(_cloud.Key, _cloud.KeyId, MatcherLimits.Default);

    private RuleCache WithSnapshot()
    {
        var cache = Open();
        cache.SaveKey(_cloud.KeyBytes);
        cache.WriteSnapshot(_cloud.KeyId, CloudScript.Snapshot(1, 1, _cloud.Leak("a", RuleAction.Monitor, "ghp_tokenNumberOne000000000000000000000"), _cloud.Leak("b", RuleAction.Block, "ghp_tokenNumberTwo000000000000000000000")));
        return cache;
    }

    private static RuleUpdate Vpatch(long from, string leak, bool block)
    {
        var update = new RuleUpdate { Version = from + 1, FromVersion = from, Last = true };
        update.ActionChanged.Add(new ActionChange { LeakId = leak, Action = block ? Protocol.V1.RuleAction.Block : Protocol.V1.RuleAction.Monitor });
        return update;
    }

    [Fact]
    public void LoadRules_SnapshotAndDeltas_ReplayedToTheLastVersion()
    {
        using (var cache = WithSnapshot())
        {
            cache.AppendDelta(Vpatch(1, "a", block: true));
            cache.AppendDelta(Vpatch(2, "b", block: false));
        }

        using var again = Open();
        var matcher = Load(again);

        Assert.NotNull(matcher);
        Assert.Equal(3, matcher.Version);
        Assert.Equal(2, matcher.TokenCount);
        Assert.Equal(_cloud.KeyBytes, again.LoadKey());
    }

    [Fact]
    public void LoadRules_TornLastRecord_CutOffAndTheLogGoesOn()
    {
        using (var cache = WithSnapshot())
        {
            cache.AppendDelta(Vpatch(1, "a", block: true));
        }
        // A crash in the middle of the next append: half a record.
        using (var log = new FileStream(Path.Combine(_folder, RuleCache.DeltaFileName), FileMode.Append))
        {
            log.Write([40, 0, 0, 0, 1, 2, 3]);
        }

        using (var cache = Open())
        {
            Assert.Equal(2, Load(cache)?.Version);
            cache.AppendDelta(Vpatch(2, "a", block: false));
        }

        using var last = Open();
        Assert.Equal(3, Load(last)?.Version);
    }

    [Fact]
    public void LoadRules_MadeWithAnotherKey_NotUsed()
    {
        using (WithSnapshot())
        {
        }
        var other = new CloudScript();

        using var cache = Open();
        Assert.Null(cache.LoadRules(other.Key, other.KeyId, MatcherLimits.Default));
    }

    [Fact]
    public void SaveKey_NewKey_VoidsTheCachedRules()
    {
        using var cache = WithSnapshot();

        cache.SaveKey(DigestKey.GenerateBytes());

        Assert.False(File.Exists(Path.Combine(_folder, RuleCache.SnapshotFileName)));
        Assert.Null(Load(cache));
    }

    [Fact]
    public async Task Compact_ManyDeltas_FoldedIntoOneSnapshotOfTheSameRules()
    {
        using (var cache = WithSnapshot())
        {
            var version = 1L;
            while (!cache.CompactionDue)
            {
                cache.AppendDelta(Vpatch(version, version % 2 == 0 ? "a" : "b", block: version % 3 == 0));
                version++;
            }
            cache.StartCompaction(_cloud.KeyId);
            // Deltas keep coming while the compaction runs: they continue the compacted snapshot.
            cache.AppendDelta(Vpatch(version++, "a", block: false));
            Assert.False(cache.CompactionDue);
            await cache.Compaction!.WaitAsync(TestContext.Current.CancellationToken);
            cache.FinishCompaction();
            Assert.Null(cache.Compaction);
            Assert.False(cache.CompactionDue);
            cache.AppendDelta(Vpatch(version, "a", block: true));
        }

        using var again = Open();
        var matcher = Load(again)!;
        Assert.True(matcher.Version > 256);
        Assert.Equal(2, matcher.TokenCount);
        Assert.True(new FileInfo(Path.Combine(_folder, RuleCache.DeltaFileName)).Length < 300);
        Assert.False(File.Exists(Path.Combine(_folder, RuleCache.DeltaFileName + ".next")));
        // leak-a blocks after the last delta: a scan finds its token as a block.
        var hit = Assert.Single(matcher.FindAll("x ghp_tokenNumberOne000000000000000000000 y"u8));
        Assert.Equal(RuleAction.Block, hit.Action);
    }
}
