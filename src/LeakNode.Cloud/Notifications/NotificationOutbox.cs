using System.Data.Common;
using System.Text.Json;
using Dapper;
using LeakNode.Cloud.Api;
using LeakNode.Cloud.Configuration;
using LeakNode.Cloud.Hosting;
using LeakNode.Cloud.Leaks;
using LeakNode.Cloud.Storage;

namespace LeakNode.Cloud.Notifications;

/// <summary>
/// Writes notifications into <c>notification_deliveries</c>, one row per channel that wants the event, inside the
/// transaction of the change that caused it: a change that rolls back notifies nobody, and one that commits has its
/// notifications stored with it, to be sent by the <see cref="DeliveryWorker"/> even after a restart.
/// </summary>
internal sealed class NotificationOutbox(ConsoleLinks links, TimeProvider clock)
{
    private const int MaxPreviews = 5;

    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Tells channels about a change of a leak (read as it is now, in <paramref name="transaction"/>). Call
    /// <see cref="Wake"/> after the commit.
    /// </summary>
    public async Task LeakChangedAsync(
        DbConnection connection, DbTransaction transaction, string kind, string leakId, string? actor, string? comment, string? change)
    {
        var channels = (await IntegrationStore.EnabledAsync(connection, transaction)).Where(c => c.Events.Contains(kind)).ToList();
        if (channels.Count == 0)
        {
            return;
        }
        var leak = await ReadLeakAsync(connection, transaction, leakId);
        if (leak is null)
        {
            return;
        }
        var notice = new NotificationEvent(Ids.New("ev_"), kind, clock.GetUtcNow(), leak, actor, comment, change, null, null);
        await EnqueueAsync(connection, transaction, notice, channels.Where(c => c.Wants(kind, leak.Risk.Score)).Select(c => c.Id));
    }

    /// <summary>Stores <paramref name="notice"/> for each of <paramref name="channelIds"/>, due now.</summary>
    public async Task<int> EnqueueAsync(DbConnection connection, DbTransaction transaction, NotificationEvent notice, IEnumerable<string> channelIds)
    {
        ArgumentNullException.ThrowIfNull(notice);
        var now = Ids.Now(clock);
        var payload = JsonSerializer.Serialize(notice, JsonBody.Options);
        var rows = channelIds.Select(id => new
        {
            id = Ids.New("dl_"), integrationId = id, kind = notice.Kind, leakId = notice.Leak?.Id, payload, status = DeliveryStatuses.Pending, now,
        }).ToList();
        if (rows.Count == 0)
        {
            return 0;
        }
        await connection.ExecuteAsync(
            """
            INSERT INTO notification_deliveries (id, integration_id, event_kind, leak_id, payload, status, attempts, next_attempt_at, claimed_until, created_at)
            VALUES (@id, @integrationId, @kind, @leakId, @payload, @status, 0, @now, 0, @now)
            """, rows, transaction);
        return rows.Count;
    }

    /// <summary>A leak as notifications show it: masked previews only, and its link in the console. Null when there is no such leak.</summary>
    public async Task<LeakSummary?> ReadLeakAsync(DbConnection connection, DbTransaction transaction, string leakId)
    {
        var row = await connection.QuerySingleOrDefaultAsync<(string Id, string Name, long Risk, string Status, string Remediation, long TokenCount)>(
            "SELECT id, name, risk, status, remediation, token_count FROM leaks WHERE id = @leakId", new { leakId }, transaction);
        if (row.Id is null)
        {
            return null;
        }
        var source = await connection.QueryFirstOrDefaultAsync<(string Kind, string? Url)>(
            "SELECT kind, url FROM leak_sources WHERE leak_id = @leakId ORDER BY first_seen, id LIMIT 1", new { leakId }, transaction);
        var previews = await connection.QueryAsync<string>(
            "SELECT preview FROM leak_tokens WHERE leak_id = @leakId ORDER BY ordinal LIMIT @max", new { leakId, max = MaxPreviews }, transaction);
        return new LeakSummary(
            row.Id, row.Name, RiskView.Of((int)row.Risk), row.Status, row.Remediation, (int)row.TokenCount, source.Kind, source.Url, previews.ToList(),
            links.Leak(row.Id));
    }

    /// <summary>Wakes the delivery worker: notifications were committed.</summary>
    public void Wake() => Interlocked.Exchange(ref _wake, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>Completes at the next <see cref="Wake"/>.</summary>
    public Task Woken => Volatile.Read(ref _wake).Task;
}

/// <summary>Links into the console: <c>Listen:PublicUrl</c>, else the REST listener's own address.</summary>
internal sealed class ConsoleLinks(CloudConfiguration configuration, ListenerPorts ports)
{
    public string Base => (string.IsNullOrEmpty(configuration.Listen.PublicUrl) ? ports.Url(ListenerPorts.Http).ToString() : configuration.Listen.PublicUrl).TrimEnd('/');

    public string Leak(string leakId) => $"{Base}/leaks/{Uri.EscapeDataString(leakId)}";
}
