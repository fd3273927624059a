using System.Text.Json;
using Dapper;
using LeakNode.Cloud.Notifications;
using LeakNode.Cloud.Storage;
using LeakNode.Cloud.Sync;
using LeakNode.Cloud.Tests.Support;

namespace LeakNode.Cloud.Tests.Notifications;

/// <summary>What triggers a notification, and to whom: event kinds, minimum risk, attempts, and the daily digest.</summary>
public sealed class TriggerTests
{
    private static IncomingAttack Attempt(string leakId, string preview) =>
        new(Guid.CreateVersion7().ToString(), "vpatch", DateTimeOffset.UtcNow, leakId, "tk_x", "0123456789abcdef", preview, "monitored", 1, "203.0.113.9", "GET",
            "api.example.test", "/v1/items", "header:Authorization", 200);

    private static string Kind(ReceivedRequest request) => JsonDocument.Parse(request.Body).RootElement.GetProperty("event").Str("kind");

    private static string LeakName(ReceivedRequest request) => JsonDocument.Parse(request.Body).RootElement.GetProperty("event").GetProperty("leak").Str("name");

    [Fact]
    public async Task Filters_ByKindAndMinimumRisk_OnlyWantedEventsArrive()
    {
        await using var receiver = await HttpReceiver.StartAsync();
        await using var cloud = await NotificationTestKit.StartAsync();
        var tokens = new Tokens(711);
        await cloud.Admin.CreateChannelAsync(NotificationTestKit.Webhook("high only", new Uri(receiver.Url, "high"), "high-only-secret-0123", ["leak.created"], "high"));
        await cloud.Admin.CreateChannelAsync(NotificationTestKit.Webhook(
            "changes", new Uri(receiver.Url, "changes"), "changes-secret-012345", ["leak.status-changed", "leak.reopened", "leak.risk-changed"]));

        var low = await cloud.Admin.CreateLeakAsync("low leak", tokens.Next(1), risk: 2);
        await cloud.Admin.CreateLeakAsync("high leak", tokens.Next(1), risk: 8);
        await cloud.Admin.PostJsonAsync($"/api/v1/leaks/{low.Id()}/close", new { comment = "rotated" });
        await cloud.Admin.PostJsonAsync($"/api/v1/leaks/{low.Id()}/reopen", null);
        await cloud.Admin.PatchJsonAsync($"/api/v1/leaks/{low.Id()}", new { risk = 5 });

        await receiver.WaitForAsync(4);
        await Task.Delay(300, CloudApi.Ct);
        var high = receiver.Requests.Where(r => r.Path == "/high").ToList();
        Assert.Equal(["high leak"], high.Select(LeakName));
        var changes = receiver.Requests.Where(r => r.Path == "/changes").ToList();
        Assert.Equal(["leak.reopened", "leak.risk-changed", "leak.status-changed"], changes.Select(Kind).Order());
        Assert.All(changes, r => Assert.Equal("low leak", LeakName(r)));
        var closed = JsonDocument.Parse(changes.Single(r => Kind(r) == "leak.status-changed").Body).RootElement.GetProperty("event");
        Assert.Equal(("open → closed", "rotated", "closed"), (closed.Str("change"), closed.Str("comment"), closed.GetProperty("leak").Str("status")));
        Assert.Equal(4, receiver.Requests.Count);
    }

    [Fact]
    public async Task Attempts_FirstAndAboveRate_NotifiedOncePerLeakAndWindow()
    {
        await using var receiver = await HttpReceiver.StartAsync();
        await using var cloud = await NotificationTestKit.StartAsync();
        var tokens = new Tokens(712);
        await cloud.Admin.CreateChannelAsync(NotificationTestKit.Webhook(
            "attempts", new Uri(receiver.Url, "attempts"), "attempts-secret-01234", ["attempt.first", "attempt.rate"], attemptRate: new { count = 5, windowMinutes = 10 }));
        var leak = await cloud.Admin.CreateLeakAsync("watched", tokens.Next(1), risk: 6);
        var preview = leak.GetProperty("tokens")[0].Str("preview");
        var store = cloud.Service<IAttackStore>();

        await store.InsertBatchAsync("node-1", [Attempt(leak.Id(), preview), Attempt(leak.Id(), preview)], CloudApi.Ct);
        await store.InsertBatchAsync("node-1", [Attempt(leak.Id(), preview)], CloudApi.Ct);
        var first = Assert.Single(await receiver.WaitForAsync(1));
        var notice = JsonDocument.Parse(first.Body).RootElement.GetProperty("event");
        Assert.Equal("attempt.first", notice.Str("kind"));
        Assert.Equal(2, notice.GetProperty("attempts").GetProperty("count").GetInt64());

        // 3 so far; 3 more reach the rate of 5 in 10 minutes once; more in the same window do not alert again.
        await store.InsertBatchAsync("node-1", [Attempt(leak.Id(), preview), Attempt(leak.Id(), preview), Attempt(leak.Id(), preview)], CloudApi.Ct);
        await store.InsertBatchAsync("node-1", [Attempt(leak.Id(), preview), Attempt(leak.Id(), preview)], CloudApi.Ct);
        await store.InsertBatchAsync("unknown-leak-node", [Attempt("lk_unknown", "x…y")], CloudApi.Ct);
        var requests = await receiver.WaitForAsync(2);
        await Task.Delay(300, CloudApi.Ct);
        Assert.Equal(2, receiver.Requests.Count);
        var rate = JsonDocument.Parse(requests.Single(r => Kind(r) == "attempt.rate").Body).RootElement.GetProperty("event");
        Assert.Equal((6, 10), (rate.GetProperty("attempts").GetProperty("count").GetInt64(), rate.GetProperty("attempts").GetProperty("windowMinutes").GetInt32()));
        NotificationTestKit.AssertNoToken(tokens, receiver.Requests.Select(r => r.Text));
    }

    [Fact]
    public async Task DailyDigest_WhenDue_MailsCountsAttentionAndTopAttempted()
    {
        await using var smtp = SmtpSink.Start();
        var settings = NotificationTestKit.Fast();
        settings["Notifications:Digest:Time"] = "00:00";
        await using var cloud = await CloudHarness.StartAsync(settings);
        var tokens = new Tokens(713);
        var channel = await cloud.Admin.CreateChannelAsync(new
        {
            name = "digest",
            kind = "email",
            events = new[] { "daily-digest" },
            settings = new { host = "127.0.0.1", port = smtp.Port, tlsMode = "none", from = "leaknode@example.test", recipients = new[] { "sec@example.test" } },
        });
        var hot = await cloud.Admin.CreateLeakAsync("hot leak", tokens.Next(1), risk: 9);
        var patched = await cloud.Admin.CreateLeakAsync("patched leak", tokens.Next(1), risk: 4);
        await cloud.Admin.PostJsonAsync($"/api/v1/leaks/{patched.Id()}/vpatch", null);
        var closed = await cloud.Admin.CreateLeakAsync("closed leak", tokens.Next(1), risk: 2);
        await cloud.Admin.PostJsonAsync($"/api/v1/leaks/{closed.Id()}/close", null);
        await cloud.Service<IAttackStore>().InsertBatchAsync("node-1", [.. Enumerable.Range(0, 4).Select(_ => Attempt(patched.Id(), "p…q"))], CloudApi.Ct);

        // The worker ran today's digest at start, before the channel existed; make today due again, as tomorrow would be.
        await cloud.Service<CloudDatabase>().WriteAsync(
            (connection, transaction) => connection.ExecuteAsync("UPDATE notification_schedule SET last_day = 0", transaction: transaction), CloudApi.Ct);
        var digest = new DailyDigest(
            cloud.Service<CloudDatabase>(), cloud.Service<NotificationOutbox>(), cloud.Service<ConsoleLinks>(), cloud.Service<NotificationOptions>(), TimeProvider.System);
        Assert.True(await digest.RunIfDueAsync(CloudApi.Ct));
        Assert.False(await digest.RunIfDueAsync(CloudApi.Ct));
        cloud.Service<NotificationOutbox>().Wake();

        var mail = Assert.Single(await smtp.WaitForAsync(1));
        Assert.StartsWith("[LeakNode] LeakNode daily digest, ", mail.Subject, StringComparison.Ordinal);
        var text = mail.TextBody;
        Assert.Contains("Open: 2", text, StringComparison.Ordinal);
        Assert.Contains("Closed: 1", text, StringComparison.Ordinal);
        Assert.Contains("By risk: low 0, medium 1, high 0, critical 1", text, StringComparison.Ordinal);
        Assert.Contains("Need attention: 1", text, StringComparison.Ordinal);
        Assert.Contains($"• hot leak (critical 9) {NotificationTestKit.PublicUrl}/leaks/{hot.Id()}", text, StringComparison.Ordinal);
        Assert.Contains("• patched leak: 4 attempts (medium, open)", text, StringComparison.Ordinal);
        // The mail can arrive before the worker has recorded it as sent.
        var delivery = await cloud.Admin.WaitForDeliveryAsync(channel, d => d.Str("status") == "sent", "the digest to be recorded as sent");
        Assert.Equal("daily-digest", delivery.Str("event"));
        Assert.Single(await cloud.Admin.DeliveriesAsync(channel));
        NotificationTestKit.AssertNoToken(tokens, smtp.Mails.Select(m => System.Text.Encoding.UTF8.GetString(m.Raw)));
    }

    [Theory]
    [InlineData("2026-03-01T07:59:00Z", "08:00", "UTC", null)]
    [InlineData("2026-03-01T08:00:00Z", "08:00", "UTC", "2026-03-01")]
    [InlineData("2026-03-01T23:30:00Z", "00:15", "Europe/Berlin", "2026-03-02")]
    [InlineData("2026-03-01T22:30:00Z", "08:00", "Europe/Berlin", "2026-03-01")]
    public void DueDay_TimeOfDayInItsZone_IsTheLocalDay(string now, string at, string zone, string? expected)
    {
        var day = DigestSchedule.DueDay(DateTimeOffset.Parse(now, System.Globalization.CultureInfo.InvariantCulture), DigestSchedule.ParseTime(at)!.Value, DigestSchedule.FindZone(zone)!);
        Assert.Equal(expected, day is { } d ? DateOnly.FromDayNumber(d).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) : null);
    }
}
