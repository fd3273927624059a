using System.Text.Json;
using Dapper;
using LeakNode.Cloud.Api;
using LeakNode.Cloud.Storage;

namespace LeakNode.Cloud.Notifications;

/// <summary>A delivery a worker claimed: its channel, its event, and how many tries it had before this one.</summary>
internal sealed record ClaimedDelivery(string Id, string IntegrationId, int Attempts, NotificationEvent Event);

/// <summary>
/// The delivery log and queue (<c>notification_deliveries</c>). A worker claims due rows with one conditional UPDATE
/// (<c>… WHERE status = 'pending' AND claimed_until &lt; now</c>): on PostgreSQL a second replica's UPDATE re-checks
/// that condition on the row the first one changed and skips it, on SQLite writers are serial, so no row is sent
/// by two workers at once. A claim is a lease: a worker that dies leaves its rows to be claimed again once it ends.
/// </summary>
internal sealed class DeliveryStore(CloudDatabase database, TimeProvider clock)
{
    private const string ViewColumns = "id, event_kind, leak_id, status, attempts, created_at, next_attempt_at, finished_at, response_status, last_error";

    public async Task<IReadOnlyList<ClaimedDelivery>> ClaimAsync(string claimId, int batchSize, TimeSpan lease, CancellationToken cancellationToken)
    {
        var now = Ids.Now(clock);
        var until = now + (long)lease.TotalMilliseconds;
        var rows = await database.WriteAsync(async (connection, transaction) =>
        {
            var claimed = await connection.ExecuteAsync(
                """
                UPDATE notification_deliveries SET claimed_until = @until, claim_id = @claimId
                WHERE id IN (SELECT id FROM notification_deliveries WHERE status = @pending AND next_attempt_at <= @now AND claimed_until < @now
                             ORDER BY next_attempt_at, id LIMIT @batchSize)
                  AND status = @pending AND claimed_until < @now
                """, new { until, claimId, pending = DeliveryStatuses.Pending, now, batchSize }, transaction);
            return claimed == 0
                ? []
                : (await connection.QueryAsync<(string Id, string IntegrationId, long Attempts, string Payload)>(
                    "SELECT id, integration_id, attempts, payload FROM notification_deliveries WHERE claim_id = @claimId AND claimed_until = @until",
                    new { claimId, until }, transaction)).ToList();
        }, cancellationToken);
        return rows.Select(r => new ClaimedDelivery(r.Id, r.IntegrationId, (int)r.Attempts, JsonSerializer.Deserialize<NotificationEvent>(r.Payload, JsonBody.Options)!)).ToList();
    }

    /// <summary>Records one try: sent, failed for good, or due again at <paramref name="retryAt"/>. Only the claim's owner can.</summary>
    public Task<int> CompleteAsync(string id, string claimId, string status, DateTimeOffset? retryAt, int? responseStatus, string? error, CancellationToken cancellationToken)
    {
        var now = Ids.Now(clock);
        return database.WriteAsync(
            (connection, transaction) => connection.ExecuteAsync(
                """
                UPDATE notification_deliveries SET status = @status, attempts = attempts + 1, next_attempt_at = @next, claimed_until = 0, claim_id = NULL,
                    last_error = @error, response_status = @responseStatus, finished_at = @finished
                WHERE id = @id AND claim_id = @claimId
                """,
                new
                {
                    status, next = retryAt?.ToUnixTimeMilliseconds() ?? now, error, responseStatus, finished = status == DeliveryStatuses.Pending ? (long?)null : now,
                    id, claimId,
                }, transaction),
            cancellationToken);
    }

    /// <summary>Gives back what a stopping worker had claimed but not sent, so that the next start sends it at once.</summary>
    public Task<int> ReleaseAsync(string claimId, CancellationToken cancellationToken) =>
        database.WriteAsync(
            (connection, transaction) => connection.ExecuteAsync(
                "UPDATE notification_deliveries SET claimed_until = 0, claim_id = NULL WHERE claim_id = @claimId AND status = @pending",
                new { claimId, pending = DeliveryStatuses.Pending }, transaction),
            cancellationToken);

    /// <summary>Records a delivery that was tried already (a "Send test"), so that it shows in the log.</summary>
    public Task RecordAsync(string id, string integrationId, NotificationEvent notice, SendOutcomeRecord outcome, CancellationToken cancellationToken)
    {
        var now = Ids.Now(clock);
        return database.WriteAsync(
            (connection, transaction) => connection.ExecuteAsync(
                """
                INSERT INTO notification_deliveries (id, integration_id, event_kind, leak_id, payload, status, attempts, next_attempt_at, claimed_until,
                    last_error, response_status, created_at, finished_at)
                VALUES (@id, @integrationId, @kind, NULL, @payload, @status, 1, @now, 0, @error, @responseStatus, @now, @now)
                """,
                new
                {
                    id, integrationId, kind = notice.Kind, payload = JsonSerializer.Serialize(notice, JsonBody.Options), status = outcome.Status, now,
                    error = outcome.Error, responseStatus = outcome.ResponseStatus,
                }, transaction),
            cancellationToken);
    }

    public Task<DeliveryView?> GetAsync(string id, CancellationToken cancellationToken) =>
        database.ReadAsync(async (connection, transaction) =>
            (await connection.QuerySingleOrDefaultAsync<Row>($"SELECT {ViewColumns} FROM notification_deliveries WHERE id = @id", new { id }, transaction))?.View(),
            cancellationToken);

    /// <summary>A channel's deliveries, newest first; the cursor is the last one's (created_at, id).</summary>
    public Task<(IReadOnlyList<DeliveryView> Items, (long CreatedAt, string Id)? Next)> ListAsync(
        string integrationId, (long CreatedAt, string Id)? after, int limit, CancellationToken cancellationToken) =>
        database.ReadAsync<(IReadOnlyList<DeliveryView>, (long, string)?)>(async (connection, transaction) =>
        {
            var rows = (await connection.QueryAsync<Row>(
                $"""
                SELECT {ViewColumns} FROM notification_deliveries WHERE integration_id = @integrationId
                  {(after is null ? "" : "AND (created_at < @afterAt OR (created_at = @afterAt AND id < @afterId))")}
                ORDER BY created_at DESC, id DESC LIMIT @limit
                """,
                new { integrationId, afterAt = after?.CreatedAt ?? 0, afterId = after?.Id ?? "", limit = limit + 1 }, transaction)).ToList();
            (long, string)? next = null;
            if (rows.Count > limit)
            {
                rows.RemoveAt(limit);
                next = (rows[^1].CreatedAt, rows[^1].Id);
            }
            return (rows.Select(r => r.View()).ToList(), next);
        }, cancellationToken);

    /// <summary>Deletes sent and failed deliveries older than <paramref name="retention"/>.</summary>
    public Task<int> PruneAsync(TimeSpan retention, CancellationToken cancellationToken)
    {
        var now = Ids.Now(clock);
        return database.WriteAsync(async (connection, transaction) =>
            await connection.ExecuteAsync(
                "DELETE FROM notification_deliveries WHERE status <> @pending AND finished_at < @before",
                new { pending = DeliveryStatuses.Pending, before = now - (long)retention.TotalMilliseconds }, transaction)
            + await AttemptWatch.PruneAsync(connection, transaction, now),
            cancellationToken);
    }

    private sealed class Row
    {
        public string Id { get; set; } = "";

        public string EventKind { get; set; } = "";

        public string? LeakId { get; set; }

        public string Status { get; set; } = "";

        public long Attempts { get; set; }

        public long CreatedAt { get; set; }

        public long NextAttemptAt { get; set; }

        public long? FinishedAt { get; set; }

        public long? ResponseStatus { get; set; }

        public string? LastError { get; set; }

        public DeliveryView View() => new(
            Id, EventKind, LeakId, Status, (int)Attempts, Ids.Time(CreatedAt), Status == DeliveryStatuses.Pending ? Ids.Time(NextAttemptAt) : null,
            FinishedAt is { } finished ? Ids.Time(finished) : null, (int?)ResponseStatus, LastError);
    }
}

/// <summary>How a try that is recorded at once ended.</summary>
internal sealed record SendOutcomeRecord(string Status, int? ResponseStatus, string? Error);
