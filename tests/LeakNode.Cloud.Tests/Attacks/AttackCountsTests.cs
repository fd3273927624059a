using LeakNode.Cloud.Attacks;
using LeakNode.Cloud.Sync;
using LeakNode.Cloud.Tests.Support;

namespace LeakNode.Cloud.Tests.Attacks;

/// <summary>
/// The totals and charts that come from the hourly counts against a dumb oracle: the events themselves, filtered and
/// counted in memory. Random events over three days, random filters with edges anywhere (on an hour, inside one,
/// inside the same hour), so that the whole-hour sums and the part-hour counts are both exercised.
/// </summary>
public sealed class AttackCountsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly string[] LeakIds = ["lk_a", "lk_b", "lk_c"];
    private static readonly string[] Actions = ["blocked", "monitored"];

    [Fact]
    public async Task TotalAndHistogram_RandomFilters_MatchCountingTheEvents()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var (_, node) = await cloud.Admin.PostJsonAsync("/api/v1/nodes", new { name = "edge" });
        var random = new Random(2026);
        var span = (long)TimeSpan.FromDays(3).TotalMilliseconds;
        var events = Enumerable.Range(0, 3000).Select(i =>
        {
            var action = Actions[random.Next(Actions.Length)];
            // A few share a millisecond, and some sit exactly on an hour.
            var offset = i % 50 == 0 ? random.Next(72) * AttackCounts.HourMs : random.NextInt64(span);
            return new IncomingAttack(
                $"ev-{i:D5}", "vpatch", T0.AddMilliseconds(offset), LeakIds[random.Next(LeakIds.Length)], "tk_1", "ff", null, action, 1, "192.0.2.1", "GET", "h", "/",
                "header:Authorization", action == "blocked" ? 403 : 200);
        }).ToList();
        var store = cloud.Service<IAttackStore>();
        foreach (var batch in events.Chunk(500))
        {
            await store.InsertBatchAsync(node.Id(), batch, CloudApi.Ct);
        }

        for (var round = 0; round < 60; round++)
        {
            DateTimeOffset? from = random.Next(4) == 0 ? null : T0.AddMilliseconds(Edge(random, span));
            DateTimeOffset? to = random.Next(4) == 0 ? null : (from ?? T0).AddMilliseconds(random.Next(3) == 0 ? random.Next(3_600_000) : Edge(random, span));
            var leakId = random.Next(2) == 0 ? null : LeakIds[random.Next(LeakIds.Length)];
            var action = random.Next(2) == 0 ? null : Actions[random.Next(Actions.Length)];
            var expected = events.Count(e => (leakId is null || e.LeakId == leakId) && (action is null || e.Action == action)
                && (from is null || e.Time >= from) && (to is null || e.Time < to));

            var query = $"/api/v1/attacks?limit=1{(leakId is null ? "" : "&leakId=" + leakId)}{(action is null ? "" : "&action=" + action)}"
                + (from is null ? "" : "&from=" + Uri.EscapeDataString(from.Value.ToString("O"))) + (to is null ? "" : "&to=" + Uri.EscapeDataString(to.Value.ToString("O")));
            var (_, page) = await cloud.Admin.GetJsonAsync(query);
            Assert.True(expected == page.GetProperty("total").GetInt64(), $"{query}: total {page.GetProperty("total")}, the events say {expected}");
            Assert.Equal(Math.Min(expected, 1), page.GetProperty("items").GetArrayLength());
        }

        // The console's charts: hourly and daily slots from a whole hour (from the counts), and slots that are not
        // whole hours (counted over the events), each against the events.
        var attacks = cloud.Service<AttackStore>();
        foreach (var (start, slot, slots) in new[]
        {
            (T0, TimeSpan.FromHours(1), 72), (T0.AddHours(5), TimeSpan.FromHours(1), 24), (T0.AddDays(-1), TimeSpan.FromDays(1), 5),
            (T0.AddMinutes(30), TimeSpan.FromMinutes(90), 40),
        })
        {
            foreach (var leakId in new[] { null, "lk_b" })
            {
                var counts = await attacks.HistogramAsync(new AttackFilter(null, leakId, null, null, null), start, slot, slots, CloudApi.Ct);
                var expected = Enumerable.Range(0, slots)
                    .Select(i => (long)events.Count(e => (leakId is null || e.LeakId == leakId) && e.Time >= start + (slot * i) && e.Time < start + (slot * (i + 1))))
                    .ToArray();
                Assert.Equal(expected, counts);
            }
        }
    }

    /// <summary>An offset: on an hour, a millisecond either side of one, or anywhere.</summary>
    private static long Edge(Random random, long span) => random.Next(4) switch
    {
        0 => random.Next(72) * AttackCounts.HourMs,
        1 => (random.Next(72) * AttackCounts.HourMs) + 1,
        2 => (random.Next(1, 72) * AttackCounts.HourMs) - 1,
        _ => random.NextInt64(span),
    };
}
