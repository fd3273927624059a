using System.Data.Common;
using Dapper;
using LeakNode.Cloud.Configuration;

namespace LeakNode.Cloud.Storage;

/// <summary>
/// The database schema as numbered migrations, applied in order at start-up and recorded in
/// <c>schema_migrations</c>. A migration, once released, never changes: a new one is appended.
/// </summary>
/// <remarks>
/// The SQL is portable between SQLite and PostgreSQL: TEXT, INTEGER and BIGINT only (times are Unix milliseconds,
/// flags 0/1, binary values base64 text), no AUTOINCREMENT/SERIAL (ids are made by the cloud).
/// </remarks>
internal static class SchemaMigrations
{
    public static readonly IReadOnlyList<(int Version, string Name, string Sql)> All =
    [
        (1, "leaks, rule feed, access, nodes, attacks", """
            CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);

            CREATE TABLE rule_state (id INTEGER PRIMARY KEY, version BIGINT NOT NULL);
            INSERT INTO rule_state (id, version) VALUES (1, 0);

            CREATE TABLE rule_changes (
                version BIGINT PRIMARY KEY,
                leak_id TEXT NOT NULL,
                watched_before INTEGER NOT NULL,
                action_before INTEGER NOT NULL,
                watched_after INTEGER NOT NULL,
                action_after INTEGER NOT NULL,
                tokens_changed INTEGER NOT NULL,
                changed_at BIGINT NOT NULL);

            CREATE TABLE leaks (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                name_lower TEXT NOT NULL,
                description TEXT NOT NULL,
                description_lower TEXT NOT NULL,
                risk INTEGER NOT NULL,
                status TEXT NOT NULL,
                status_rank INTEGER NOT NULL,
                remediation TEXT NOT NULL,
                token_count INTEGER NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL);
            CREATE INDEX ix_leaks_status_rank ON leaks (status_rank, created_at, id);
            CREATE INDEX ix_leaks_created ON leaks (created_at, id);
            CREATE INDEX ix_leaks_status ON leaks (status);

            CREATE TABLE leak_tokens (
                id TEXT PRIMARY KEY,
                leak_id TEXT NOT NULL,
                ordinal INTEGER NOT NULL,
                kind TEXT NOT NULL,
                fingerprint TEXT NOT NULL,
                preview TEXT NOT NULL,
                token_length INTEGER NOT NULL,
                span_start INTEGER NOT NULL,
                windows TEXT NOT NULL,
                hmac TEXT NOT NULL,
                sealed TEXT NOT NULL,
                created_at BIGINT NOT NULL);
            CREATE INDEX ix_leak_tokens_leak ON leak_tokens (leak_id, ordinal);
            CREATE INDEX ix_leak_tokens_fingerprint ON leak_tokens (fingerprint);

            CREATE TABLE leak_sources (
                id TEXT PRIMARY KEY,
                leak_id TEXT NOT NULL,
                kind TEXT NOT NULL,
                url TEXT NULL,
                location TEXT NULL,
                first_seen BIGINT NOT NULL);
            CREATE INDEX ix_leak_sources_leak ON leak_sources (leak_id);
            CREATE INDEX ix_leak_sources_kind ON leak_sources (kind, leak_id);

            CREATE TABLE leak_history (
                id TEXT PRIMARY KEY,
                leak_id TEXT NOT NULL,
                at BIGINT NOT NULL,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                comment TEXT NULL);
            CREATE INDEX ix_leak_history_leak ON leak_history (leak_id, at, id);

            CREATE TABLE api_keys (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                role TEXT NOT NULL,
                key_hash TEXT NOT NULL UNIQUE,
                bootstrap INTEGER NOT NULL,
                created_at BIGINT NOT NULL);

            CREATE TABLE nodes (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                token_hash TEXT NOT NULL UNIQUE,
                created_at BIGINT NOT NULL,
                revoked_at BIGINT NULL,
                connections INTEGER NOT NULL,
                last_seen BIGINT NULL,
                rule_version BIGINT NULL,
                mode TEXT NULL,
                software_version TEXT NULL,
                last_error TEXT NULL,
                last_error_version BIGINT NULL,
                dropped_events BIGINT NOT NULL);

            CREATE TABLE attacks (
                id TEXT PRIMARY KEY,
                node_id TEXT NOT NULL,
                event_type TEXT NOT NULL,
                occurred_at BIGINT NOT NULL,
                leak_id TEXT NOT NULL,
                token_id TEXT NOT NULL,
                token_fingerprint TEXT NOT NULL,
                token_preview TEXT NULL,
                action TEXT NOT NULL,
                hits INTEGER NOT NULL,
                client_ip TEXT NOT NULL,
                method TEXT NOT NULL,
                host TEXT NOT NULL,
                path TEXT NOT NULL,
                location TEXT NOT NULL,
                status_code INTEGER NOT NULL,
                received_at BIGINT NOT NULL);
            CREATE INDEX ix_attacks_time ON attacks (occurred_at, id);
            CREATE INDEX ix_attacks_leak ON attacks (leak_id, occurred_at);
            """),
        (2, "notification channels, deliveries, attempt counters", """
            CREATE TABLE integrations (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                kind TEXT NOT NULL,
                enabled INTEGER NOT NULL,
                events TEXT NOT NULL,
                min_risk INTEGER NOT NULL,
                rate_count INTEGER NOT NULL,
                rate_window INTEGER NOT NULL,
                settings TEXT NOT NULL,
                secrets TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL);

            CREATE TABLE notification_deliveries (
                id TEXT PRIMARY KEY,
                integration_id TEXT NOT NULL,
                event_kind TEXT NOT NULL,
                leak_id TEXT NULL,
                payload TEXT NOT NULL,
                status TEXT NOT NULL,
                attempts INTEGER NOT NULL,
                next_attempt_at BIGINT NOT NULL,
                claimed_until BIGINT NOT NULL,
                claim_id TEXT NULL,
                last_error TEXT NULL,
                response_status INTEGER NULL,
                created_at BIGINT NOT NULL,
                finished_at BIGINT NULL);
            CREATE INDEX ix_deliveries_due ON notification_deliveries (status, next_attempt_at);
            CREATE INDEX ix_deliveries_integration ON notification_deliveries (integration_id, created_at, id);

            CREATE TABLE leak_attempts (leak_id TEXT PRIMARY KEY, first_at BIGINT NOT NULL);
            INSERT INTO leak_attempts (leak_id, first_at) SELECT leak_id, MIN(occurred_at) FROM attacks GROUP BY leak_id;

            CREATE TABLE attempt_minutes (
                leak_id TEXT NOT NULL,
                minute BIGINT NOT NULL,
                attempts BIGINT NOT NULL,
                PRIMARY KEY (leak_id, minute));
            CREATE INDEX ix_attempt_minutes_minute ON attempt_minutes (minute);

            CREATE TABLE attempt_rate_alerts (
                integration_id TEXT NOT NULL,
                leak_id TEXT NOT NULL,
                alerted_at BIGINT NOT NULL,
                PRIMARY KEY (integration_id, leak_id));

            CREATE TABLE notification_schedule (name TEXT PRIMARY KEY, last_day BIGINT NOT NULL);
            INSERT INTO notification_schedule (name, last_day) VALUES ('daily-digest', 0)
            """),
        (3, "console users, data protection keys", """
            CREATE TABLE console_users (
                id TEXT PRIMARY KEY,
                email TEXT NOT NULL,
                email_normalized TEXT NOT NULL UNIQUE,
                password_hash TEXT NULL,
                security_stamp TEXT NOT NULL,
                role TEXT NOT NULL,
                bootstrap INTEGER NOT NULL,
                failed_count INTEGER NOT NULL,
                lockout_end BIGINT NULL,
                created_at BIGINT NOT NULL);

            CREATE TABLE data_protection_keys (
                name TEXT PRIMARY KEY,
                xml TEXT NOT NULL,
                created_at BIGINT NOT NULL);
            """),
        // The organisation's issued tokens as digests only: no sealed plaintext, unlike leak_tokens (the plaintext is
        // reduced at once, or never sent). key_id names the inventory key the digest was made with.
        (4, "token inventory", """
            CREATE TABLE inventory_tokens (
                id TEXT PRIMARY KEY,
                label TEXT NULL,
                preview TEXT NOT NULL,
                fingerprint TEXT NOT NULL UNIQUE,
                token_length INTEGER NOT NULL,
                span_start INTEGER NOT NULL,
                windows TEXT NOT NULL,
                hmac TEXT NOT NULL,
                key_id TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                created_by TEXT NOT NULL)
            """),
        (5, "scan sources and runs, computed risk reasons", """
            CREATE TABLE scan_sources (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                kind TEXT NOT NULL,
                url TEXT NOT NULL,
                schedule TEXT NOT NULL,
                enabled INTEGER NOT NULL,
                next_scan_at BIGINT NULL,
                requested_by TEXT NULL,
                git_heads TEXT NULL,
                claim_id TEXT NULL,
                claimed_until BIGINT NOT NULL,
                last_run_id TEXT NULL,
                created_by TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL);
            CREATE INDEX ix_scan_sources_due ON scan_sources (next_scan_at);

            CREATE TABLE scan_runs (
                id TEXT PRIMARY KEY,
                source_id TEXT NOT NULL,
                cause TEXT NOT NULL,
                actor TEXT NOT NULL,
                status TEXT NOT NULL,
                started_at BIGINT NOT NULL,
                finished_at BIGINT NULL,
                incremental INTEGER NOT NULL,
                documents BIGINT NOT NULL,
                bytes BIGINT NOT NULL,
                findings INTEGER NOT NULL,
                new_leaks INTEGER NOT NULL,
                updated_leaks INTEGER NOT NULL,
                error TEXT NULL);
            CREATE INDEX ix_scan_runs_source ON scan_runs (source_id, started_at, id);

            ALTER TABLE leaks ADD COLUMN risk_reasons TEXT NULL;
            ALTER TABLE leaks ADD COLUMN risk_by_user INTEGER NOT NULL DEFAULT 0;
            CREATE INDEX ix_leak_sources_place ON leak_sources (leak_id, url, location)
            """),
        (6, "attack events: day and hour counts, retention upkeep; PostgreSQL: partitioned by day", """
            DROP INDEX ix_attacks_leak;
            CREATE INDEX ix_attacks_leak ON attacks (leak_id, occurred_at, id);
            """ + AttackCountsSql),
    ];

    /// <summary>
    /// Migrations whose PostgreSQL form is code, not <see cref="All"/>'s portable SQL: what depends on the data
    /// (a partition for each day that has events). Run in the migration's transaction, instead of the SQL.
    /// </summary>
    private static readonly Dictionary<int, Func<DbConnection, DbTransaction, Task>> PostgresSteps = new()
    {
        [6] = async (connection, transaction) =>
        {
            await Attacks.AttackPartitions.PartitionAsync(connection, transaction);
            await ExecuteScriptAsync(connection, transaction, AttackCountsSql);
        },
    };

    /// <summary>
    /// Attack events counted per UTC day and per hour, leak, action and type (<c>attack_days</c>, <c>attack_hours</c>:
    /// kept by ingest in the same transaction, filled here from the events already stored): lists answer an exact
    /// total and the console its charts from a few thousand rows instead of a count over millions
    /// (<c>Attacks/AttackCounts.cs</c>). And the claim row that makes one replica at a time run the attack maintenance
    /// (retention, partitions).
    /// </summary>
    private const string AttackCountsSql = """

        CREATE TABLE attack_days (
            day BIGINT NOT NULL,
            leak_id TEXT NOT NULL,
            action TEXT NOT NULL,
            event_type TEXT NOT NULL,
            events BIGINT NOT NULL,
            PRIMARY KEY (day, leak_id, action, event_type));
        CREATE INDEX ix_attack_days_leak ON attack_days (leak_id, day);
        INSERT INTO attack_days (day, leak_id, action, event_type, events)
            SELECT occurred_at / 86400000, leak_id, action, event_type, COUNT(*) FROM attacks GROUP BY occurred_at / 86400000, leak_id, action, event_type;

        CREATE TABLE attack_hours (
            hour BIGINT NOT NULL,
            leak_id TEXT NOT NULL,
            action TEXT NOT NULL,
            event_type TEXT NOT NULL,
            events BIGINT NOT NULL,
            PRIMARY KEY (hour, leak_id, action, event_type));
        CREATE INDEX ix_attack_hours_leak ON attack_hours (leak_id, hour);
        INSERT INTO attack_hours (hour, leak_id, action, event_type, events)
            SELECT occurred_at / 3600000, leak_id, action, event_type, COUNT(*) FROM attacks GROUP BY occurred_at / 3600000, leak_id, action, event_type;

        CREATE TABLE maintenance_jobs (
            name TEXT PRIMARY KEY,
            due_at BIGINT NOT NULL,
            owner TEXT NULL,
            lease_until BIGINT NOT NULL,
            runs BIGINT NOT NULL,
            last_run_at BIGINT NULL,
            last_result TEXT NULL);
        INSERT INTO maintenance_jobs (name, due_at, owner, lease_until, runs) VALUES ('attacks', 0, NULL, 0, 0)
        """;

    /// <summary>The newest schema version this build knows (the list may have gaps, and need not be sorted).</summary>
    public static int Latest => All.Max(m => m.Version);

    /// <summary>Applies every migration the database lacks (up to <paramref name="upTo"/>: tests make older schemas); returns the versions applied now.</summary>
    /// <exception cref="InvalidOperationException">The database was written by a newer build (its schema is ahead of this one).</exception>
    public static async Task<IReadOnlyList<int>> ApplyAsync(CloudDatabase database, CancellationToken cancellationToken, int upTo = int.MaxValue)
    {
        await using (var connection = await database.OpenAsync(cancellationToken))
        {
            if (database.Provider == StorageProvider.Sqlite)
            {
                // WAL lets readers run beside the one writer; it is a property of the file, so once is enough.
                // synchronous stays FULL (the default): an acknowledged event batch must survive a power cut, and one
                // fsync per batch is cheap.
                await connection.ExecuteAsync("PRAGMA journal_mode=WAL");
            }
            await connection.ExecuteAsync(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)");
        }

        var applied = new List<int>();
        foreach (var (version, name, sql) in All.Where(m => m.Version <= upTo).OrderBy(m => m.Version))
        {
            var done = await database.WriteAsync(async (connection, transaction) =>
            {
                if (database.Provider == StorageProvider.Postgres)
                {
                    // Replicas starting together: one migrates, the others wait here and then find it done.
                    await connection.ExecuteAsync("SELECT pg_advisory_xact_lock(7070707)", transaction: transaction);
                }
                var newest = await connection.ExecuteScalarAsync<long?>("SELECT MAX(version) FROM schema_migrations", transaction: transaction) ?? 0;
                if (newest > Latest)
                {
                    throw new InvalidOperationException(
                        $"the database ({database.Location}) has schema version {newest}, newer than this build's {Latest}: run the newer build, or restore a backup");
                }
                var exists = await connection.ExecuteScalarAsync<long>(
                    "SELECT COUNT(*) FROM schema_migrations WHERE version = @version", new { version }, transaction);
                if (exists > 0)
                {
                    return false;
                }
                if (database.Provider == StorageProvider.Postgres && PostgresSteps.TryGetValue(version, out var step))
                {
                    await step(connection, transaction);
                }
                else
                {
                    await ExecuteScriptAsync(connection, transaction, sql);
                }
                await connection.ExecuteAsync(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (@version, @name, @at)",
                    new { version, name, at = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() }, transaction);
                return true;
            }, cancellationToken);
            if (done)
            {
                applied.Add(version);
            }
        }
        return applied;
    }

    // One statement a command: Npgsql accepts several, but a failing statement is easier to name alone.
    private static async Task ExecuteScriptAsync(DbConnection connection, DbTransaction transaction, string script)
    {
        foreach (var statement in script.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            await connection.ExecuteAsync(statement, transaction: transaction);
        }
    }
}
