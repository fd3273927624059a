using System.Data.Common;
using System.Globalization;
using Dapper;

namespace LeakNode.Cloud.Attacks;

/// <summary>
/// PostgreSQL: <c>attacks</c> as a table partitioned by range of <c>occurred_at</c>, one partition a UTC day
/// (<c>attacks_pYYYYMMDD</c>), and a default partition (<c>attacks_default</c>) that takes any event no day partition
/// covers (years old, or from a node whose clock runs far ahead), so that no event is ever refused.
/// </summary>
/// <remarks>
/// <para>
/// Why a day: retention then removes a day at a time by dropping a table (the PostgreSQL documentation's way of
/// bulk removal: no row-by-row delete, no vacuum debt), which is the granularity people set retention in; and the
/// partition count stays where the planner is comfortable: 90 days of retention and 7 ahead are about 100
/// partitions, a year about 370. At the 10 million events over 90 days of the benchmark a day is ~110,000 rows,
/// whose indexes stay in memory. A week would make retention up to 6 days late and a day's drop 7 times heavier.
/// </para>
/// <para>
/// A partitioned table's unique keys must include the partition key, so the primary key is <c>(id, occurred_at)</c>.
/// That still stores a resent event once: a node sends an event's id and time as they were made, on every resend
/// (the spool keeps the wire bytes; <c>EventShippingTests.LostAck_BatchIsSentAgainWithTheSameIdsAndTimes</c>), so a
/// resend has the same key and lands in the same partition, where the key conflicts.
/// </para>
/// <para>
/// A day's partition is made the way the documentation recommends for attaching without blocking the table: created
/// apart, with a CHECK constraint that proves its range, filled with the rows of its day the default partition holds,
/// then attached (<c>ATTACH PARTITION</c> takes SHARE UPDATE EXCLUSIVE on <c>attacks</c>, so ingest and reads go on;
/// the CHECK spares it a scan of the new table, and the default partition it must check is small).
/// </para>
/// </remarks>
internal static class AttackPartitions
{
    public const long DayMs = 86_400_000;

    public const string DefaultPartition = "attacks_default";

    private const string Prefix = "attacks_p";

    /// <summary>The columns of <c>attacks</c>, in table order.</summary>
    public const string Columns =
        "id, node_id, event_type, occurred_at, leak_id, token_id, token_fingerprint, token_preview, action, hits, client_ip, method, host, path, location, status_code, received_at";

    /// <summary>How long a partition change waits for a lock before it gives up and tries at the next run, rather than queue every reader behind it.</summary>
    private const string LockTimeout = "SET LOCAL lock_timeout = '10s'";

    /// <summary>The UTC day (days since 1970-01-01) of a time in Unix milliseconds.</summary>
    public static long DayOf(long unixMs) => (unixMs / DayMs) - (unixMs % DayMs < 0 ? 1 : 0);

    public static string Name(long day) =>
        Prefix + DateOnly.FromDateTime(DateTime.UnixEpoch.AddDays(day)).ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    /// <summary>The day a partition of ours covers, from its name; null for any other table (an operator's own is left alone).</summary>
    public static long? DayOfName(string name) =>
        name.StartsWith(Prefix, StringComparison.Ordinal)
        && DateOnly.TryParseExact(name.AsSpan(Prefix.Length), "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
            ? date.DayNumber - DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber
            : null;

    /// <summary>The day partitions that exist, by day.</summary>
    public static async Task<SortedSet<long>> DaysAsync(DbConnection connection, DbTransaction? transaction)
    {
        var names = await connection.QueryAsync<string>(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'attacks'::regclass", transaction: transaction);
        return new SortedSet<long>(names.Select(DayOfName).Where(d => d is not null).Select(d => d!.Value));
    }

    /// <summary>
    /// Migration 6: turns the plain <c>attacks</c> table into the partitioned one, moving its rows into a partition
    /// for each day that has events (within ten years back and a month ahead; any other row goes to the default
    /// partition). Runs in the migration's transaction: a failure leaves the table as it was.
    /// </summary>
    public static async Task PartitionAsync(DbConnection connection, DbTransaction transaction)
    {
        var days = (await connection.QueryAsync<long>("SELECT DISTINCT occurred_at / @DayMs FROM attacks", new { DayMs }, transaction)).ToList();
        var today = DayOf(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        foreach (var sql in new[]
        {
            "ALTER TABLE attacks RENAME TO attacks_unpartitioned",
            "ALTER TABLE attacks_unpartitioned DROP CONSTRAINT attacks_pkey",
            "DROP INDEX ix_attacks_time",
            "DROP INDEX ix_attacks_leak",
            // The same columns as migration 1 made (LIKE copies them and their NOT NULLs), keyed by id and time.
            "CREATE TABLE attacks (LIKE attacks_unpartitioned, PRIMARY KEY (id, occurred_at)) PARTITION BY RANGE (occurred_at)",
            "CREATE INDEX ix_attacks_time ON attacks (occurred_at, id)",
            "CREATE INDEX ix_attacks_leak ON attacks (leak_id, occurred_at, id)",
            $"CREATE TABLE {DefaultPartition} PARTITION OF attacks DEFAULT",
        })
        {
            await connection.ExecuteAsync(sql, transaction: transaction);
        }
        foreach (var day in days.Where(d => d >= today - 3660 && d <= today + 31))
        {
            // The default partition is empty here: a plain PARTITION OF is the simplest and checks nothing.
            await connection.ExecuteAsync(
                $"CREATE TABLE {Name(day)} PARTITION OF attacks FOR VALUES FROM ({day * DayMs}) TO ({(day + 1) * DayMs})", transaction: transaction);
        }
        await connection.ExecuteAsync($"INSERT INTO attacks ({Columns}) SELECT {Columns} FROM attacks_unpartitioned", transaction: transaction);
        await connection.ExecuteAsync("DROP TABLE attacks_unpartitioned", transaction: transaction);
    }

    /// <summary>
    /// Creates the partition of <paramref name="day"/>, moving into it the rows of that day the default partition
    /// took meanwhile, in one transaction. The caller knows it does not exist yet.
    /// </summary>
    public static async Task CreateAsync(DbConnection connection, DbTransaction transaction, long day)
    {
        var name = Name(day);
        var (from, to) = (day * DayMs, (day + 1) * DayMs);
        await connection.ExecuteAsync(LockTimeout, transaction: transaction);
        await connection.ExecuteAsync($"CREATE TABLE {name} (LIKE attacks INCLUDING DEFAULTS INCLUDING CONSTRAINTS)", transaction: transaction);
        await connection.ExecuteAsync($"ALTER TABLE {name} ADD CONSTRAINT {name}_range CHECK (occurred_at >= {from} AND occurred_at < {to})", transaction: transaction);
        // Rows of this day in the default partition would make the ATTACH fail; they move with it. The lock (which the
        // ATTACH would take anyway) keeps more from arriving there meanwhile; the default partition is small, so it is
        // held for milliseconds.
        await connection.ExecuteAsync($"LOCK TABLE {DefaultPartition} IN ACCESS EXCLUSIVE MODE", transaction: transaction);
        await connection.ExecuteAsync(
            $"""
            WITH moved AS (DELETE FROM {DefaultPartition} WHERE occurred_at >= {from} AND occurred_at < {to} RETURNING {Columns})
            INSERT INTO {name} ({Columns}) SELECT {Columns} FROM moved
            """, transaction: transaction);
        await connection.ExecuteAsync($"ALTER TABLE attacks ATTACH PARTITION {name} FOR VALUES FROM ({from}) TO ({to})", transaction: transaction);
        // Redundant once attached (the partition bound says the same).
        await connection.ExecuteAsync($"ALTER TABLE {name} DROP CONSTRAINT {name}_range", transaction: transaction);
    }

    /// <summary>Drops the partition of <paramref name="day"/>: all its events at once.</summary>
    public static async Task DropAsync(DbConnection connection, DbTransaction transaction, long day)
    {
        // DROP takes ACCESS EXCLUSIVE on attacks for the moment of the drop; the lock timeout keeps it from queueing
        // every reader behind a long query. (DETACH … CONCURRENTLY, the lighter way, refuses a table with a default partition.)
        await connection.ExecuteAsync(LockTimeout, transaction: transaction);
        await connection.ExecuteAsync($"DROP TABLE {Name(day)}", transaction: transaction);
    }
}
