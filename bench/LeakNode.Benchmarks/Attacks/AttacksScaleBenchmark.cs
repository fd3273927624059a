using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Dapper;
using LeakNode.Cloud;
using LeakNode.Cloud.Attacks;
using LeakNode.Cloud.Configuration;
using LeakNode.Cloud.Storage;
using LeakNode.Cloud.WebConsole.Components;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace LeakNode.Benchmarks.Attacks;

/// <summary>
/// <c>attacks-scale</c>: the attack list, its totals and the console's charts over millions of stored events, on SQLite
/// and PostgreSQL side by side. Loads the events straight into a migrated database (COPY in binary on PostgreSQL,
/// prepared multi-row inserts on SQLite), fills the day and hour counts as migration 6 does, then starts a real cloud over
/// it and times what users ask: the REST list (<c>GET /api/v1/attacks</c>, through HTTP, JSON included) and the
/// charts and counts the console reads from the store. Last, a day later: the retention run that removes the oldest day.
/// </summary>
/// <remarks>
/// The data: <c>events</c> events evenly over the last <c>days</c> days, 100 leaks with a skew (the hottest has about
/// 21 % of the events, the coldest 0.3 %), 70 % blocked, 20 nodes. Every answer is checked against what the loader
/// knows (totals, page sizes), so that a fast wrong answer cannot pass.
/// </remarks>
internal static class AttacksScaleBenchmark
{
    private const int Leaks = 100;
    private const int PageSize = 50;

    public static async Task RunAsync(long events, int days, string? postgres, int rounds)
    {
        var runs = new List<Run>();
        string?[] servers = postgres is null ? [null] : [null, postgres];
        foreach (var server in servers)
        {
            await using var scratch = await ScratchDatabase.CreateAsync(server);
            Console.WriteLine($"{scratch.Provider}: loading {events:N0} events over {days} days …");
            runs.Add(await MeasureAsync(scratch, events, days, rounds));
        }
        Print(runs, events, days, rounds);
    }

    private sealed record Run(string Provider, TimeSpan Load, TimeSpan Counts, long Bytes, List<(string Name, double P50, double Max)> Queries, (TimeSpan Time, string What) Retention);

    private static async Task<Run> MeasureAsync(ScratchDatabase scratch, long events, int days, int rounds)
    {
        var settings = scratch.Settings(new Dictionary<string, string?>
        {
            ["Storage:Attacks:RetentionDays"] = days.ToString(CultureInfo.InvariantCulture),
            ["Storage:Attacks:MaintenanceInterval"] = "1.00:00:00",
        });
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var now = DateTimeOffset.UtcNow;
        var start = now.AddDays(-days);
        var truth = new Truth();

        TimeSpan load, counts;
        long bytes;
        await using (var database = new CloudDatabase(CloudConfiguration.Load(configuration).Configuration))
        {
            await SchemaMigrations.ApplyAsync(database, CancellationToken.None);
            var clock = Stopwatch.StartNew();
            if (database.Provider == StorageProvider.Postgres)
            {
                // The maintenance job's partitions, made before the load as it would have made them day by day.
                for (var day = AttackPartitions.DayOf(start.ToUnixTimeMilliseconds()); day <= AttackPartitions.DayOf(now.ToUnixTimeMilliseconds()) + 7; day++)
                {
                    var d = day;
                    await database.WriteAsync(async (c, t) => { await AttackPartitions.CreateAsync(c, t, d); return 0; }, CancellationToken.None);
                }
                await using var connection = (NpgsqlConnection)await database.OpenAsync(CancellationToken.None);
                await CopyAsync(connection, Generate(events, start, now, truth));
            }
            else
            {
                await using var connection = (SqliteConnection)await database.OpenAsync(CancellationToken.None);
                // The loader's connection only: a page cache that holds the three indexes' insertion points (the
                // default 2 MiB makes every insert read pages back from the OS).
                await connection.ExecuteAsync("PRAGMA cache_size = -262144");
                InsertSqlite(connection, Generate(events, start, now, truth));
            }
            load = clock.Elapsed;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  loaded in {load.TotalSeconds:0} s ({events / load.TotalSeconds:N0} events/s)"));

            clock.Restart();
            // What migration 6 does for the events already stored, and ingest does as it stores them.
            foreach (var (table, column, unit) in new[] { ("attack_days", "day", AttackPartitions.DayMs), ("attack_hours", "hour", AttackCounts.HourMs) })
            {
                await database.WriteAsync((c, t) => c.ExecuteAsync(
                    $"""
                    INSERT INTO {table} ({column}, leak_id, action, event_type, events)
                    SELECT occurred_at / {unit}, leak_id, action, event_type, COUNT(*) FROM attacks GROUP BY occurred_at / {unit}, leak_id, action, event_type
                    """, transaction: t, commandTimeout: 3600), CancellationToken.None);
            }
            if (database.Provider == StorageProvider.Postgres)
            {
                // What autovacuum does after a load like this one: statistics and the visibility map (index-only scans).
                await using var connection = await database.OpenAsync(CancellationToken.None);
                await connection.ExecuteAsync("VACUUM ANALYZE attacks", commandTimeout: 3600);
                await connection.ExecuteAsync("VACUUM ANALYZE attack_days", commandTimeout: 3600);
                await connection.ExecuteAsync("VACUUM ANALYZE attack_hours", commandTimeout: 3600);
                bytes = await connection.ExecuteScalarAsync<long>("SELECT pg_database_size(current_database())");
            }
            else
            {
                bytes = new FileInfo(Path.Combine(scratch.Folder.FullName, "cloud.db")).Length;
            }
            counts = clock.Elapsed;
        }

        await using var cloud = await CloudApplication.StartAsync(configuration, logging => logging.SetMinimumLevel(LogLevel.Warning));
        using var api = new HttpClient { BaseAddress = cloud.HttpUrl, Timeout = TimeSpan.FromMinutes(5) };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", cloud.BootstrapAdminKey);
        var services = cloud.Services;
        var store = services.GetRequiredService<AttackStore>();
        var database2 = services.GetRequiredService<CloudDatabase>();
        var maintenance = services.GetRequiredService<AttackMaintenance>();
        // The run at start (nothing is past retention yet) must not overlap the timings.
        await maintenance.RunAsync(now, CancellationToken.None);

        var hot = LeakId(0);
        var cold = LeakId(Leaks - 1);
        var dayStart = DateTimeOffset.FromUnixTimeMilliseconds((AttackPartitions.DayOf(now.ToUnixTimeMilliseconds()) - (days / 2)) * AttackPartitions.DayMs);
        var oddStart = dayStart.AddHours(10).AddMinutes(17).AddSeconds(23).AddMilliseconds(456);
        var deep = AttacksApi.Cursor((dayStart.ToUnixTimeMilliseconds(), "~"));
        var queries = new List<(string, Func<Task>)>
        {
            ("first page, no filter", () => PageAsync(api, "", truth.Total, PageSize)),
            ("first page, leakId = the hottest leak (21 %)", () => PageAsync(api, "&leakId=" + hot, truth.ByLeak[0], PageSize)),
            ("first page, leakId = the coldest leak (0.3 %)", () => PageAsync(api, "&leakId=" + cold, truth.ByLeak[Leaks - 1], PageSize)),
            ("first page, action = monitored (30 %)", () => PageAsync(api, "&action=monitored", truth.Monitored, PageSize)),
            ("one UTC day (from, to on midnights)", () => PageAsync(api, Range(dayStart, dayStart.AddDays(1)), null, PageSize)),
            ("24 hours from 10:17:23.456 (part-hours at both ends)", () => PageAsync(api, Range(oddStart, oddStart.AddDays(1)), null, PageSize)),
            ($"deep page: cursor {days / 2} days back", () => PageAsync(api, "&cursor=" + deep, truth.Total, PageSize)),
            ($"deep page, hottest leak, cursor {days / 2} days back", () => PageAsync(api, "&leakId=" + hot + "&cursor=" + deep, truth.ByLeak[0], PageSize)),
            ("chart: last 24 h per hour (Attacks page)", () => ChartAsync(store, new AttackFilter(null, null, null, null, null), now.AddHours(-23), now, 24)),
            ("chart: hottest leak, last 24 h per hour (leak page)", () => ChartAsync(store, new AttackFilter(null, hot, null, null, null), now.AddHours(-23), now, 24)),
            ($"chart: {days} days per day (Attacks page, a range)", () => ChartAsync(store, new AttackFilter(null, null, null, null, null), now.AddDays(-(days - 1)), now, days)),
            ("leak page counts: attempts and blocked, hottest leak", () => LeakCountsAsync(store, hot, truth.ByLeak[0])),
            ("for comparison: SELECT COUNT(*) FROM attacks", () => CountAllAsync(database2, truth.Total)),
        };
        var timings = new List<(string, double, double)>();
        foreach (var (name, query) in queries)
        {
            var samples = new List<double>();
            for (var i = 0; i < rounds + 2; i++)
            {
                var clock = Stopwatch.StartNew();
                await query();
                if (i >= 2)
                {
                    samples.Add(clock.Elapsed.TotalMilliseconds);
                }
            }
            samples.Sort();
            timings.Add((name, samples[samples.Count / 2], samples[^1]));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name}: p50 {samples[samples.Count / 2]:0.0} ms, max {samples[^1]:0.0} ms"));
        }

        // A day later: the oldest day is past retention.
        var watch = Stopwatch.StartNew();
        var result = await maintenance.RunAsync(now.AddDays(1), CancellationToken.None);
        var retention = (watch.Elapsed, result.Dropped.Count > 0 ? $"dropped {string.Join(", ", result.Dropped)}, deleted {result.Deleted:N0} events" : $"deleted {result.Deleted:N0} events");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  retention, a day later: {retention.Elapsed.TotalMilliseconds:N0} ms ({retention.Item2})"));
        return new Run(scratch.Provider, load, counts, bytes, timings, retention);
    }

    private static string LeakId(int i) => "lk_bench_" + i.ToString("D3", CultureInfo.InvariantCulture);

    private static string Range(DateTimeOffset from, DateTimeOffset to) =>
        "&from=" + Uri.EscapeDataString(from.ToString("O", CultureInfo.InvariantCulture)) + "&to=" + Uri.EscapeDataString(to.ToString("O", CultureInfo.InvariantCulture));

    private static async Task PageAsync(HttpClient api, string query, long? total, int limit)
    {
        using var response = await api.GetAsync(new Uri($"/api/v1/attacks?limit={limit}{query}", UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"GET /api/v1/attacks?{query} answered {(int)response.StatusCode}: {body}");
        }
        using var page = JsonDocument.Parse(body);
        var items = page.RootElement.GetProperty("items").GetArrayLength();
        var answered = page.RootElement.GetProperty("total").GetInt64();
        if (items != limit || (total is { } expected && answered != expected))
        {
            throw new InvalidOperationException($"?{query}: {items} items, total {answered}; the loader made {total?.ToString(CultureInfo.InvariantCulture) ?? "?"}");
        }
    }

    private static async Task ChartAsync(AttackStore store, AttackFilter filter, DateTimeOffset from, DateTimeOffset to, int bars)
    {
        var chart = await AttemptHistogram.LoadAsync(store, filter, from, to, CancellationToken.None);
        if (chart.Count != bars || chart.Sum(b => b.Value) == 0)
        {
            throw new InvalidOperationException($"the chart has {chart.Count} bars (expected {bars}), {chart.Sum(b => b.Value)} events");
        }
    }

    private static async Task LeakCountsAsync(AttackStore store, string leakId, long expected)
    {
        var filter = new AttackFilter(null, leakId, null, null, null);
        var (_, attempts, _) = await store.ListAsync(filter, null, 1, CancellationToken.None);
        var (_, blocked, _) = await store.ListAsync(filter with { Action = "blocked" }, null, 1, CancellationToken.None);
        if (attempts != expected || blocked <= 0 || blocked >= attempts)
        {
            throw new InvalidOperationException($"leak {leakId}: {attempts} attempts ({expected} loaded), {blocked} blocked");
        }
    }

    private static async Task CountAllAsync(CloudDatabase database, long expected)
    {
        await using var connection = await database.OpenAsync(CancellationToken.None);
        var count = await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM attacks", commandTimeout: 600);
        if (count != expected)
        {
            throw new InvalidOperationException($"COUNT(*) says {count}, the loader made {expected}");
        }
    }

    /// <summary>What the loader made, to check every answer with.</summary>
    private sealed class Truth
    {
        public long Total { get; set; }

        public long Monitored { get; set; }

        public long[] ByLeak { get; } = new long[Leaks];
    }

    private readonly record struct Row(string Id, string NodeId, long Time, string LeakId, string Action, int Hits, string ClientIp, string Path, int Status);

    private static IEnumerable<Row> Generate(long events, DateTimeOffset start, DateTimeOffset end, Truth truth)
    {
        var random = new Random(2026);
        var startMs = start.ToUnixTimeMilliseconds();
        var spanMs = (double)(end.ToUnixTimeMilliseconds() - startMs);
        for (long i = 0; i < events; i++)
        {
            var time = startMs + (long)(i * spanMs / events);
            // u³: a few hot leaks, a long tail (leak 0 about 21 %, leak 99 about 0.3 %).
            var leak = (int)(Leaks * Math.Pow(random.NextDouble(), 3));
            var monitored = random.Next(10) < 3;
            truth.Total++;
            truth.ByLeak[leak]++;
            truth.Monitored += monitored ? 1 : 0;
            yield return new Row(
                Guid.CreateVersion7(DateTimeOffset.FromUnixTimeMilliseconds(time)).ToString(), "nd_bench_" + (i % 20).ToString(CultureInfo.InvariantCulture), time,
                LeakId(leak), monitored ? "monitored" : "blocked", 1 + (int)(i % 3), "198.51.100." + (i % 250).ToString(CultureInfo.InvariantCulture),
                "/v1/orders/" + (i % 10_000).ToString(CultureInfo.InvariantCulture), monitored ? 200 : 403);
        }
    }

    private static object[] Values(in Row row) =>
    [
        row.Id, row.NodeId, "vpatch", row.Time, row.LeakId, "tk_" + row.LeakId, "00112233445566ff", "ghp_…f00d", row.Action, row.Hits, row.ClientIp, "GET",
        "api.example.test", row.Path, "header:Authorization", row.Status, row.Time,
    ];

    /// <summary>PostgreSQL: one binary COPY into the partitioned table, which routes each row to its day.</summary>
    private static async Task CopyAsync(NpgsqlConnection connection, IEnumerable<Row> rows)
    {
        await using var copy = await connection.BeginBinaryImportAsync($"COPY attacks ({AttackPartitions.Columns}) FROM STDIN (FORMAT BINARY)");
        copy.Timeout = TimeSpan.FromHours(1);
        var types = new[]
        {
            NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Bigint, NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Text,
            NpgsqlDbType.Text, NpgsqlDbType.Integer, NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Text, NpgsqlDbType.Integer,
            NpgsqlDbType.Bigint,
        };
        foreach (var row in rows)
        {
            await copy.StartRowAsync();
            var values = Values(row);
            for (var i = 0; i < values.Length; i++)
            {
                await copy.WriteAsync(values[i], types[i]);
            }
        }
        await copy.CompleteAsync();
    }

    /// <summary>
    /// SQLite: a prepared INSERT of 10 rows at a time (more rows a statement bind slower: Microsoft.Data.Sqlite looks
    /// every parameter up by name, and SQLite's lookup is linear in the statement's parameters), a transaction per million rows (one transaction for all would grow the WAL to the
    /// size of the database before its first checkpoint).
    /// </summary>
    private static void InsertSqlite(SqliteConnection connection, IEnumerable<Row> rows)
    {
        const int PerStatement = 10;
        const int PerTransaction = 1_000_000;
        var columns = AttackPartitions.Columns.Split(", ").Length;
        using var command = connection.CreateCommand();
        command.CommandText = $"INSERT INTO attacks ({AttackPartitions.Columns}) VALUES "
            + string.Join(", ", Enumerable.Range(0, PerStatement).Select(r => "(" + string.Join(", ", Enumerable.Range(0, columns).Select(c => $"@p{r}_{c}")) + ")"));
        var parameters = new SqliteParameter[PerStatement * columns];
        for (var i = 0; i < parameters.Length; i++)
        {
            // No declared type: each value binds as what it is (text, or integer for the times and counts).
            parameters[i] = new SqliteParameter { ParameterName = $"@p{i / columns}_{i % columns}" };
            command.Parameters.Add(parameters[i]);
        }
        DbTransaction? transaction = null;
        long written = 0;
        var pending = new List<Row>(PerStatement);
        foreach (var row in rows)
        {
            pending.Add(row);
            if (pending.Count < PerStatement)
            {
                continue;
            }
            if (written % PerTransaction == 0)
            {
                transaction?.Commit();
                transaction?.Dispose();
                transaction = connection.BeginTransaction();
                command.Transaction = (SqliteTransaction)transaction;
                command.Prepare();
            }
            for (var r = 0; r < PerStatement; r++)
            {
                var values = Values(pending[r]);
                for (var c = 0; c < columns; c++)
                {
                    parameters[(r * columns) + c].Value = values[c];
                }
            }
            command.ExecuteNonQuery();
            written += PerStatement;
            pending.Clear();
        }
        if (pending.Count > 0)
        {
            throw new InvalidOperationException("the event count must be a multiple of 10");
        }
        transaction?.Commit();
        transaction?.Dispose();
    }

    private static void Print(List<Run> runs, long events, int days, int rounds)
    {
        Console.WriteLine();
        Console.WriteLine($"Attack events at scale: {events:N0} events over {days} days; p50 and max of {rounds} runs after 2 of warm-up, in ms.");
        Console.WriteLine();
        Console.WriteLine("| query | " + string.Join(" | ", runs.Select(r => $"{r.Provider} p50 | {r.Provider} max")) + " |");
        Console.WriteLine("|---|" + string.Concat(runs.Select(_ => "---:|---:|")));
        for (var q = 0; q < runs[0].Queries.Count; q++)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {runs[0].Queries[q].Name} | {string.Join(" | ", runs.Select(r => $"{r.Queries[q].P50:0.0} | {r.Queries[q].Max:0.0}"))} |"));
        }
        Console.WriteLine();
        Console.WriteLine("| | " + string.Join(" | ", runs.Select(r => r.Provider)) + " |");
        Console.WriteLine("|---|" + string.Concat(runs.Select(_ => "---|")));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| bulk load | {string.Join(" | ", runs.Select(r => $"{r.Load.TotalSeconds:0} s ({events / r.Load.TotalSeconds:N0} events/s)"))} |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| day and hour counts (+ VACUUM ANALYZE on PostgreSQL) | {string.Join(" | ", runs.Select(r => $"{r.Counts.TotalSeconds:0} s"))} |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| database size | {string.Join(" | ", runs.Select(r => $"{r.Bytes / 1e9:0.00} GB ({(double)r.Bytes / events:0} bytes an event)"))} |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| retention, a day later | {string.Join(" | ", runs.Select(r => $"{r.Retention.Time.TotalMilliseconds:N0} ms: {r.Retention.What}"))} |"));
    }
}
