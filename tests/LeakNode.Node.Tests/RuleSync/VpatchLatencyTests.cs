using System.Diagnostics;
using System.Net;
using LeakNode.Matching.Digests;
using LeakNode.Matching.Rules;
using LeakNode.Protocol;
using LeakNode.Protocol.V1;
using LeakNode.Testing;
using ProtoAction = LeakNode.Protocol.V1.RuleAction;
using TokenDigest = LeakNode.Matching.Digests.TokenDigest;

namespace LeakNode.Node.Tests.RuleSync;

public sealed class VpatchLatencyTests
{
    private const int Leaks = 1_000;
    private const int TokensPerLeak = 100;

    /// <summary>Past the rule cache's 256 deltas, so that a compaction of the cache runs meanwhile, as in production now and then.</summary>
    private const int Versions = 300;

    [Fact]
    public async Task Vpatch_With100kTokensInForce_AckedWellUnderOneSecond()
    {
        var cancel = TestContext.Current.CancellationToken;
        await using var cloud = await CloudFixture.StartAsync();
        var factory = new TokenFactory(100_000);
        var digester = new TokenDigester(cloud.Script.Key);
        var first = "";
        var leaks = new List<LeakNode.Matching.Rules.LeakRule>(Leaks);
        for (var l = 0; l < Leaks; l++)
        {
            var digests = new TokenDigest[TokensPerLeak];
            for (var t = 0; t < TokensPerLeak; t++)
            {
                var token = "tok_" + factory.Chars("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 36);
                first = l == 0 && t == 0 ? token : first;
                digests[t] = digester.Digest($"leak-{l}/t{t}", token);
            }
            leaks.Add(new LeakNode.Matching.Rules.LeakRule($"leak-{l}", LeakNode.Matching.Rules.RuleAction.Monitor, digests));
        }
        var parts = RuleMapping.ToSnapshotParts(new RuleSet(1, leaks)).ToList();
        cloud.Script.OnHello = _ => parts;
        var node = await cloud.StartNodeAsync();
        Assert.True((await cloud.Script.NextAckAsync()).Applied);
        Assert.Equal(Leaks * TokensPerLeak, (await node.StatusAsync()).GetProperty("rules").GetProperty("tokens").GetInt32());

        var times = new List<double>();
        for (var version = 2; version <= Versions + 1; version++)
        {
            var vpatch = new RuleUpdate { Version = version, FromVersion = version - 1, Last = true };
            vpatch.ActionChanged.Add(new ActionChange { LeakId = $"leak-{version % 7}", Action = version % 2 == 0 ? ProtoAction.Block : ProtoAction.Monitor });
            var started = Stopwatch.GetTimestamp();
            await cloud.Script.PushAsync(vpatch, cancel);
            var ack = await cloud.Script.NextAckAsync();
            times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            Assert.Equal(new RuleAck { Version = version, Applied = true }, ack);
        }

        var sorted = times.Order().ToArray();
        var line = $"vpatch push → ack with {Leaks * TokensPerLeak} tokens in force: median {sorted[sorted.Length / 2]:0.0} ms, 99th {sorted[sorted.Length * 99 / 100]:0.0} ms, max {sorted[^1]:0.0} ms over {sorted.Length} versions";
        TestContext.Current.TestOutputHelper?.WriteLine(line);
        Console.WriteLine(line);
        Assert.True(sorted[sorted.Length / 2] < 250, line);
        Assert.True(sorted[^1] < 1000, line);

        // The compaction ran in the background; the next update puts it in place. Vpatches go on until it has.
        var next = Versions + 2L;
        for (; !node.Logs.Any(l => l.Contains("[4010]", StringComparison.Ordinal)); next++)
        {
            Assert.True(next < Versions + 200, "the compacted rule cache was never put in place");
            var vpatch = new RuleUpdate { Version = next, FromVersion = next - 1, Last = true };
            vpatch.ActionChanged.Add(new ActionChange { LeakId = "leak-0", Action = ProtoAction.Block });
            await cloud.Script.PushAsync(vpatch, cancel);
            Assert.True((await cloud.Script.NextAckAsync()).Applied);
            await Task.Delay(50, cancel);
        }

        // After a restart the compacted snapshot and its log give the last version, leak-0 blocked.
        await cloud.StopNodeAsync(node);
        await cloud.Cloud.StopAsync();
        node = await cloud.StartNodeAsync();
        Assert.Equal(next - 1, (await node.StatusAsync()).GetProperty("rules").GetProperty("version").GetInt64());
        using var response = await node.Client.GetAsync(new Uri("/api?key=" + first, UriKind.Relative), cancel);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }
}
