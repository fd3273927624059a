using System.Data.Common;
using Dapper;
using LeakNode.Cloud.Configuration;
using LeakNode.Cloud.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LeakNode.Cloud.Attacks;

/// <summary>What one maintenance run did.</summary>
/// <param name="Created">PostgreSQL partitions created (names).</param>
/// <param name="Dropped">PostgreSQL partitions dropped (names).</param>
/// <param name="Deleted">Events deleted row by row (SQLite; PostgreSQL's default partition).</param>
internal sealed record AttackMaintenanceResult(IReadOnlyList<string> Created, IReadOnlyList<string> Dropped, long Deleted)
{
    public bool ChangedAnything => Created.Count > 0 || Dropped.Count > 0 || Deleted > 0;

    public override string ToString() =>
        $"created {(Created.Count == 0 ? "no partition" : string.Join(", ", Created))}; dropped {(Dropped.Count == 0 ? "no partition" : string.Join(", ", Dropped))}; deleted {Deleted} events";
}

/// <summary>
/// The upkeep of attack events, every <c>Storage:Attacks:MaintenanceInterval</c>: on PostgreSQL it creates the day
/// partitions of the next <c>PartitionDaysAhead</c> days and drops those past retention; on both it deletes, in small
/// batches, the events past retention that are not in a partition of their own (all of them on SQLite), and their
/// day and hour counts.
/// </summary>
/// <remarks>
/// One replica runs it at a time, and once an interval across all: a run starts by claiming the <c>attacks</c> row of
/// <c>maintenance_jobs</c> with an UPDATE that only succeeds when the run is due and no other replica holds the
/// lease. A replica that dies mid-run leaves the lease to expire (<see cref="Lease"/>); the run is idempotent, so the
/// next one finishes the work. The same row works on SQLite, where one process is the usual case.
/// </remarks>
internal sealed partial class AttackMaintenance(
    CloudDatabase database, AttackStore store, CloudConfiguration configuration, TimeProvider clock, ILogger<AttackMaintenance> logger) : BackgroundService
{
    public const string Job = "attacks";

    /// <summary>How long a claimed run is this replica's before another may take it over: far longer than a run takes.</summary>
    internal static readonly TimeSpan Lease = TimeSpan.FromMinutes(30);

    private readonly AttackStorageOptions _options = configuration.Storage.Attacks;
    private readonly string _owner = Ids.New("mt_");

    // Runs in this process one at a time (the background loop and a caller such as a test).
    private readonly SemaphoreSlim _running = new(1, 1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Look at the claim row often enough that a run is at most a minute late; the row says whether it is due.
        var poll = _options.MaintenanceInterval < TimeSpan.FromMinutes(1) ? _options.MaintenanceInterval : TimeSpan.FromMinutes(1);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await RunIfDueAsync(stoppingToken);
                }
                catch (Exception error) when (error is not OperationCanceledException)
                {
                    // A database away for a moment must not end the loop (it would stop the host): next poll.
                    Log.Failed(logger, error);
                }
                await Task.Delay(poll, clock, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Runs the maintenance when it is due and no replica has it; returns what it did, or null when this replica did not run it.</summary>
    public async Task<AttackMaintenanceResult?> RunIfDueAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var nowMs = now.ToUnixTimeMilliseconds();
        var claimed = await database.WriteAsync(
            (connection, transaction) => connection.ExecuteAsync(
                """
                UPDATE maintenance_jobs SET owner = @owner, lease_until = @leaseUntil, runs = runs + 1
                WHERE name = @job AND due_at <= @nowMs AND lease_until <= @nowMs
                """,
                new { owner = _owner, leaseUntil = nowMs + (long)Lease.TotalMilliseconds, job = Job, nowMs }, transaction),
            cancellationToken);
        if (claimed == 0)
        {
            return null;
        }
        AttackMaintenanceResult? result = null;
        var outcome = "failed";
        try
        {
            result = await RunAsync(now, cancellationToken);
            outcome = result.ToString();
            return result;
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            outcome = "failed: " + error.Message;
            throw;
        }
        finally
        {
            // A failed run is tried again soon, not an interval later; a stopping host gives the run back as it is.
            var retry = result is null ? Min(_options.MaintenanceInterval, TimeSpan.FromMinutes(5)) : _options.MaintenanceInterval;
            await database.WriteAsync(
                (connection, transaction) => connection.ExecuteAsync(
                    """
                    UPDATE maintenance_jobs SET owner = NULL, lease_until = 0, due_at = @dueAt, last_run_at = @nowMs, last_result = @outcome
                    WHERE name = @job AND owner = @owner
                    """,
                    new { dueAt = nowMs + (long)retry.TotalMilliseconds, nowMs, outcome = outcome.Length > 2000 ? outcome[..2000] : outcome, job = Job, owner = _owner },
                    transaction),
                CancellationToken.None);
        }
    }

    /// <summary>One run at <paramref name="now"/>, whether due or not (the claim is <see cref="RunIfDueAsync"/>'s).</summary>
    public async Task<AttackMaintenanceResult> RunAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await _running.WaitAsync(cancellationToken);
        try
        {
            var today = AttackPartitions.DayOf(now.ToUnixTimeMilliseconds());
            // Whole days: an event is kept for RetentionDays days before today, and today.
            long? cutoff = _options.RetentionDays > 0 ? (today - _options.RetentionDays) * AttackPartitions.DayMs : null;
            var created = new List<string>();
            var dropped = new List<string>();
            if (database.Provider == StorageProvider.Postgres)
            {
                var days = await database.ReadAsync(AttackPartitions.DaysAsync, cancellationToken);
                for (var day = today; day <= today + _options.PartitionDaysAhead; day++)
                {
                    if (!days.Contains(day))
                    {
                        await database.WriteAsync(async (connection, transaction) => { await AttackPartitions.CreateAsync(connection, transaction, day); return 0; }, cancellationToken);
                        created.Add(AttackPartitions.Name(day));
                    }
                }
                foreach (var day in days.Where(d => cutoff is { } c && (d + 1) * AttackPartitions.DayMs <= c))
                {
                    await database.WriteAsync(async (connection, transaction) => { await AttackPartitions.DropAsync(connection, transaction, day); return 0; }, cancellationToken);
                    dropped.Add(AttackPartitions.Name(day));
                }
            }
            long deleted = 0;
            if (cutoff is { } before)
            {
                int batch;
                do
                {
                    batch = await store.DeleteOlderAsync(before, _options.DeleteBatchSize, cancellationToken);
                    deleted += batch;
                }
                while (batch == _options.DeleteBatchSize);
                // After the events: a count never misses an event that is still there.
                await database.WriteAsync((connection, transaction) => AttackCounts.DeleteBeforeAsync(connection, transaction, before), cancellationToken);
            }
            var result = new AttackMaintenanceResult(created, dropped, deleted);
            if (result.ChangedAnything)
            {
                Log.Ran(logger, result.ToString(), _options.RetentionDays);
            }
            return result;
        }
        catch (DbException error)
        {
            throw new InvalidOperationException($"attack maintenance on {database.Location}: {error.Message}", error);
        }
        finally
        {
            _running.Release();
        }
    }

    public override void Dispose()
    {
        _running.Dispose();
        base.Dispose();
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static partial class Log
    {
        [LoggerMessage(Diagnostics.EventIds.AttackMaintenance, LogLevel.Information, "Attack maintenance: {Result} (retention {RetentionDays} days, 0 = forever)")]
        public static partial void Ran(ILogger logger, string result, int retentionDays);

        [LoggerMessage(Diagnostics.EventIds.AttackMaintenanceFailed, LogLevel.Warning, "Attack maintenance failed; it runs again within minutes")]
        public static partial void Failed(ILogger logger, Exception error);
    }
}
