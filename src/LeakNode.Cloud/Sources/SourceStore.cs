using System.Data.Common;
using Dapper;
using LeakNode.Cloud.Storage;

namespace LeakNode.Cloud.Sources;

/// <summary>A source request that validation accepted: trimmed, kind and schedule resolved.</summary>
internal sealed record ValidSource(string Name, string Kind, string Url, string Schedule, TimeSpan? Interval, bool Enabled);

/// <summary>A source a worker claimed to scan, with what the last scan left for this one.</summary>
internal sealed record ClaimedSource(string Id, string Name, string Kind, string Url, string Schedule, IReadOnlyList<string> GitHeads, string? RequestedBy, bool FirstScan)
{
    /// <summary>Why this scan runs: <c>manual</c> (asked for), <c>first</c>, or <c>schedule</c>.</summary>
    public string Cause => RequestedBy is not null ? "manual" : FirstScan ? "first" : "schedule";

    /// <summary>Who the run is recorded for: the one who asked, else the scheduler.</summary>
    public string Actor => RequestedBy ?? "scheduler";
}

/// <summary>How a scan ended, for <see cref="SourceStore.FinishAsync"/>.</summary>
internal sealed record ScanOutcome(bool Succeeded, long Documents, long Bytes, int Findings, int NewLeaks, int UpdatedLeaks, IReadOnlyList<string>? GitHeads, string? Error)
{
    /// <summary>The scan was cut short by the cloud stopping: it is due again at once after a restart.</summary>
    public bool Stopped { get; init; }
}

/// <summary>
/// Scan sources and their runs (<c>scan_sources</c>, <c>scan_runs</c>). A worker claims a due source with one
/// conditional UPDATE (<c>… AND claimed_until &lt; now</c>), as notification deliveries are claimed: on PostgreSQL
/// a second replica's UPDATE re-checks the condition on the row the first one changed and skips it, on SQLite
/// writers are serial; so no source is scanned by two replicas at once. The claim is a lease the owner renews while
/// it scans; a replica that dies leaves the source to be claimed again once the lease ends.
/// </summary>
internal sealed class SourceStore(CloudDatabase database, ScanningOptions options, TimeProvider clock)
{
    private const string Columns = "id, name, kind, url, schedule, enabled, next_scan_at, requested_by, git_heads, claimed_until, last_run_id, created_at, updated_at";
    private const string RunColumns = "id, cause, actor, status, started_at, finished_at, incremental, documents, bytes, findings, new_leaks, updated_leaks, error";

    private TaskCompletionSource _woken = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when a source became due through this replica (created, scan requested).</summary>
    public Task Woken => Volatile.Read(ref _woken).Task;

    public void Wake() => Interlocked.Exchange(ref _woken, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>Registers a source; an enabled one is scanned at once, then on its schedule.</summary>
    /// <exception cref="SourceRefusedException">The cloud has <c>Scanning:MaxSources</c> already, or one with this URL.</exception>
    public async Task<ScanSourceView> CreateAsync(ValidSource source, string actor, CancellationToken cancellationToken)
    {
        var id = Ids.New("so_");
        var now = Ids.Now(clock);
        await database.WriteAsync(async (connection, transaction) =>
        {
            await RefuseDuplicateAsync(connection, transaction, source.Url, id);
            var count = await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM scan_sources", transaction: transaction);
            if (count >= options.MaxSources)
            {
                throw new SourceRefusedException($"the cloud keeps at most {options.MaxSources} sources (Scanning:MaxSources); delete one first");
            }
            return await connection.ExecuteAsync(
                $"""
                INSERT INTO scan_sources (id, name, kind, url, schedule, enabled, next_scan_at, requested_by, git_heads, claim_id, claimed_until, last_run_id,
                    created_by, created_at, updated_at)
                VALUES (@id, @Name, @Kind, @Url, @Schedule, @enabled, @next, NULL, NULL, NULL, 0, NULL, @actor, @now, @now)
                """,
                new { id, source.Name, source.Kind, source.Url, source.Schedule, enabled = source.Enabled ? 1 : 0, next = source.Enabled ? now : (long?)null, actor, now },
                transaction);
        }, cancellationToken);
        Wake();
        return (await GetAsync(id, cancellationToken))!;
    }

    public Task<ScanSourceView?> GetAsync(string id, CancellationToken cancellationToken) =>
        database.ReadAsync(async (connection, transaction) =>
        {
            var row = await connection.QuerySingleOrDefaultAsync<SourceRow>($"SELECT {Columns} FROM scan_sources WHERE id = @id", new { id }, transaction);
            return row is null ? null : (await ViewsAsync(connection, transaction, [row]))[0];
        }, cancellationToken);

    public Task<IReadOnlyList<ScanSourceView>> ListAsync(CancellationToken cancellationToken) =>
        database.ReadAsync(async (connection, transaction) =>
        {
            var rows = (await connection.QueryAsync<SourceRow>($"SELECT {Columns} FROM scan_sources ORDER BY created_at, id", transaction: transaction)).ToList();
            return await ViewsAsync(connection, transaction, rows);
        }, cancellationToken);

    /// <summary>
    /// Changes a source. A new URL forgets what was scanned (the next scan reads everything) and is scanned at once;
    /// a new schedule takes effect from now; a disabled source is not scanned until enabled again.
    /// </summary>
    public async Task<ScanSourceView?> UpdateAsync(string id, SourceRequest request, ValidSource merged, CancellationToken cancellationToken)
    {
        var now = Ids.Now(clock);
        var found = await database.WriteAsync(async (connection, transaction) =>
        {
            var row = await connection.QuerySingleOrDefaultAsync<SourceRow>($"SELECT {Columns} FROM scan_sources WHERE id = @id", new { id }, transaction);
            if (row is null)
            {
                return false;
            }
            var urlChanged = merged.Url != row.Url;
            if (urlChanged)
            {
                await RefuseDuplicateAsync(connection, transaction, merged.Url, id);
            }
            long? next = row.NextScanAt;
            if (!merged.Enabled)
            {
                next = null;
            }
            else if (urlChanged || (row.Enabled == 0 && request.Enabled is true) || (next is null && row.LastRunId is null))
            {
                next = now;
            }
            else if (merged.Schedule != row.Schedule || next is null)
            {
                next = row.RequestedBy is not null ? now : merged.Interval is { } interval ? now + (long)interval.TotalMilliseconds : null;
            }
            await connection.ExecuteAsync(
                """
                UPDATE scan_sources SET name = @Name, kind = @Kind, url = @Url, schedule = @Schedule, enabled = @enabled, next_scan_at = @next,
                    git_heads = CASE WHEN @urlChanged = 1 THEN NULL ELSE git_heads END, updated_at = @now
                WHERE id = @id
                """,
                new { merged.Name, merged.Kind, merged.Url, merged.Schedule, enabled = merged.Enabled ? 1 : 0, next, urlChanged = urlChanged ? 1 : 0, now, id },
                transaction);
            return true;
        }, cancellationToken);
        if (!found)
        {
            return null;
        }
        Wake();
        return await GetAsync(id, cancellationToken);
    }

    /// <summary>Deletes a source and its runs. The leaks its scans found stay (leaks are never deleted); a scan running now finishes unrecorded.</summary>
    public Task<bool> DeleteAsync(string id, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            await connection.ExecuteAsync("DELETE FROM scan_runs WHERE source_id = @id", new { id }, transaction);
            return await connection.ExecuteAsync("DELETE FROM scan_sources WHERE id = @id", new { id }, transaction) > 0;
        }, cancellationToken);

    /// <summary>Makes a source due now. Refused while a replica scans it (the request would be lost when that scan ends).</summary>
    /// <returns>The source, or null when there is none with this id.</returns>
    /// <exception cref="SourceRefusedException">A scan of the source is running, or the source is disabled.</exception>
    public async Task<ScanSourceView?> RequestScanAsync(string id, string actor, CancellationToken cancellationToken)
    {
        var now = Ids.Now(clock);
        var found = await database.WriteAsync(async (connection, transaction) =>
        {
            var row = await connection.QuerySingleOrDefaultAsync<SourceRow>($"SELECT {Columns} FROM scan_sources WHERE id = @id", new { id }, transaction);
            if (row is null)
            {
                return false;
            }
            if (row.ClaimedUntil >= now)
            {
                throw new SourceRefusedException($"a scan of source '{id}' is running (run {row.LastRunId}); ask again when it has finished");
            }
            if (row.Enabled == 0)
            {
                throw new SourceRefusedException($"source '{id}' is disabled; enable it first (PATCH {{\"enabled\": true}})");
            }
            await connection.ExecuteAsync(
                "UPDATE scan_sources SET next_scan_at = @now, requested_by = @actor WHERE id = @id AND claimed_until < @now", new { now, actor, id }, transaction);
            return true;
        }, cancellationToken);
        if (!found)
        {
            return null;
        }
        Wake();
        return await GetAsync(id, cancellationToken);
    }

    /// <summary>A source's runs, newest first.</summary>
    public Task<IReadOnlyList<ScanRunView>?> RunsAsync(string id, int limit, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<ScanRunView>?>(async (connection, transaction) =>
        {
            if (await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM scan_sources WHERE id = @id", new { id }, transaction) == 0)
            {
                return null;
            }
            var rows = await connection.QueryAsync<RunRow>(
                $"SELECT {RunColumns} FROM scan_runs WHERE source_id = @id ORDER BY started_at DESC, id DESC LIMIT @limit", new { id, limit }, transaction);
            return rows.Select(r => r.ToView()).ToList();
        }, cancellationToken);

    /// <summary>Claims the source due first, if any, for <paramref name="lease"/>.</summary>
    public async Task<ClaimedSource?> ClaimDueAsync(string claimId, TimeSpan lease, CancellationToken cancellationToken)
    {
        var now = Ids.Now(clock);
        var until = now + (long)lease.TotalMilliseconds;
        var row = await database.WriteAsync(async (connection, transaction) =>
        {
            var claimed = await connection.ExecuteAsync(
                """
                UPDATE scan_sources SET claim_id = @claimId, claimed_until = @until
                WHERE id IN (SELECT id FROM scan_sources WHERE enabled = 1 AND next_scan_at IS NOT NULL AND next_scan_at <= @now AND claimed_until < @now
                             ORDER BY next_scan_at, id LIMIT 1)
                  AND enabled = 1 AND claimed_until < @now
                """, new { claimId, until, now }, transaction);
            return claimed == 0
                ? null
                : await connection.QuerySingleOrDefaultAsync<SourceRow>(
                    $"SELECT {Columns} FROM scan_sources WHERE claim_id = @claimId AND claimed_until = @until", new { claimId, until }, transaction);
        }, cancellationToken);
        return row is null
            ? null
            : new ClaimedSource(
                row.Id, row.Name, row.Kind, row.Url, row.Schedule,
                row.GitHeads?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [], row.RequestedBy, row.LastRunId is null);
    }

    /// <summary>Records the start of a claimed source's scan. A run a dead replica left <c>running</c> is marked failed first.</summary>
    public Task<string> StartRunAsync(ClaimedSource source, string claimId, CancellationToken cancellationToken)
    {
        var now = Ids.Now(clock);
        var runId = Ids.New("run_");
        return database.WriteAsync(async (connection, transaction) =>
        {
            await connection.ExecuteAsync(
                "UPDATE scan_runs SET status = 'failed', finished_at = @now, error = @error WHERE source_id = @id AND status = 'running'",
                new { now, error = "the replica running this scan stopped before it finished", id = source.Id }, transaction);
            await connection.ExecuteAsync(
                """
                INSERT INTO scan_runs (id, source_id, cause, actor, status, started_at, finished_at, incremental, documents, bytes, findings, new_leaks, updated_leaks, error)
                VALUES (@runId, @id, @trigger, @actor, 'running', @now, NULL, @incremental, 0, 0, 0, 0, 0, NULL)
                """,
                new { runId, id = source.Id, trigger = source.Cause, actor = source.Actor, now, incremental = source.GitHeads.Count > 0 ? 1 : 0 }, transaction);
            await connection.ExecuteAsync(
                "UPDATE scan_sources SET last_run_id = @runId, requested_by = NULL WHERE id = @id AND claim_id = @claimId",
                new { runId, id = source.Id, claimId }, transaction);
            return runId;
        }, cancellationToken);
    }

    /// <summary>Extends the claim; false when it is no longer this worker's (it ran out and another replica took the source, or the source was deleted).</summary>
    public async Task<bool> RenewAsync(string id, string claimId, TimeSpan lease, CancellationToken cancellationToken)
    {
        var until = Ids.Now(clock) + (long)lease.TotalMilliseconds;
        return await database.WriteAsync(
            (connection, transaction) => connection.ExecuteAsync(
                "UPDATE scan_sources SET claimed_until = @until WHERE id = @id AND claim_id = @claimId", new { until, id, claimId }, transaction),
            cancellationToken) > 0;
    }

    /// <summary>
    /// Records how a scan ended and releases the source: after a success the heads scanned are kept for the next,
    /// incremental scan and the next scan is due one interval later; after a failure it is due after
    /// <c>Scanning:RetryAfterFailure</c> (or the interval, if shorter). A manual source waits for the next request.
    /// </summary>
    public Task FinishAsync(ClaimedSource source, string claimId, string runId, ScanOutcome outcome, CancellationToken cancellationToken)
    {
        var now = Ids.Now(clock);
        var interval = Schedules.TryParse(source.Schedule, out var parsed) ? parsed : null;
        long? next = outcome.Stopped ? now
            : interval is { } every ? now + (long)(outcome.Succeeded ? every : (every < options.RetryAfterFailure ? every : options.RetryAfterFailure)).TotalMilliseconds
            : null;
        var heads = outcome.Succeeded && outcome.GitHeads is { Count: > 0 } scanned ? string.Join(' ', scanned) : null;
        return database.WriteAsync(async (connection, transaction) =>
        {
            await connection.ExecuteAsync(
                """
                UPDATE scan_runs SET status = @status, finished_at = @now, documents = @Documents, bytes = @Bytes, findings = @Findings,
                    new_leaks = @NewLeaks, updated_leaks = @UpdatedLeaks, error = @Error
                WHERE id = @runId
                """,
                new
                {
                    status = outcome.Succeeded ? "succeeded" : "failed", now, outcome.Documents, outcome.Bytes, outcome.Findings, outcome.NewLeaks,
                    outcome.UpdatedLeaks, outcome.Error, runId,
                }, transaction);
            // A request that arrived during the scan was refused (RequestScanAsync), so next_scan_at is ours to set.
            await connection.ExecuteAsync(
                """
                UPDATE scan_sources SET next_scan_at = CASE WHEN enabled = 1 THEN @next ELSE NULL END,
                    git_heads = COALESCE(@heads, git_heads), claim_id = NULL, claimed_until = 0
                WHERE id = @id AND claim_id = @claimId
                """, new { next, heads, id = source.Id, claimId }, transaction);
            await connection.ExecuteAsync(
                """
                DELETE FROM scan_runs WHERE source_id = @id AND id NOT IN
                    (SELECT id FROM scan_runs WHERE source_id = @id ORDER BY started_at DESC, id DESC LIMIT @kept)
                """, new { id = source.Id, kept = options.RunsKept }, transaction);
            return 0;
        }, cancellationToken);
    }

    /// <summary>Gives back what this worker claimed (at shutdown), so that another replica need not wait for the lease.</summary>
    public Task ReleaseAsync(string claimId, CancellationToken cancellationToken) =>
        database.WriteAsync(
            (connection, transaction) => connection.ExecuteAsync(
                "UPDATE scan_sources SET claim_id = NULL, claimed_until = 0 WHERE claim_id = @claimId", new { claimId }, transaction),
            cancellationToken);

    private static async Task RefuseDuplicateAsync(DbConnection connection, DbTransaction transaction, string url, string id)
    {
        var other = await connection.QuerySingleOrDefaultAsync<string>(
            "SELECT id FROM scan_sources WHERE url = @url AND id <> @id", new { url, id }, transaction);
        if (other is not null)
        {
            throw new SourceRefusedException($"source '{other}' has this URL already");
        }
    }

    private async Task<IReadOnlyList<ScanSourceView>> ViewsAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<SourceRow> rows)
    {
        var runs = new Dictionary<string, ScanRunView>(StringComparer.Ordinal);
        foreach (var chunk in rows.Where(r => r.LastRunId is not null).Select(r => r.LastRunId!).Chunk(500))
        {
            var (ids, parameters) = SqlList.In("id", chunk);
            foreach (var run in await connection.QueryAsync<RunRow>($"SELECT {RunColumns} FROM scan_runs WHERE id IN {ids}", parameters, transaction))
            {
                runs[run.Id] = run.ToView();
            }
        }
        var now = Ids.Now(clock);
        return rows.Select(r => new ScanSourceView(
            r.Id, r.Name, r.Kind, r.Url, r.Schedule, r.Enabled != 0, r.NextScanAt is { } next ? Ids.Time(next) : null, r.ClaimedUntil >= now,
            r.LastRunId is { } last ? runs.GetValueOrDefault(last) : null, Ids.Time(r.CreatedAt), Ids.Time(r.UpdatedAt))).ToList();
    }

    private sealed class SourceRow
    {
        public string Id { get; set; } = "";

        public string Name { get; set; } = "";

        public string Kind { get; set; } = "";

        public string Url { get; set; } = "";

        public string Schedule { get; set; } = "";

        public long Enabled { get; set; }

        public long? NextScanAt { get; set; }

        public string? RequestedBy { get; set; }

        public string? GitHeads { get; set; }

        public long ClaimedUntil { get; set; }

        public string? LastRunId { get; set; }

        public long CreatedAt { get; set; }

        public long UpdatedAt { get; set; }
    }

    private sealed class RunRow
    {
        public string Id { get; set; } = "";

        public string Cause { get; set; } = "";

        public string Actor { get; set; } = "";

        public string Status { get; set; } = "";

        public long StartedAt { get; set; }

        public long? FinishedAt { get; set; }

        public long Incremental { get; set; }

        public long Documents { get; set; }

        public long Bytes { get; set; }

        public long Findings { get; set; }

        public long NewLeaks { get; set; }

        public long UpdatedLeaks { get; set; }

        public string? Error { get; set; }

        public ScanRunView ToView() => new(
            Id, Cause, Actor, Status, Ids.Time(StartedAt), FinishedAt is { } finished ? Ids.Time(finished) : null, Incremental != 0, Documents, Bytes,
            (int)Findings, (int)NewLeaks, (int)UpdatedLeaks, Error);
    }
}

/// <summary>A change to sources the cloud refused (answered 409): a duplicate URL, too many sources, a scan already running.</summary>
public sealed class SourceRefusedException : Exception
{
    public SourceRefusedException()
        : this("the change was refused")
    {
    }

    public SourceRefusedException(string message)
        : base(message)
    {
    }

    public SourceRefusedException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
