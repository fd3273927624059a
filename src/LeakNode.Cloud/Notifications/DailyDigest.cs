using System.Globalization;
using Dapper;
using LeakNode.Cloud.Leaks;
using LeakNode.Cloud.Storage;

namespace LeakNode.Cloud.Notifications;

/// <summary>When the daily digest is due: once a day, at <c>Notifications:Digest:Time</c> in its time zone.</summary>
internal static class DigestSchedule
{
    public static TimeOnly? ParseTime(string? text) =>
        TimeOnly.TryParseExact(text, ["HH:mm", "H:mm"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var time) ? time : null;

    public static TimeZoneInfo? FindZone(string? id)
    {
        if (string.IsNullOrWhiteSpace(id))
        {
            return null;
        }
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(id);
        }
        catch (Exception error) when (error is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            return null;
        }
    }

    /// <summary>The day (days since 0001-01-01 in the zone) whose digest is due at <paramref name="now"/>, or null before today's time.</summary>
    public static int? DueDay(DateTimeOffset now, TimeOnly at, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTime(now, zone);
        return TimeOnly.FromDateTime(local.DateTime) >= at ? DateOnly.FromDateTime(local.DateTime).DayNumber : null;
    }
}

/// <summary>
/// Builds and stores the daily digest. Which replica sends it is decided in the database: the one whose UPDATE moves
/// <c>notification_schedule.last_day</c> forward stores the digest in the same transaction; the others change nothing.
/// </summary>
internal sealed class DailyDigest(CloudDatabase database, NotificationOutbox outbox, ConsoleLinks links, NotificationOptions options, TimeProvider clock)
{
    private readonly TimeOnly _at = DigestSchedule.ParseTime(options.Digest.Time) ?? new TimeOnly(8, 0);
    private readonly TimeZoneInfo _zone = DigestSchedule.FindZone(options.Digest.TimeZone) ?? TimeZoneInfo.Utc;
    private int _doneDay;

    /// <summary>Stores today's digest for its subscribers when it is due and no replica did yet. True when this call stored one.</summary>
    public async Task<bool> RunIfDueAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (DigestSchedule.DueDay(now, _at, _zone) is not { } day || day <= _doneDay)
        {
            return false;
        }
        var stored = await database.WriteAsync(async (connection, transaction) =>
        {
            var claimed = await connection.ExecuteAsync(
                "UPDATE notification_schedule SET last_day = @day WHERE name = 'daily-digest' AND last_day < @day", new { day }, transaction);
            if (claimed == 0)
            {
                return 0;
            }
            var channels = (await IntegrationStore.EnabledAsync(connection, transaction)).Where(c => c.Events.Contains(NotificationKinds.DailyDigest)).ToList();
            if (channels.Count == 0)
            {
                return 0;
            }
            var digest = await BuildAsync(connection, transaction, DateOnly.FromDayNumber(day), Ids.Now(clock));
            var notice = new NotificationEvent(Ids.New("ev_"), NotificationKinds.DailyDigest, now, null, null, null, null, null, digest);
            return await outbox.EnqueueAsync(connection, transaction, notice, channels.Select(c => c.Id));
        }, cancellationToken);
        _doneDay = day;
        return stored > 0;
    }

    private async Task<DigestSummary> BuildAsync(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction transaction, DateOnly day, long nowMs)
    {
        var byRisk = RiskLevels.All.ToDictionary(l => l, _ => 0L);
        var byStatus = LeakStatuses.All.ToDictionary(s => s, _ => 0L);
        foreach (var (risk, status, count) in await connection.QueryAsync<(long Risk, string Status, long Count)>(
            "SELECT risk, status, COUNT(*) FROM leaks GROUP BY risk, status", transaction: transaction))
        {
            if (status == LeakStatuses.Open)
            {
                byRisk[RiskLevels.Of((int)risk)] += count;
            }
            byStatus[status] = byStatus.GetValueOrDefault(status) + count;
        }
        var attention = new { open = LeakStatuses.Open, none = Remediations.None, top = options.Digest.TopLeaks };
        var needTotal = await connection.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM leaks WHERE status = @open AND remediation = @none", attention, transaction);
        var need = await connection.QueryAsync<(string Id, string Name, long Risk, string Status, string Remediation)>(
            "SELECT id, name, risk, status, remediation FROM leaks WHERE status = @open AND remediation = @none ORDER BY risk DESC, created_at DESC, id LIMIT @top",
            attention, transaction);
        var top = await connection.QueryAsync<(string Id, string Name, long Risk, string Status, string Remediation, long Attempts)>(
            """
            SELECT l.id, l.name, l.risk, l.status, l.remediation, CAST(SUM(m.attempts) AS BIGINT) AS total
            FROM attempt_minutes m JOIN leaks l ON l.id = m.leak_id
            WHERE m.minute >= @since
            GROUP BY l.id, l.name, l.risk, l.status, l.remediation
            ORDER BY total DESC, l.id LIMIT @top
            """, new { since = nowMs / 60_000 - 1440, attention.top }, transaction);
        return new DigestSummary(
            day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            byRisk,
            byStatus,
            needTotal,
            need.Select(l => new DigestLeak(l.Id, l.Name, RiskView.Of((int)l.Risk), l.Status, l.Remediation, 0, links.Leak(l.Id))).ToList(),
            top.Select(l => new DigestLeak(l.Id, l.Name, RiskView.Of((int)l.Risk), l.Status, l.Remediation, l.Attempts, links.Leak(l.Id))).ToList());
    }
}
