using System.Data.Common;
using System.Text;
using Dapper;
using LeakNode.Cloud.Notifications;
using LeakNode.Cloud.Storage;
using LeakNode.Cloud.Sync;
using Microsoft.Extensions.Logging;

namespace LeakNode.Cloud.Attacks;

/// <summary>An attack event as the API shows it (CONTRACT.md); <see cref="NodeId"/> is the reporting node's id.</summary>
public sealed record AttackView(
    string Id,
    string Type,
    DateTimeOffset Time,
    string NodeId,
    string LeakId,
    string TokenId,
    string TokenFingerprint,
    string? TokenPreview,
    string Action,
    int Hits,
    string ClientIp,
    string Method,
    string Host,
    string Path,
    string Location,
    int StatusCode);

/// <summary>What an attack list selects; null selects all.</summary>
internal sealed record AttackFilter(string? Type, string? LeakId, string? Action, DateTimeOffset? From, DateTimeOffset? To);

/// <summary>
/// Stored attack events. Ingest is the cloud's hot write path: one transaction a group of batches, the statement
/// prepared once (SQLite) or one statement of column arrays a few thousand events (PostgreSQL), and
/// <c>ON CONFLICT DO NOTHING</c> on the event's key so that a resent batch stores nothing twice (the key is the id,
/// and on PostgreSQL's partitioned table the id and time, which a resend carries unchanged: <see cref="AttackPartitions"/>).
/// The same transaction counts the events it stored, and only those, per leak for notifications (<see cref="AttemptWatch"/>)
/// and per day and hour for exact totals (<see cref="AttackCounts"/>), per distinct key of the batch, never per event.
/// </summary>
internal sealed partial class AttackStore(CloudDatabase database, AttemptWatch attempts, NotificationOutbox outbox, TimeProvider clock, ILogger<AttackStore> logger)
    : IAttackStore, IDisposable
{
    /// <summary>The longest text a node may put in one field; more is cut (a path of megabytes is not evidence, it is a problem).</summary>
    private const int MaxFieldLength = 2048;

    private const string InsertSql = """
        INSERT INTO attacks (id, node_id, event_type, occurred_at, leak_id, token_id, token_fingerprint, token_preview, action, hits,
            client_ip, method, host, path, location, status_code, received_at)
        VALUES (@id, @node, @type, @time, @leak, @token, @fingerprint, @preview, @action, @hits, @ip, @method, @host, @path, @location, @status, @received)
        ON CONFLICT DO NOTHING
        """;

    /// <summary>
    /// PostgreSQL: a chunk of events as one array a column, in <see cref="Parameters"/> order. The partitioned table
    /// routes each row to its day (or the default partition); <c>RETURNING</c> names the rows stored, the rest were
    /// already there.
    /// </summary>
    private const string InsertArraysSql = """
        INSERT INTO attacks (id, node_id, event_type, occurred_at, leak_id, token_id, token_fingerprint, token_preview, action, hits,
            client_ip, method, host, path, location, status_code, received_at)
        SELECT * FROM unnest(@id::text[], @node::text[], @type::text[], @time::bigint[], @leak::text[], @token::text[], @fingerprint::text[],
            @preview::text[], @action::text[], @hits::integer[], @ip::text[], @method::text[], @host::text[], @path::text[], @location::text[],
            @status::integer[], @received::bigint[])
        ON CONFLICT DO NOTHING
        RETURNING id, occurred_at
        """;

    /// <summary>
    /// The most events one PostgreSQL statement carries. A group (up to <see cref="MaxGroupEvents"/>) takes a few
    /// statements, each a round trip whose cost is spread over thousands of rows; the bound keeps one message of the
    /// longest fields (paths of 2 KiB) near 10 MB.
    /// </summary>
    private const int MaxStatementEvents = 5_000;

    // The columns, typed up front: SQLite's statement is prepared once for every row, and PostgreSQL's column arrays take their element type from here.
    private static readonly (string Name, System.Data.DbType Type)[] Parameters =
    [
        ("id", System.Data.DbType.String), ("node", System.Data.DbType.String), ("type", System.Data.DbType.String), ("time", System.Data.DbType.Int64),
        ("leak", System.Data.DbType.String), ("token", System.Data.DbType.String), ("fingerprint", System.Data.DbType.String),
        ("preview", System.Data.DbType.String), ("action", System.Data.DbType.String), ("hits", System.Data.DbType.Int32), ("ip", System.Data.DbType.String),
        ("method", System.Data.DbType.String), ("host", System.Data.DbType.String), ("path", System.Data.DbType.String),
        ("location", System.Data.DbType.String), ("status", System.Data.DbType.Int32), ("received", System.Data.DbType.Int64),
    ];

    /// <summary>Batches from every node stream waiting for the next group commit.</summary>
    private readonly System.Collections.Concurrent.ConcurrentQueue<PendingBatch> _pending = new();

    private readonly SemaphoreSlim _writer = new(1, 1);

    /// <summary>
    /// The most events one transaction takes from the queue. Enough to fold the batches of many streams (500 each by
    /// default) into one commit, small enough that a group's transaction stays well under a second on SQLite.
    /// </summary>
    private const int MaxGroupEvents = 20_000;

    /// <summary>
    /// Stores a batch, together with the batches other node streams handed in meanwhile: one transaction, one
    /// fsync for all of them (group commit). A commit is most of an insert's cost on SQLite (synchronous=FULL: an
    /// acknowledged event survives a power cut), so streams that would each wait for their own fsync share one.
    /// The caller whose batch is queued first writes the group; the others find theirs written when they get the
    /// writer's turn.
    /// </summary>
    public async Task<(int Stored, int Duplicates)> InsertBatchAsync(string nodeId, IReadOnlyList<IncomingAttack> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count == 0)
        {
            return (0, 0);
        }
        var batch = new PendingBatch(nodeId, events);
        _pending.Enqueue(batch);
        await _writer.WaitAsync(cancellationToken);
        try
        {
            while (!batch.Done.Task.IsCompleted)
            {
                await WriteGroupAsync();
            }
        }
        finally
        {
            _writer.Release();
        }
        return await batch.Done.Task;
    }

    // Not cancellable: the group holds other streams' batches, whose callers are still waiting for them.
    private async Task WriteGroupAsync()
    {
        var group = new List<PendingBatch>();
        var size = 0;
        while (size < MaxGroupEvents && _pending.TryDequeue(out var next))
        {
            group.Add(next);
            size += next.Events.Count;
        }
        if (group.Count == 0)
        {
            return;
        }
        try
        {
            var received = Ids.Now(clock);
            var (stored, notified) = await database.WriteAsync(
                async (connection, transaction) =>
                {
                    var tally = new AttemptTally();
                    var eventCounts = new AttackCounts.Tally();
                    var counts = connection is Npgsql.NpgsqlConnection postgres
                        ? await InsertArraysAsync(postgres, (Npgsql.NpgsqlTransaction)transaction, group, received, tally, eventCounts)
                        : [.. group.Select(batch => InsertPrepared(connection, transaction, batch.NodeId, batch.Events, received, tally, eventCounts))];
                    await AttackCounts.AddAsync(connection, transaction, eventCounts);
                    return (counts, await attempts.RecordAsync(connection, transaction, tally));
                },
                CancellationToken.None);
            if (notified)
            {
                outbox.Wake();
            }
            for (var i = 0; i < group.Count; i++)
            {
                Log.AttacksStored(logger, stored[i], group[i].Events.Count - stored[i], group[i].NodeId);
                group[i].Done.TrySetResult((stored[i], group[i].Events.Count - stored[i]));
            }
        }
        catch (Exception error)
        {
            foreach (var batch in group)
            {
                batch.Done.TrySetException(error);
            }
        }
    }

    public void Dispose() => _writer.Dispose();

    private sealed class PendingBatch(string nodeId, IReadOnlyList<IncomingAttack> events)
    {
        public string NodeId { get; } = nodeId;

        public IReadOnlyList<IncomingAttack> Events { get; } = events;

        public TaskCompletionSource<(int Stored, int Duplicates)> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>SQLite: one prepared statement executed per row; parsing the statement is most of an insert's cost there.</summary>
    private static int InsertPrepared(
        DbConnection connection, DbTransaction transaction, string nodeId, IReadOnlyList<IncomingAttack> events, long received, AttemptTally tally,
        AttackCounts.Tally eventCounts)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = InsertSql;
        var parameters = new DbParameter[Parameters.Length];
        for (var i = 0; i < parameters.Length; i++)
        {
            parameters[i] = command.CreateParameter();
            parameters[i].ParameterName = Parameters[i].Name;
            parameters[i].DbType = Parameters[i].Type;
            command.Parameters.Add(parameters[i]);
        }
        command.Prepare();
        var count = 0;
        foreach (var e in events)
        {
            var values = Values(e, nodeId, received);
            for (var i = 0; i < values.Length; i++)
            {
                parameters[i].Value = values[i];
            }
            if (command.ExecuteNonQuery() > 0)
            {
                count++;
                Stored(values, tally, eventCounts);
            }
        }
        return count;
    }

    /// <summary>
    /// PostgreSQL: the group's events in a few statements of column arrays (<see cref="InsertArraysSql"/>), counting
    /// only the rows the database says it stored.
    /// </summary>
    /// <remarks>
    /// Why not a statement an event (an <c>NpgsqlBatch</c> of single-row inserts, as before): each is parsed, planned
    /// and routed to its partition on its own, which held ingest to ~8,500–11,000 events/s where SQLite does 20,000+
    /// (bench/README.md, "Rule propagation and event ingest"); the arrays put it at SQLite's pace. Binary <c>COPY</c>
    /// was not tried: it has no <c>ON CONFLICT</c>, so it would need a staging table made and dropped in every
    /// transaction (catalog churn at every group commit) to keep the duplicates out.
    /// A key that comes twice in the group (twice in one batch, or a resend in another stream's batch) is sent once,
    /// with its first occurrence: as with a statement an event, the first is stored and the later ones are reported as
    /// duplicates. A statement holding both would store one of them, and <c>RETURNING</c> would not say which copy
    /// (they may differ in other fields) the counts should follow.
    /// </remarks>
    private static async Task<int[]> InsertArraysAsync(
        Npgsql.NpgsqlConnection connection, Npgsql.NpgsqlTransaction transaction, List<PendingBatch> group, long received, AttemptTally tally,
        AttackCounts.Tally eventCounts)
    {
        var rows = new List<(int Batch, object[] Values)>();
        var byKey = new Dictionary<(string Id, long Time), int>();
        for (var batch = 0; batch < group.Count; batch++)
        {
            foreach (var e in group[batch].Events)
            {
                var values = Values(e, group[batch].NodeId, received);
                if (byKey.TryAdd(((string)values[0], (long)values[3]), rows.Count))
                {
                    rows.Add((batch, values));
                }
            }
        }
        var counts = new int[group.Count];
        foreach (var chunk in rows.Chunk(MaxStatementEvents))
        {
            await using var command = new Npgsql.NpgsqlCommand(InsertArraysSql, connection, transaction);
            for (var column = 0; column < Parameters.Length; column++)
            {
                command.Parameters.Add(ColumnArray(chunk, column));
            }
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                var (batch, values) = rows[byKey[(reader.GetString(0), reader.GetInt64(1))]];
                counts[batch]++;
                Stored(values, tally, eventCounts);
            }
        }
        return counts;
    }

    /// <summary>One column of a chunk's rows as a typed array parameter (a null preview is a null element).</summary>
    private static Npgsql.NpgsqlParameter ColumnArray((int Batch, object[] Values)[] rows, int column)
    {
        var (name, type) = Parameters[column];
        return type switch
        {
            System.Data.DbType.Int64 => new Npgsql.NpgsqlParameter<long[]>(name, [.. rows.Select(r => (long)r.Values[column])]),
            System.Data.DbType.Int32 => new Npgsql.NpgsqlParameter<int[]>(name, [.. rows.Select(r => (int)r.Values[column])]),
            _ => new Npgsql.NpgsqlParameter<string?[]>(name, [.. rows.Select(r => r.Values[column] as string)]),
        };
    }

    /// <summary>Counts a stored event (its values in <see cref="Parameters"/> order) for notifications and for the day and hour counts.</summary>
    private static void Stored(object[] values, AttemptTally tally, AttackCounts.Tally eventCounts)
    {
        tally.Add((string)values[4], (long)values[3]);
        eventCounts.Add((long)values[3], (string)values[4], (string)values[8], (string)values[2]);
    }

    /// <summary>An event's column values in <see cref="Parameters"/> order, each field cut to its limit.</summary>
    private static object[] Values(IncomingAttack e, string nodeId, long received) =>
    [
        Cut(e.Id, 128) ?? "", nodeId, Cut(e.Type, 32) ?? "", e.Time.ToUnixTimeMilliseconds(), Cut(e.LeakId, 255) ?? "", Cut(e.TokenId, 255) ?? "",
        Cut(e.TokenFingerprint, 64) ?? "", (object?)Cut(e.TokenPreview, 64) ?? DBNull.Value, Cut(e.Action, 32) ?? "", e.Hits, Cut(e.ClientIp, 64) ?? "",
        Cut(e.Method, 32) ?? "", Cut(e.Host, 255) ?? "", Cut(e.Path, MaxFieldLength) ?? "", Cut(e.Location, 255) ?? "", e.StatusCode, received,
    ];

    /// <summary>
    /// Retention: deletes at most <paramref name="batchSize"/> events older than <paramref name="cutoffMs"/> in one
    /// transaction, in the ingest writer's turn, so that a group commit waits for one batch at most. SQLite deletes
    /// them from <c>attacks</c>; PostgreSQL, whose day partitions are dropped whole, from the default partition. Returns
    /// how many it deleted (fewer than the batch: none are left).
    /// </summary>
    public async Task<int> DeleteOlderAsync(long cutoffMs, int batchSize, CancellationToken cancellationToken)
    {
        // rowid (SQLite) and ctid (PostgreSQL) find the rows again without a second index lookup by id.
        var sql = database.Provider == Configuration.StorageProvider.Sqlite
            ? "DELETE FROM attacks WHERE rowid IN (SELECT rowid FROM attacks WHERE occurred_at < @cutoffMs LIMIT @batchSize)"
            : $"DELETE FROM {AttackPartitions.DefaultPartition} WHERE ctid = ANY (ARRAY(SELECT ctid FROM {AttackPartitions.DefaultPartition} WHERE occurred_at < @cutoffMs LIMIT @batchSize))";
        await _writer.WaitAsync(cancellationToken);
        try
        {
            return await database.WriteAsync((connection, transaction) => connection.ExecuteAsync(sql, new { cutoffMs, batchSize }, transaction), cancellationToken);
        }
        finally
        {
            _writer.Release();
        }
    }

    public async Task RecordDroppedAsync(string nodeId, ulong dropped, CancellationToken cancellationToken)
    {
        if (dropped == 0)
        {
            return;
        }
        var count = (long)Math.Min(dropped, long.MaxValue);
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(
            new CommandDefinition("UPDATE nodes SET dropped_events = dropped_events + @count WHERE id = @nodeId", new { count, nodeId }, cancellationToken: cancellationToken));
        Log.AttacksDropped(logger, nodeId, count);
    }

    /// <summary>
    /// A page of events, newest first; the cursor is the last event's (time, id). The total is exact
    /// (<see cref="AttackCounts"/>), read in the same snapshot as the page.
    /// </summary>
    public Task<(IReadOnlyList<AttackView> Items, long Total, (long Time, string Id)? Next)> ListAsync(
        AttackFilter filter, (long Time, string Id)? after, int limit, CancellationToken cancellationToken) =>
        database.ReadAsync<(IReadOnlyList<AttackView>, long, (long, string)?)>(async (connection, transaction) =>
        {
            var where = new StringBuilder(" WHERE 1 = 1");
            var parameters = new DynamicParameters();
            Append(where, parameters, filter);
            var total = await AttackCounts.CountAsync(connection, transaction, filter);
            if (after is { } cursor)
            {
                // The first condition is a range on the time index for both planners (and prunes PostgreSQL's newer
                // partitions); the second breaks ties within a millisecond.
                where.Append(" AND occurred_at <= @afterTime AND (occurred_at < @afterTime OR id < @afterId)");
                parameters.Add("afterTime", cursor.Time);
                parameters.Add("afterId", cursor.Id);
            }
            parameters.Add("limit", limit + 1);
            var rows = (await connection.QueryAsync<AttackRow>(
                $"SELECT {AttackRow.Columns} FROM attacks{where} ORDER BY occurred_at DESC, id DESC LIMIT @limit", parameters, transaction)).ToList();
            (long, string)? next = null;
            if (rows.Count > limit)
            {
                rows.RemoveAt(limit);
                next = (rows[^1].OccurredAt, rows[^1].Id);
            }
            return (rows.Select(r => r.View()).ToList(), total, next);
        }, cancellationToken);

    /// <summary>
    /// Events per time slot, for the console's charts: <paramref name="slots"/> slots of <paramref name="slot"/> from
    /// <paramref name="from"/>: from the day or hour counts when the slots fall on whole hours (the console's hourly
    /// and daily charts), else counted over the events by the database (integer division of the time, the same on SQLite
    /// and PostgreSQL).
    /// </summary>
    public Task<long[]> HistogramAsync(AttackFilter filter, DateTimeOffset from, TimeSpan slot, int slots, CancellationToken cancellationToken) =>
        database.ReadAsync(async (connection, transaction) =>
        {
            var start = from.ToUnixTimeMilliseconds();
            var width = Math.Max(1, (long)slot.TotalMilliseconds);
            if (await AttackCounts.HistogramAsync(connection, transaction, filter, start, width, slots) is { } fromCounts)
            {
                return fromCounts;
            }
            var where = new StringBuilder(" WHERE 1 = 1");
            var parameters = new DynamicParameters();
            Append(where, parameters, filter with { From = from, To = from + slot * slots });
            parameters.Add("start", start);
            parameters.Add("width", width);
            var rows = await connection.QueryAsync<(long Slot, long Count)>(
                $"SELECT (occurred_at - @start) / @width AS slot, COUNT(*) AS count FROM attacks{where} GROUP BY (occurred_at - @start) / @width", parameters, transaction);
            var counts = new long[slots];
            foreach (var (index, count) in rows)
            {
                if (index >= 0 && index < slots)
                {
                    counts[index] = count;
                }
            }
            return counts;
        }, cancellationToken);

    /// <summary>Appends <paramref name="filter"/>'s conditions; its columns are named alike in <c>attacks</c> and <c>attack_hours</c> (less the time).</summary>
    internal static void Append(StringBuilder where, DynamicParameters parameters, AttackFilter filter)
    {
        if (filter.Type is not null)
        {
            where.Append(" AND event_type = @type");
            parameters.Add("type", filter.Type);
        }
        if (filter.LeakId is not null)
        {
            where.Append(" AND leak_id = @leakId");
            parameters.Add("leakId", filter.LeakId);
        }
        if (filter.Action is not null)
        {
            where.Append(" AND action = @action");
            parameters.Add("action", filter.Action);
        }
        if (filter.From is { } from)
        {
            where.Append(" AND occurred_at >= @from");
            parameters.Add("from", from.ToUnixTimeMilliseconds());
        }
        if (filter.To is { } to)
        {
            where.Append(" AND occurred_at < @to");
            parameters.Add("to", to.ToUnixTimeMilliseconds());
        }
    }

    private static string? Cut(string? value, int length) => value is null ? null : value.Length <= length ? value : value[..length];

    private sealed class AttackRow
    {
        public const string Columns =
            "id, node_id, event_type, occurred_at, leak_id, token_id, token_fingerprint, token_preview, action, hits, client_ip, method, host, path, location, status_code";

        public string Id { get; set; } = "";

        public string NodeId { get; set; } = "";

        public string EventType { get; set; } = "";

        public long OccurredAt { get; set; }

        public string LeakId { get; set; } = "";

        public string TokenId { get; set; } = "";

        public string TokenFingerprint { get; set; } = "";

        public string? TokenPreview { get; set; }

        public string Action { get; set; } = "";

        public long Hits { get; set; }

        public string ClientIp { get; set; } = "";

        public string Method { get; set; } = "";

        public string Host { get; set; } = "";

        public string Path { get; set; } = "";

        public string Location { get; set; } = "";

        public long StatusCode { get; set; }

        public AttackView View() => new(
            Id, EventType, Ids.Time(OccurredAt), NodeId, LeakId, TokenId, TokenFingerprint, TokenPreview, Action, (int)Hits, ClientIp, Method, Host, Path,
            Location, (int)StatusCode);
    }
}
