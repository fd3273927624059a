using System.Text.Json;
using Dapper;
using LeakNode.Cloud.Attacks;
using LeakNode.Cloud.Configuration;
using LeakNode.Cloud.Storage;
using LeakNode.Cloud.Sync;
using LeakNode.Cloud.Tests.Support;
using Microsoft.Extensions.Configuration;

namespace LeakNode.Cloud.Tests.Attacks;

/// <summary>
/// Retention, PostgreSQL's day partitions and the default partition, and the claim that runs the maintenance on one
/// replica: on a SQLite file and, in test.sh's second run, on PostgreSQL.
/// </summary>
public sealed class AttackMaintenanceTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    private static long Today => AttackPartitions.DayOf(Now.ToUnixTimeMilliseconds());

    private static IncomingAttack Attack(string id, DateTimeOffset time, string leakId = "lk_a", string action = "blocked") =>
        new(id, "vpatch", time, leakId, "tk_1", "0123456789abcdef", "ghp_…abcd", action, 1, "203.0.113.9", "GET", "api.example.test",
            "/v1/items", "header:Authorization", action == "blocked" ? 403 : 200);

    private static async Task<string> EnrollAsync(CloudHarness cloud)
    {
        var (_, node) = await cloud.Admin.PostJsonAsync("/api/v1/nodes", new { name = "edge" });
        return node.Id();
    }

    private static Task<CloudHarness> StartAsync(int retentionDays, int daysAhead = 3, string? folder = null, string? adminKey = null) =>
        CloudHarness.StartAsync(
            new Dictionary<string, string?>
            {
                ["Storage:Attacks:RetentionDays"] = retentionDays.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Storage:Attacks:PartitionDaysAhead"] = daysAhead.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Storage:Attacks:DeleteBatchSize"] = "100",
                // The background run happens at start; the tests run the rest themselves.
                ["Storage:Attacks:MaintenanceInterval"] = "1.00:00:00",
            },
            folder,
            adminKey: adminKey);

    private static async Task<List<string>> AllIdsAsync(CloudHarness cloud, string query = "")
    {
        var ids = new List<string>();
        string? cursor = null;
        do
        {
            var (_, page) = await cloud.Admin.GetJsonAsync($"/api/v1/attacks?limit=500{query}" + (cursor is null ? "" : "&cursor=" + cursor));
            ids.AddRange(page.GetProperty("items").EnumerateArray().Select(i => i.Id()));
            cursor = page.GetProperty("nextCursor").ValueKind == JsonValueKind.Null ? null : page.Str("nextCursor");
        }
        while (cursor is not null);
        return ids;
    }

    private static async Task<long> TotalAsync(CloudHarness cloud, string query = "")
    {
        var (_, page) = await cloud.Admin.GetJsonAsync("/api/v1/attacks?limit=1" + query);
        return page.GetProperty("total").GetInt64();
    }

    private static Task<T> ReadAsync<T>(CloudHarness cloud, string sql, object? parameters = null) =>
        cloud.Service<CloudDatabase>().ReadAsync((connection, transaction) => connection.ExecuteScalarAsync<T>(sql, parameters, transaction), CloudApi.Ct)!;

    /// <summary>The first run, started in the background with the cloud, is done (the tests' own runs then race nothing).</summary>
    private static async Task FirstRunDoneAsync(CloudHarness cloud)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await ReadAsync<long>(cloud, "SELECT COUNT(*) FROM maintenance_jobs WHERE name = 'attacks' AND runs > 0 AND owner IS NULL") == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the maintenance did not run at start");
            await Task.Delay(50, CloudApi.Ct);
        }
    }

    [Fact]
    public async Task Retention_DeletesEventsBeforeTheCutoffDay_KeepsTheRestAndTheirCounts()
    {
        await using var cloud = await StartAsync(retentionDays: 30);
        await FirstRunDoneAsync(cloud);
        var maintenance = cloud.Service<AttackMaintenance>();
        var store = cloud.Service<IAttackStore>();
        var nodeId = await EnrollAsync(cloud);
        // On PostgreSQL, a run 100 days ago made the day partitions of then: those events are dropped with their
        // partition; the 40-day-old ones sit in the default partition and are deleted in batches of 100.
        await maintenance.RunAsync(Now.AddDays(-100), CloudApi.Ct);
        var cutoff = DateTimeOffset.FromUnixTimeMilliseconds((Today - 30) * AttackPartitions.DayMs);
        List<IncomingAttack> old = [.. Enumerable.Range(0, 5).Select(i => Attack($"old-100-{i}", Now.AddDays(-100).AddMinutes(i)))];
        old.AddRange(Enumerable.Range(0, 250).Select(i => Attack($"old-40-{i:D3}", Now.AddDays(-40).AddSeconds(i), i % 2 == 0 ? "lk_a" : "lk_b")));
        old.Add(Attack("old-edge", cutoff.AddMilliseconds(-1)));
        List<IncomingAttack> kept =
        [
            Attack("kept-edge", cutoff),
            Attack("kept-29", Now.AddDays(-29)),
            Attack("kept-1", Now.AddDays(-1), "lk_b", "monitored"),
            Attack("kept-now", Now),
        ];
        await store.InsertBatchAsync(nodeId, [.. old, .. kept], CloudApi.Ct);
        Assert.Equal(old.Count + kept.Count, await TotalAsync(cloud));

        var result = await maintenance.RunAsync(Now, CloudApi.Ct);

        Assert.Equal(kept.Select(k => k.Id).Order(), (await AllIdsAsync(cloud)).Order());
        Assert.Equal(kept.Count, await TotalAsync(cloud));
        Assert.Equal(1, await TotalAsync(cloud, "&leakId=lk_b"));
        Assert.Equal(0, await ReadAsync<long>(cloud, "SELECT COUNT(*) FROM attack_hours WHERE hour < @hour", new { hour = cutoff.ToUnixTimeMilliseconds() / AttackCounts.HourMs }));
        Assert.Equal(0, await ReadAsync<long>(cloud, "SELECT COUNT(*) FROM attack_days WHERE day < @day", new { day = cutoff.ToUnixTimeMilliseconds() / AttackPartitions.DayMs }));
        if (CloudHarness.PostgresServer is null)
        {
            Assert.Equal(old.Count, result.Deleted);
        }
        else
        {
            Assert.Contains(AttackPartitions.Name(AttackPartitions.DayOf(Now.AddDays(-100).ToUnixTimeMilliseconds())), result.Dropped);
            Assert.Equal(old.Count - 5, result.Deleted);
            await using var connection = await cloud.Service<CloudDatabase>().OpenAsync(CloudApi.Ct);
            Assert.DoesNotContain(await AttackPartitions.DaysAsync(connection, null), d => (d + 1) * AttackPartitions.DayMs <= cutoff.ToUnixTimeMilliseconds());
        }

        // A second run finds nothing left to do.
        var again = await maintenance.RunAsync(Now, CloudApi.Ct);
        Assert.False(again.ChangedAnything, again.ToString());
    }

    [Fact]
    public async Task Retention_Zero_KeepsEverything()
    {
        await using var cloud = await StartAsync(retentionDays: 0);
        await FirstRunDoneAsync(cloud);
        var nodeId = await EnrollAsync(cloud);
        await cloud.Service<IAttackStore>().InsertBatchAsync(nodeId, [Attack("ancient", new DateTimeOffset(2001, 1, 1, 0, 0, 0, TimeSpan.Zero)), Attack("now", Now)], CloudApi.Ct);

        var result = await cloud.Service<AttackMaintenance>().RunAsync(Now, CloudApi.Ct);

        Assert.Equal(0, result.Deleted);
        Assert.Empty(result.Dropped);
        Assert.Equal(["now", "ancient"], await AllIdsAsync(cloud));
    }

    [Fact]
    public async Task Partitions_AreCreatedAhead_OncePerDay()
    {
        if (CloudHarness.PostgresServer is null)
        {
            Assert.Skip("PostgreSQL only: SQLite keeps one table (test.sh runs this suite on PostgreSQL too)");
        }
        await using var cloud = await StartAsync(retentionDays: 30, daysAhead: 5);
        await FirstRunDoneAsync(cloud);
        await using var connection = await cloud.Service<CloudDatabase>().OpenAsync(CloudApi.Ct);

        // The run at start made today's and the next five days' partitions.
        var days = await AttackPartitions.DaysAsync(connection, null);
        Assert.Superset(new SortedSet<long>(Enumerable.Range(0, 6).Select(i => Today + i)), days);
        Assert.Equal("p", await connection.ExecuteScalarAsync<string>("SELECT relkind::text FROM pg_class WHERE relname = 'attacks'"));

        // Two days later, two more; nothing made twice.
        var result = await cloud.Service<AttackMaintenance>().RunAsync(Now.AddDays(2), CloudApi.Ct);
        Assert.Equal(new[] { AttackPartitions.Name(Today + 6), AttackPartitions.Name(Today + 7) }, result.Created);
        Assert.Empty((await cloud.Service<AttackMaintenance>().RunAsync(Now.AddDays(2), CloudApi.Ct)).Created);
    }

    [Fact]
    public async Task Event_OlderThanAnyPartitionOrFarAhead_IsStoredOnceAndListed()
    {
        await using var cloud = await StartAsync(retentionDays: 0);
        await FirstRunDoneAsync(cloud);
        var store = cloud.Service<IAttackStore>();
        var nodeId = await EnrollAsync(cloud);
        IncomingAttack[] odd =
        [
            Attack("odd-1971", new DateTimeOffset(1971, 1, 1, 0, 0, 0, TimeSpan.Zero)),
            Attack("odd-2199", new DateTimeOffset(2199, 12, 31, 23, 0, 0, TimeSpan.Zero)),
            Attack("odd-9999", new DateTimeOffset(9999, 12, 31, 23, 59, 59, 999, TimeSpan.Zero)),
            Attack("odd-now", Now),
        ];

        Assert.Equal((4, 0), await store.InsertBatchAsync(nodeId, odd, CloudApi.Ct));
        Assert.Equal((0, 4), await store.InsertBatchAsync(nodeId, odd, CloudApi.Ct));

        Assert.Equal(["odd-9999", "odd-2199", "odd-now", "odd-1971"], await AllIdsAsync(cloud));
        Assert.Equal(4, await TotalAsync(cloud));
        Assert.Equal(1, await TotalAsync(cloud, "&from=2100-01-01T00:00:00Z&to=2200-01-01T00:00:00Z"));
        if (CloudHarness.PostgresServer is not null)
        {
            Assert.Equal(3, await ReadAsync<long>(cloud, $"SELECT COUNT(*) FROM {AttackPartitions.DefaultPartition}"));
        }
    }

    [Fact]
    public async Task InsertBatch_EventTwiceInTheBatchAndOneAlreadyStored_StoresEachOnceAndCountsExactly()
    {
        // A batch over a day that has its partition and one that has none (400 days back: the default partition),
        // holding events twice (the second copy says another leak: the first one sent is what is stored and counted)
        // and events an earlier batch stored.
        await using var cloud = await StartAsync(retentionDays: 0);
        await FirstRunDoneAsync(cloud);
        var store = cloud.Service<IAttackStore>();
        var nodeId = await EnrollAsync(cloud);
        var today = DateTimeOffset.FromUnixTimeMilliseconds(Today * AttackPartitions.DayMs).AddHours(1);
        var old = today.AddDays(-400);
        Assert.Equal((2, 0), await store.InsertBatchAsync(nodeId, [Attack("today-1", today), Attack("old-1", old)], CloudApi.Ct));

        IncomingAttack[] batch =
        [
            Attack("today-2", today.AddSeconds(1)), Attack("today-2", today.AddSeconds(1), "lk_b"),
            Attack("old-2", old.AddSeconds(2)), Attack("old-2", old.AddSeconds(2)),
            Attack("today-1", today), Attack("old-1", old),
            Attack("old-3", old.AddSeconds(3), "lk_b", "monitored"),
        ];
        Assert.Equal((3, 4), await store.InsertBatchAsync(nodeId, batch, CloudApi.Ct));
        Assert.Equal((0, batch.Length), await store.InsertBatchAsync(nodeId, batch, CloudApi.Ct));

        Assert.Equal(["today-2", "today-1", "old-3", "old-2", "old-1"], await AllIdsAsync(cloud));
        Assert.Equal(5, await TotalAsync(cloud));
        Assert.Equal(4, await TotalAsync(cloud, "&leakId=lk_a"));
        Assert.Equal(1, await TotalAsync(cloud, "&leakId=lk_b"));
        Assert.Equal(1, await TotalAsync(cloud, "&action=monitored"));
        // Whole days (attack_days), a whole hour (attack_hours) and a part-hour (the events).
        static string Range(DateTimeOffset from, DateTimeOffset to) => $"&from={Uri.EscapeDataString(from.ToString("O"))}&to={Uri.EscapeDataString(to.ToString("O"))}";
        Assert.Equal(3, await TotalAsync(cloud, Range(old.AddHours(-1), old.AddHours(23))));
        Assert.Equal(2, await TotalAsync(cloud, Range(today.AddHours(-1), today.AddHours(23))));
        Assert.Equal(3, await TotalAsync(cloud, Range(old, old.AddHours(1))));
        Assert.Equal(2, await TotalAsync(cloud, Range(old.AddSeconds(1), old.AddMinutes(1))));
        Assert.Equal(5, await ReadAsync<long>(cloud, "SELECT CAST(SUM(events) AS BIGINT) FROM attack_days"));
        Assert.Equal(5, await ReadAsync<long>(cloud, "SELECT CAST(SUM(events) AS BIGINT) FROM attack_hours"));
        // The attempts notifications count: per leak, only what was stored.
        Assert.Equal(4, await ReadAsync<long>(cloud, "SELECT CAST(SUM(attempts) AS BIGINT) FROM attempt_minutes WHERE leak_id = 'lk_a'"));
        Assert.Equal(1, await ReadAsync<long>(cloud, "SELECT CAST(SUM(attempts) AS BIGINT) FROM attempt_minutes WHERE leak_id = 'lk_b'"));
        Assert.Equal(2, await ReadAsync<long>(cloud, "SELECT COUNT(*) FROM leak_attempts"));
        if (CloudHarness.PostgresServer is not null)
        {
            Assert.Equal(3, await ReadAsync<long>(cloud, $"SELECT COUNT(*) FROM {AttackPartitions.DefaultPartition}"));
            Assert.Equal(2, await ReadAsync<long>(cloud, $"SELECT COUNT(*) FROM {AttackPartitions.Name(Today)}"));
        }
    }

    [Fact]
    public async Task Partition_MadeForDayTheDefaultPartitionHasEventsOf_MovesThem_AndAResendStaysOnce()
    {
        await using var cloud = await StartAsync(retentionDays: 0, daysAhead: 1);
        await FirstRunDoneAsync(cloud);
        var store = cloud.Service<IAttackStore>();
        var nodeId = await EnrollAsync(cloud);
        var ahead = Attack("ahead", Now.AddDays(10));
        Assert.Equal((1, 0), await store.InsertBatchAsync(nodeId, [ahead], CloudApi.Ct));

        // Ten days on, the run makes that day's partition: the event moves out of the default partition into it.
        var result = await cloud.Service<AttackMaintenance>().RunAsync(Now.AddDays(10), CloudApi.Ct);

        Assert.Equal((0, 1), await store.InsertBatchAsync(nodeId, [ahead], CloudApi.Ct));
        Assert.Equal(["ahead"], await AllIdsAsync(cloud));
        Assert.Equal(1, await TotalAsync(cloud));
        if (CloudHarness.PostgresServer is not null)
        {
            var day = AttackPartitions.DayOf(ahead.Time.ToUnixTimeMilliseconds());
            Assert.Contains(AttackPartitions.Name(day), result.Created);
            Assert.Equal(0, await ReadAsync<long>(cloud, $"SELECT COUNT(*) FROM {AttackPartitions.DefaultPartition}"));
            Assert.Equal(1, await ReadAsync<long>(cloud, $"SELECT COUNT(*) FROM {AttackPartitions.Name(day)}"));
        }
    }

    [Fact]
    public async Task TwoReplicas_OverOneDatabase_RunTheMaintenanceOnceAnInterval()
    {
        await using var a = await StartAsync(retentionDays: 30);
        await using var b = await StartAsync(retentionDays: 30, folder: a.Folder, adminKey: a.AdminKey);
        await FirstRunDoneAsync(a);

        // Both started their loop; one ran, the other found the run claimed or not yet due.
        Assert.Equal(1, await ReadAsync<long>(a, "SELECT runs FROM maintenance_jobs WHERE name = 'attacks'"));
        Assert.Null(await a.Service<AttackMaintenance>().RunIfDueAsync(CloudApi.Ct));
        Assert.Null(await b.Service<AttackMaintenance>().RunIfDueAsync(CloudApi.Ct));

        // Due again, both at once: exactly one claims it.
        for (var round = 2; round <= 4; round++)
        {
            await a.Service<CloudDatabase>().WriteAsync((connection, transaction) => connection.ExecuteAsync("UPDATE maintenance_jobs SET due_at = 0", transaction: transaction), CloudApi.Ct);
            var runs = await Task.WhenAll(
                Task.Run(() => a.Service<AttackMaintenance>().RunIfDueAsync(CloudApi.Ct), CloudApi.Ct),
                Task.Run(() => b.Service<AttackMaintenance>().RunIfDueAsync(CloudApi.Ct), CloudApi.Ct));
            Assert.Single(runs, r => r is not null);
            Assert.Equal(round, await ReadAsync<long>(a, "SELECT runs FROM maintenance_jobs WHERE name = 'attacks'"));
        }
    }

    [Fact]
    public async Task Migration6_ConvertsAnExistingAttacksTable_KeepingEveryEventAndCountingThem()
    {
        // A database as the build before this one left it: schema 3, events in the plain table.
        var folder = Directory.CreateTempSubdirectory("leaknode-cloud-test-").FullName;
        try
        {
            var settings = new ConfigurationBuilder().AddInMemoryCollection(CloudHarness.Settings(folder)).Build();
            var (configuration, problems) = CloudConfiguration.Load(settings);
            Assert.Empty(problems);
            Directory.CreateDirectory(Path.Combine(folder, "data"));
            var times = new[] { Now.AddDays(-3), Now.AddDays(-3).AddHours(1), Now.AddDays(-1), Now, new DateTimeOffset(1999, 1, 1, 0, 0, 0, TimeSpan.Zero) };
            await using (var database = new CloudDatabase(configuration))
            {
                Assert.Equal([1, 2, 3], await SchemaMigrations.ApplyAsync(database, CloudApi.Ct, upTo: 3));
                await database.WriteAsync((connection, transaction) => connection.ExecuteAsync(
                    $"INSERT INTO attacks ({AttackPartitions.Columns}) VALUES (@Id, 'nd_1', 'vpatch', @Time, @Leak, 'tk_1', 'ff', NULL, 'blocked', 1, '192.0.2.1', 'GET', 'h', '/', 'path', 403, 0)",
                    times.Select((t, i) => new { Id = $"old-{i}", Time = t.ToUnixTimeMilliseconds(), Leak = i % 2 == 0 ? "lk_a" : "lk_b" }), transaction), CloudApi.Ct);
            }

            await using var cloud = await CloudHarness.StartAsync(folder: folder);

            Assert.Contains(cloud.Logs, l => l.Contains("applied schema migrations 4, 5, 6", StringComparison.Ordinal));
            Assert.Equal(["old-3", "old-2", "old-1", "old-0", "old-4"], await AllIdsAsync(cloud));
            Assert.Equal(5, await TotalAsync(cloud));
            Assert.Equal(2, await TotalAsync(cloud, "&leakId=lk_b"));
            var versions = await cloud.Service<CloudDatabase>().ReadAsync((c, t) => c.QueryAsync<int>("SELECT version FROM schema_migrations ORDER BY version", transaction: t), CloudApi.Ct);
            Assert.Equal(SchemaMigrations.All.Select(m => m.Version).Order(), versions);
            // A resend of a converted event is still a duplicate.
            var nodeId = await EnrollAsync(cloud);
            Assert.Equal((0, 1), await cloud.Service<IAttackStore>().InsertBatchAsync(nodeId, [Attack("old-2", times[2])], CloudApi.Ct));
            if (CloudHarness.PostgresServer is not null)
            {
                Assert.Equal(1, await ReadAsync<long>(cloud, $"SELECT COUNT(*) FROM {AttackPartitions.DefaultPartition}"));
                Assert.Equal(1, await ReadAsync<long>(cloud, $"SELECT COUNT(*) FROM {AttackPartitions.Name(Today - 1)}"));
            }
        }
        finally
        {
            CloudHarness.DeleteFolder(folder);
        }
    }
}
