using System.Data.Common;
using System.Text;
using Dapper;
using LeakNode.Cloud.Storage;

namespace LeakNode.Cloud.Attacks;

/// <summary>
/// Exact counts of attack events at any size, from <c>attack_hours</c>: events per UTC hour, leak, action and type,
/// added to by ingest in the transaction that stores the events and cut by retention with them. A count is the sum
/// of the whole hours it spans plus a count of the events themselves in the part-hours at its edges (at most two
/// hours of events, read through the time index).
/// </summary>
/// <remarks>
/// Why not <c>COUNT(*)</c>: over 10 million events it reads 10 million index entries, seconds on either database
/// (bench/README.md, "Attack events at scale"). Why not an estimate or a capped count: the console shows a leak's
/// attempts and a list's total as numbers people act on, and the hourly counts make the exact number cheap: one
/// row per hour, leak and action that had an event (at most ~2,200 hours × the leaks attacked in them for 90 days),
/// and one upsert per distinct key of an ingest batch.
/// </remarks>
internal static class AttackCounts
{
    public const long HourMs = 3_600_000;

    /// <summary>The distinct hour keys of the events one ingest transaction stored, with how many each.</summary>
    internal sealed class Tally
    {
        private readonly Dictionary<(long Hour, string LeakId, string Action, string Type), long> _counts = [];

        public void Add(long occurredAtMs, string leakId, string action, string type)
        {
            var key = (FloorDiv(occurredAtMs, HourMs), leakId, action, type);
            _counts[key] = _counts.GetValueOrDefault(key) + 1;
        }

        /// <summary>
        /// The keys in one fixed order: two transactions (two replicas' ingest) that update the same rows then take
        /// their row locks in the same order, and wait for each other instead of deadlocking.
        /// </summary>
        public IEnumerable<object> Rows => _counts
            .OrderBy(c => c.Key.Hour).ThenBy(c => c.Key.LeakId, StringComparer.Ordinal).ThenBy(c => c.Key.Action, StringComparer.Ordinal)
            .ThenBy(c => c.Key.Type, StringComparer.Ordinal)
            .Select(c => new { c.Key.Hour, c.Key.LeakId, c.Key.Action, c.Key.Type, Events = c.Value });

        public bool IsEmpty => _counts.Count == 0;
    }

    public static async Task AddAsync(DbConnection connection, DbTransaction transaction, Tally tally)
    {
        if (tally.IsEmpty)
        {
            return;
        }
        await connection.ExecuteAsync(
            """
            INSERT INTO attack_hours (hour, leak_id, action, event_type, events) VALUES (@Hour, @LeakId, @Action, @Type, @Events)
            ON CONFLICT (hour, leak_id, action, event_type) DO UPDATE SET events = attack_hours.events + excluded.events
            """,
            tally.Rows, transaction);
    }

    /// <summary>The number of events <paramref name="filter"/> selects, exactly.</summary>
    public static async Task<long> CountAsync(DbConnection connection, DbTransaction transaction, AttackFilter filter)
    {
        var from = filter.From?.ToUnixTimeMilliseconds();
        var to = filter.To?.ToUnixTimeMilliseconds();
        if (from >= to)
        {
            return 0;
        }
        // Whole hours: from the first hour that starts at or after `from`, to the last that ends at or before `to`.
        long? firstHour = from is { } f ? -FloorDiv(-f, HourMs) : null;
        long? endHour = to is { } t ? FloorDiv(t, HourMs) : null;
        if (firstHour >= endHour)
        {
            // Within one or two part-hours: the events themselves are few.
            return await CountEventsAsync(connection, transaction, filter);
        }
        var where = new StringBuilder(" WHERE 1 = 1");
        var parameters = new DynamicParameters();
        AttackStore.Append(where, parameters, filter with { From = null, To = null });
        if (firstHour is { } first)
        {
            where.Append(" AND hour >= @firstHour");
            parameters.Add("firstHour", first);
        }
        if (endHour is { } end)
        {
            where.Append(" AND hour < @endHour");
            parameters.Add("endHour", end);
        }
        var total = await connection.ExecuteScalarAsync<long>("SELECT CAST(COALESCE(SUM(events), 0) AS BIGINT) FROM attack_hours" + where, parameters, transaction);
        if (from is { } start && start != firstHour * HourMs)
        {
            total += await CountEventsAsync(connection, transaction, filter with { To = Ids.Time(firstHour!.Value * HourMs) });
        }
        if (to is { } stop && stop != endHour * HourMs)
        {
            total += await CountEventsAsync(connection, transaction, filter with { From = Ids.Time(endHour!.Value * HourMs) });
        }
        return total;
    }

    /// <summary>
    /// Events per slot of whole hours from a whole hour (the console's charts: hourly or daily bars), or null when the
    /// slots do not fall on hours and the events themselves must be counted.
    /// </summary>
    public static async Task<long[]?> HistogramAsync(DbConnection connection, DbTransaction transaction, AttackFilter filter, long startMs, long widthMs, int slots)
    {
        if (startMs % HourMs != 0 || widthMs % HourMs != 0)
        {
            return null;
        }
        var where = new StringBuilder(" WHERE hour >= @startHour AND hour < @endHour");
        var parameters = new DynamicParameters();
        AttackStore.Append(where, parameters, filter with { From = null, To = null });
        var (startHour, widthHours) = (startMs / HourMs, widthMs / HourMs);
        parameters.Add("startHour", startHour);
        parameters.Add("endHour", startHour + (widthHours * slots));
        parameters.Add("widthHours", widthHours);
        var rows = await connection.QueryAsync<(long Slot, long Count)>(
            $"SELECT (hour - @startHour) / @widthHours AS slot, CAST(SUM(events) AS BIGINT) AS count FROM attack_hours{where} GROUP BY (hour - @startHour) / @widthHours",
            parameters, transaction);
        var counts = new long[slots];
        foreach (var (slot, count) in rows)
        {
            counts[slot] = count;
        }
        return counts;
    }

    /// <summary>Forgets the counts of hours before <paramref name="cutoffMs"/> (a whole day), whose events retention removed.</summary>
    public static Task<int> DeleteBeforeAsync(DbConnection connection, DbTransaction transaction, long cutoffMs) =>
        connection.ExecuteAsync("DELETE FROM attack_hours WHERE hour < @hour", new { hour = FloorDiv(cutoffMs, HourMs) }, transaction);

    private static Task<long> CountEventsAsync(DbConnection connection, DbTransaction transaction, AttackFilter filter)
    {
        var where = new StringBuilder(" WHERE 1 = 1");
        var parameters = new DynamicParameters();
        AttackStore.Append(where, parameters, filter);
        return connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM attacks" + where, parameters, transaction);
    }

    private static long FloorDiv(long value, long divisor) => (value / divisor) - (value % divisor < 0 ? 1 : 0);
}
