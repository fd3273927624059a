using System.Data.Common;
using System.Text;
using Dapper;
using LeakNode.Cloud.Storage;

namespace LeakNode.Cloud.Attacks;

/// <summary>
/// Exact counts of attack events at any size, from two tables of counts: <c>attack_days</c> and <c>attack_hours</c>,
/// events per UTC day (hour), leak, action and type, added to by ingest in the transaction that stores the events and
/// cut by retention with them. A count sums the whole days it spans, then the whole hours of the part-days at its
/// edges, then counts the events themselves in the part-hours left (at most two hours of events, read through the
/// time index).
/// </summary>
/// <remarks>
/// Why not <c>COUNT(*)</c>: over 10 million events it reads 10 million index entries, seconds on either database
/// (bench/README.md, "Attack events at scale"). Why not an estimate or a capped count: the console shows a leak's
/// attempts and a list's total as numbers people act on, and the counts make the exact number cheap: a row per
/// day (hour), leak and action that had an event, and one upsert per distinct key of an ingest batch. Two levels
/// because one is not enough at scale: 90 days of 100 leaks attacked every hour are 430,000 hour rows, too many to
/// sum for every page; their days are 18,000.
/// </remarks>
internal static class AttackCounts
{
    public const long HourMs = 3_600_000;

    /// <summary>The tables of counts, coarsest first: each level's unit is a multiple of the next one's.</summary>
    private static readonly Level[] Levels = [new("attack_days", "day", 86_400_000), new("attack_hours", "hour", HourMs)];

    private sealed record Level(string Table, string Column, long UnitMs);

    /// <summary>The distinct keys of the events one ingest transaction stored, with how many each, per level.</summary>
    internal sealed class Tally
    {
        private readonly Dictionary<(long Unit, string LeakId, string Action, string Type), long>[] _counts = [.. Levels.Select(_ => new Dictionary<(long, string, string, string), long>())];

        public void Add(long occurredAtMs, string leakId, string action, string type)
        {
            for (var i = 0; i < Levels.Length; i++)
            {
                var key = (FloorDiv(occurredAtMs, Levels[i].UnitMs), leakId, action, type);
                _counts[i][key] = _counts[i].GetValueOrDefault(key) + 1;
            }
        }

        /// <summary>
        /// A level's keys in one fixed order: two transactions (two replicas' ingest) that update the same rows then
        /// take their row locks in the same order, and wait for each other instead of deadlocking.
        /// </summary>
        public List<(long Unit, string LeakId, string Action, string Type, long Events)> Rows(int level) => [.. _counts[level]
            .OrderBy(c => c.Key.Unit).ThenBy(c => c.Key.LeakId, StringComparer.Ordinal).ThenBy(c => c.Key.Action, StringComparer.Ordinal)
            .ThenBy(c => c.Key.Type, StringComparer.Ordinal)
            .Select(c => (c.Key.Unit, c.Key.LeakId, c.Key.Action, c.Key.Type, c.Value))];

        public bool IsEmpty => _counts[0].Count == 0;
    }

    public static async Task AddAsync(DbConnection connection, DbTransaction transaction, Tally tally)
    {
        if (tally.IsEmpty)
        {
            return;
        }
        for (var i = 0; i < Levels.Length; i++)
        {
            var (table, column) = (Levels[i].Table, Levels[i].Column);
            var upsert = $"ON CONFLICT ({column}, leak_id, action, event_type) DO UPDATE SET events = {table}.events + excluded.events";
            var rows = tally.Rows(i);
            if (connection is Npgsql.NpgsqlConnection)
            {
                // One statement of column arrays: a statement a key is a round trip each to a server. The rows come out
                // of unnest in array order, so the row locks are still taken in the tally's order.
                await connection.ExecuteAsync(
                    $"""
                    INSERT INTO {table} ({column}, leak_id, action, event_type, events)
                    SELECT * FROM unnest(@units::bigint[], @leakIds::text[], @actions::text[], @types::text[], @events::bigint[])
                    {upsert}
                    """,
                    new
                    {
                        units = rows.Select(r => r.Unit).ToArray(), leakIds = rows.Select(r => r.LeakId).ToArray(), actions = rows.Select(r => r.Action).ToArray(),
                        types = rows.Select(r => r.Type).ToArray(), events = rows.Select(r => r.Events).ToArray(),
                    },
                    transaction);
                continue;
            }
            // SQLite: a statement a key is a call into the process, not a round trip.
            await connection.ExecuteAsync(
                $"INSERT INTO {table} ({column}, leak_id, action, event_type, events) VALUES (@Unit, @LeakId, @Action, @Type, @Events) {upsert}",
                rows.Select(r => new { r.Unit, r.LeakId, r.Action, r.Type, r.Events }), transaction);
        }
    }

    /// <summary>The number of events <paramref name="filter"/> selects, exactly.</summary>
    public static Task<long> CountAsync(DbConnection connection, DbTransaction transaction, AttackFilter filter) =>
        filter.From >= filter.To ? Task.FromResult(0L) : CountAsync(connection, transaction, filter, 0);

    private static async Task<long> CountAsync(DbConnection connection, DbTransaction transaction, AttackFilter filter, int level)
    {
        if (level == Levels.Length)
        {
            var events = new StringBuilder(" WHERE 1 = 1");
            var eventParameters = new DynamicParameters();
            AttackStore.Append(events, eventParameters, filter);
            return await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM attacks" + events, eventParameters, transaction);
        }
        var (table, column, unit) = Levels[level];
        var from = filter.From?.ToUnixTimeMilliseconds();
        var to = filter.To?.ToUnixTimeMilliseconds();
        // Whole units: from the first that starts at or after `from`, to the last that ends at or before `to`.
        long? first = from is { } f ? -FloorDiv(-f, unit) : null;
        long? end = to is { } t ? FloorDiv(t, unit) : null;
        if (first >= end)
        {
            // Within a part-unit or two: the next level down counts them.
            return await CountAsync(connection, transaction, filter, level + 1);
        }
        var where = new StringBuilder(" WHERE 1 = 1");
        var parameters = new DynamicParameters();
        AttackStore.Append(where, parameters, filter with { From = null, To = null });
        if (first is { } a)
        {
            where.Append($" AND {column} >= @first");
            parameters.Add("first", a);
        }
        if (end is { } b)
        {
            where.Append($" AND {column} < @end");
            parameters.Add("end", b);
        }
        var total = await connection.ExecuteScalarAsync<long>($"SELECT CAST(COALESCE(SUM(events), 0) AS BIGINT) FROM {table}" + where, parameters, transaction);
        if (from is { } start && start != first * unit)
        {
            total += await CountAsync(connection, transaction, filter with { To = Ids.Time(first!.Value * unit) }, level + 1);
        }
        if (to is { } stop && stop != end * unit)
        {
            total += await CountAsync(connection, transaction, filter with { From = Ids.Time(end!.Value * unit) }, level + 1);
        }
        return total;
    }

    /// <summary>
    /// Events per slot from the coarsest counts whose unit the slots start and end on (the console's daily and hourly
    /// charts), or null when the slots do not fall on whole hours and the events themselves must be counted.
    /// </summary>
    public static async Task<long[]?> HistogramAsync(DbConnection connection, DbTransaction transaction, AttackFilter filter, long startMs, long widthMs, int slots)
    {
        if (Array.Find(Levels, l => startMs % l.UnitMs == 0 && widthMs % l.UnitMs == 0) is not { } level)
        {
            return null;
        }
        var (table, column, unit) = level;
        var where = new StringBuilder($" WHERE {column} >= @startUnit AND {column} < @endUnit");
        var parameters = new DynamicParameters();
        AttackStore.Append(where, parameters, filter with { From = null, To = null });
        var (startUnit, widthUnits) = (startMs / unit, widthMs / unit);
        parameters.Add("startUnit", startUnit);
        parameters.Add("endUnit", startUnit + (widthUnits * slots));
        parameters.Add("widthUnits", widthUnits);
        var rows = await connection.QueryAsync<(long Slot, long Count)>(
            $"SELECT ({column} - @startUnit) / @widthUnits AS slot, CAST(SUM(events) AS BIGINT) AS count FROM {table}{where} GROUP BY ({column} - @startUnit) / @widthUnits",
            parameters, transaction);
        var counts = new long[slots];
        foreach (var (slot, count) in rows)
        {
            counts[slot] = count;
        }
        return counts;
    }

    /// <summary>Forgets the counts before <paramref name="cutoffMs"/> (a whole day), whose events retention removed.</summary>
    public static async Task<int> DeleteBeforeAsync(DbConnection connection, DbTransaction transaction, long cutoffMs)
    {
        var deleted = 0;
        foreach (var (table, column, unit) in Levels)
        {
            deleted += await connection.ExecuteAsync($"DELETE FROM {table} WHERE {column} < @before", new { before = FloorDiv(cutoffMs, unit) }, transaction);
        }
        return deleted;
    }

    private static long FloorDiv(long value, long divisor) => (value / divisor) - (value % divisor < 0 ? 1 : 0);
}
