using System.Data.Common;
using Dapper;
using LeakNode.Cloud.Storage;

namespace LeakNode.Cloud.Notifications;

/// <summary>The attempts one ingest batch stored, per leak and minute; filled while the batch is inserted, no query needed.</summary>
internal sealed class AttemptTally
{
    private readonly Dictionary<(string LeakId, long Minute), long> _counts = [];
    private readonly Dictionary<string, long> _newest = new(StringComparer.Ordinal);

    public bool IsEmpty => _counts.Count == 0;

    public void Add(string leakId, long occurredAtMs)
    {
        var key = (leakId, occurredAtMs / 60_000);
        _counts[key] = _counts.GetValueOrDefault(key) + 1;
        _newest[leakId] = Math.Max(_newest.GetValueOrDefault(leakId), occurredAtMs);
    }

    public IEnumerable<((string LeakId, long Minute) Key, long Count)> Minutes => _counts.Select(c => (c.Key, c.Value));

    public IReadOnlyDictionary<string, long> NewestByLeak => _newest;
}

/// <summary>
/// Finds, per ingest batch, the leaks attempted for the first time and those whose attempts went over a channel's
/// rate. It keeps ingest fast by working per distinct leak of a batch, not per event: one insert into
/// <c>leak_attempts</c> per leak (whose conflict says "seen before") and one counter upsert per leak and minute in
/// <c>attempt_minutes</c> (on PostgreSQL one statement of arrays for each table), then, only when a channel watches a
/// rate, one sum over the window per batch.
/// </summary>
internal sealed class AttemptWatch(NotificationOutbox outbox, TimeProvider clock)
{
    /// <summary>The longest rate window a channel may set; counters older than twice this are pruned.</summary>
    public const int MaxWindowMinutes = 1440;

    /// <summary>Records a batch's attempts in its transaction and stores the notifications they cause. True when any was stored.</summary>
    public async Task<bool> RecordAsync(DbConnection connection, DbTransaction transaction, AttemptTally tally)
    {
        if (tally.IsEmpty)
        {
            return false;
        }
        // Both in one fixed order (leak, then minute): two replicas' batches that touch the same rows take their row
        // locks in the same order, and wait for each other instead of deadlocking.
        var leaks = tally.NewestByLeak.OrderBy(l => l.Key, StringComparer.Ordinal).ToList();
        var minutes = tally.Minutes.OrderBy(m => m.Key.LeakId, StringComparer.Ordinal).ThenBy(m => m.Key.Minute).ToList();
        const string FirstSql = "ON CONFLICT (leak_id) DO NOTHING";
        const string MinuteSql = "ON CONFLICT (leak_id, minute) DO UPDATE SET attempts = attempt_minutes.attempts + excluded.attempts";
        List<string> first;
        if (connection is Npgsql.NpgsqlConnection)
        {
            // A statement each, of column arrays: a statement a leak or a minute is a round trip each to a server.
            // The conflict says "seen before", so the rows returned are the leaks attempted for the first time.
            first = [.. await connection.QueryAsync<string>(
                $"INSERT INTO leak_attempts (leak_id, first_at) SELECT * FROM unnest(@leakIds::text[], @newest::bigint[]) {FirstSql} RETURNING leak_id",
                new { leakIds = leaks.Select(l => l.Key).ToArray(), newest = leaks.Select(l => l.Value).ToArray() }, transaction)];
            await connection.ExecuteAsync(
                $"INSERT INTO attempt_minutes (leak_id, minute, attempts) SELECT * FROM unnest(@leakIds::text[], @minutes::bigint[], @counts::bigint[]) {MinuteSql}",
                new
                {
                    leakIds = minutes.Select(m => m.Key.LeakId).ToArray(), minutes = minutes.Select(m => m.Key.Minute).ToArray(),
                    counts = minutes.Select(m => m.Count).ToArray(),
                },
                transaction);
        }
        else
        {
            first = [];
            foreach (var (leakId, newest) in leaks)
            {
                if (await connection.ExecuteAsync(
                    $"INSERT INTO leak_attempts (leak_id, first_at) VALUES (@leakId, @newest) {FirstSql}", new { leakId, newest }, transaction) > 0)
                {
                    first.Add(leakId);
                }
            }
            await connection.ExecuteAsync(
                $"INSERT INTO attempt_minutes (leak_id, minute, attempts) VALUES (@LeakId, @Minute, @Count) {MinuteSql}",
                minutes.Select(m => new { m.Key.LeakId, m.Key.Minute, m.Count }), transaction);
        }

        var channels = (await IntegrationStore.EnabledAsync(connection, transaction))
            .Where(c => c.Events.Contains(NotificationKinds.AttemptFirst) || (c.RateCount > 0 && c.Events.Contains(NotificationKinds.AttemptRate)))
            .ToList();
        if (channels.Count == 0)
        {
            return false;
        }
        var stored = 0;
        foreach (var leakId in first)
        {
            var leak = await outbox.ReadLeakAsync(connection, transaction, leakId);
            if (leak is null)
            {
                continue;
            }
            var notice = new NotificationEvent(
                Ids.New("ev_"), NotificationKinds.AttemptFirst, clock.GetUtcNow(), leak, null, null, null,
                new AttemptSummary(tally.Minutes.Where(m => m.Key.LeakId == leakId).Sum(m => m.Count), null, Ids.Time(tally.NewestByLeak[leakId])), null);
            stored += await outbox.EnqueueAsync(
                connection, transaction, notice, channels.Where(c => c.Wants(NotificationKinds.AttemptFirst, leak.Risk.Score)).Select(c => c.Id));
        }
        stored += await RatesAsync(connection, transaction, tally, channels.Where(c => c.RateCount > 0 && c.Events.Contains(NotificationKinds.AttemptRate)).ToList());
        return stored > 0;
    }

    /// <summary>
    /// Channels whose rate a leak of this batch reached, each told once per window: the alert row is claimed by an
    /// update that only succeeds when the last alert is older than the window, so concurrent batches (or replicas)
    /// cannot both send it.
    /// </summary>
    private async Task<int> RatesAsync(DbConnection connection, DbTransaction transaction, AttemptTally tally, List<ChannelFilter> channels)
    {
        if (channels.Count == 0)
        {
            return 0;
        }
        var stored = 0;
        var now = Ids.Now(clock);
        var leakIds = tally.NewestByLeak.Keys.ToList();
        foreach (var window in channels.Select(c => c.RateWindow).Distinct())
        {
            var (list, parameters) = SqlList.In("leak", leakIds);
            parameters.Add("since", now / 60_000 - window + 1);
            var sums = await connection.QueryAsync<(string LeakId, long Attempts)>(
                $"SELECT leak_id, CAST(SUM(attempts) AS BIGINT) FROM attempt_minutes WHERE leak_id IN {list} AND minute >= @since GROUP BY leak_id",
                parameters, transaction);
            foreach (var (leakId, attempts) in sums)
            {
                LeakSummary? leak = null;
                foreach (var channel in channels.Where(c => c.RateWindow == window && attempts >= c.RateCount))
                {
                    var args = new { integrationId = channel.Id, leakId, now, before = now - (window * 60_000L) };
                    var claimed = await connection.ExecuteAsync(
                        "UPDATE attempt_rate_alerts SET alerted_at = @now WHERE integration_id = @integrationId AND leak_id = @leakId AND alerted_at <= @before",
                        args, transaction)
                        + await connection.ExecuteAsync(
                        "INSERT INTO attempt_rate_alerts (integration_id, leak_id, alerted_at) VALUES (@integrationId, @leakId, @now) ON CONFLICT (integration_id, leak_id) DO NOTHING",
                        args, transaction);
                    leak ??= await outbox.ReadLeakAsync(connection, transaction, leakId);
                    if (claimed == 0 || leak is null || !channel.Wants(NotificationKinds.AttemptRate, leak.Risk.Score))
                    {
                        continue;
                    }
                    var notice = new NotificationEvent(
                        Ids.New("ev_"), NotificationKinds.AttemptRate, clock.GetUtcNow(), leak, null, null, null,
                        new AttemptSummary(attempts, window, Ids.Time(tally.NewestByLeak[leakId])), null);
                    stored += await outbox.EnqueueAsync(connection, transaction, notice, [channel.Id]);
                }
            }
        }
        return stored;
    }

    /// <summary>Drops counters no window can reach any more.</summary>
    public static Task<int> PruneAsync(DbConnection connection, DbTransaction transaction, long nowMs) =>
        connection.ExecuteAsync("DELETE FROM attempt_minutes WHERE minute < @before", new { before = nowMs / 60_000 - (2 * MaxWindowMinutes) }, transaction);
}
