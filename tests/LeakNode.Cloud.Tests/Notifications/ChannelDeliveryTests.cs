using System.Text;
using System.Text.Json;
using LeakNode.Cloud.Tests.Support;

namespace LeakNode.Cloud.Tests.Notifications;

/// <summary>Each channel kind end to end: a leak is created, the message arrives at a real receiver in the service's shape.</summary>
public sealed class ChannelDeliveryTests
{
    [Fact]
    public async Task Email_NewLeak_ArrivesOverSmtpWithFactsLinkAndNoToken()
    {
        await using var smtp = SmtpSink.Start("mailer", "smtp-password-1");
        await using var cloud = await NotificationTestKit.StartAsync();
        var tokens = new Tokens(701);
        await cloud.Admin.CreateChannelAsync(new
        {
            name = "security team",
            kind = "email",
            settings = new
            {
                host = "127.0.0.1", port = smtp.Port, tlsMode = "none", username = "mailer", password = "smtp-password-1",
                from = "LeakNode <leaknode@example.test>", recipients = new[] { "sec@example.test", "ops@example.test" },
            },
        });

        var leak = await cloud.Admin.CreateLeakAsync("payments key in a gist", tokens.Next(3), risk: 9, source: "github");

        var mail = (await smtp.WaitForAsync(1))[0];
        Assert.Equal("[LeakNode] New leak: payments key in a gist", mail.Subject);
        Assert.Equal(["ops@example.test", "sec@example.test"], smtp.Mails.Single().Recipients.Order());
        Assert.Equal("leaknode@example.test", mail.From.Mailboxes.Single().Address);
        var text = mail.TextBody;
        Assert.Contains("Risk: critical (9)", text, StringComparison.Ordinal);
        Assert.Contains("Status: open", text, StringComparison.Ordinal);
        Assert.Contains("Source: github", text, StringComparison.Ordinal);
        Assert.Contains("Tokens: 3 (", text, StringComparison.Ordinal);
        foreach (var token in leak.GetProperty("tokens").EnumerateArray())
        {
            Assert.Contains(token.Str("preview"), text, StringComparison.Ordinal);
        }
        Assert.Contains($"{NotificationTestKit.PublicUrl}/leaks/{leak.Id()}", text, StringComparison.Ordinal);
        Assert.Contains($"href=\"{NotificationTestKit.PublicUrl}/leaks/{leak.Id()}\"", mail.HtmlBody, StringComparison.Ordinal);
        NotificationTestKit.AssertNoToken(tokens, smtp.Mails.Select(m => Encoding.UTF8.GetString(m.Raw)));
    }

    [Fact]
    public async Task ChatAndWebhookChannels_NewLeak_PayloadShapesAndSignature()
    {
        await using var receiver = await HttpReceiver.StartAsync();
        await using var cloud = await NotificationTestKit.StartAsync();
        var tokens = new Tokens(702);
        const string BotToken = "123456789:AAFakeBotTokenForTestsOnly_abcdefghij";
        const string Secret = "webhook-signing-secret-0123456789";
        await cloud.Admin.CreateChannelAsync(new { name = "slack", kind = "slack", settings = new { webhookUrl = $"{receiver.Url}slack/T000/B000/abcdef" } });
        await cloud.Admin.CreateChannelAsync(new { name = "teams", kind = "teams", settings = new { webhookUrl = $"{receiver.Url}teams/workflow?sig=abc" } });
        await cloud.Admin.CreateChannelAsync(new
        {
            name = "telegram", kind = "telegram", settings = new { botToken = BotToken, chatId = "-1001234567890", apiBaseUrl = $"{receiver.Url}tg" },
        });
        await cloud.Admin.CreateChannelAsync(NotificationTestKit.Webhook("hook", new Uri(receiver.Url, "hook"), Secret));

        var leak = await cloud.Admin.CreateLeakAsync("ci token in a docker image", tokens.Next(2), risk: 7, source: "docker");
        var link = $"{NotificationTestKit.PublicUrl}/leaks/{leak.Id()}";
        var requests = await receiver.WaitForAsync(4);

        var slack = JsonDocument.Parse(requests.Single(r => r.Path.StartsWith("/slack/", StringComparison.Ordinal)).Body).RootElement;
        Assert.Equal("New leak: ci token in a docker image", slack.Str("text"));
        var blocks = slack.GetProperty("blocks").EnumerateArray().ToList();
        Assert.Equal("header", blocks[0].Str("type"));
        Assert.Contains(blocks, b => b.Str("type") == "section" && b.GetProperty("fields").EnumerateArray().Any(f => f.Str("text") == "*Risk*\nhigh (7)"));
        Assert.Equal(link, blocks.Single(b => b.Str("type") == "actions").GetProperty("elements")[0].Str("url"));

        var teams = JsonDocument.Parse(requests.Single(r => r.Path.StartsWith("/teams/", StringComparison.Ordinal)).Body).RootElement;
        Assert.Equal("message", teams.Str("type"));
        var attachment = teams.GetProperty("attachments")[0];
        Assert.Equal("application/vnd.microsoft.card.adaptive", attachment.Str("contentType"));
        var card = attachment.GetProperty("content");
        Assert.Equal("AdaptiveCard", card.Str("type"));
        Assert.Contains(card.GetProperty("body").EnumerateArray(), b => b.Str("type") == "FactSet"
            && b.GetProperty("facts").EnumerateArray().Any(f => f.Str("title") == "Source" && f.Str("value") == "docker"));
        Assert.Equal("Action.OpenUrl", card.GetProperty("actions")[0].Str("type"));
        Assert.Equal(link, card.GetProperty("actions")[0].Str("url"));

        var telegramRequest = requests.Single(r => r.Path.StartsWith("/tg/", StringComparison.Ordinal));
        Assert.Equal($"/tg/bot{BotToken}/sendMessage", telegramRequest.Path);
        var telegram = JsonDocument.Parse(telegramRequest.Body).RootElement;
        Assert.Equal("-1001234567890", telegram.Str("chat_id"));
        Assert.Equal("HTML", telegram.Str("parse_mode"));
        Assert.Contains("<b>New leak: ci token in a docker image</b>", telegram.Str("text"), StringComparison.Ordinal);
        Assert.Contains($"<a href=\"{link}\">", telegram.Str("text"), StringComparison.Ordinal);

        var hook = requests.Single(r => r.Path == "/hook");
        Assert.Equal(NotificationTestKit.Signature(hook.Body, Secret), hook.Headers["X-LeakNode-Signature"]);
        Assert.Equal("leak.created", hook.Headers["X-LeakNode-Event"]);
        var body = JsonDocument.Parse(hook.Body).RootElement;
        Assert.Equal(hook.Headers["X-LeakNode-Delivery"], body.Str("delivery"));
        var notice = body.GetProperty("event");
        Assert.Equal("leak.created", notice.Str("kind"));
        var summary = notice.GetProperty("leak");
        Assert.Equal((leak.Id(), 7, "high", "open", 2, link), (summary.Str("id"), summary.GetProperty("risk").GetProperty("score").GetInt32(),
            summary.GetProperty("risk").Str("level"), summary.Str("status"), summary.GetProperty("tokenCount").GetInt32(), summary.Str("link")));
        Assert.Equal(
            leak.GetProperty("tokens").EnumerateArray().Select(t => t.Str("preview")),
            summary.GetProperty("previews").EnumerateArray().Select(p => p.GetString()!));

        NotificationTestKit.AssertNoToken(tokens, requests.Select(r => r.Text));
        NotificationTestKit.AssertNoToken(tokens, cloud.Logs);
        Assert.DoesNotContain(cloud.Logs, l => l.Contains(BotToken, StringComparison.Ordinal) || l.Contains(Secret, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Webhook_FailsTwiceThenSucceeds_RetriedIntoOneDelivery()
    {
        await using var receiver = await HttpReceiver.StartAsync();
        receiver.Respond = (_, index) => index < 2 ? 503 : 200;
        await using var cloud = await NotificationTestKit.StartAsync();
        var channel = await cloud.Admin.CreateChannelAsync(NotificationTestKit.Webhook("flaky", new Uri(receiver.Url, "hook"), "flaky-receiver-secret-01"));

        await cloud.Admin.CreateLeakAsync("retried", new Tokens(703).Next(1));

        var delivery = await cloud.Admin.WaitForDeliveryAsync(channel, d => d.Str("status") == "sent", "the delivery to be sent");
        Assert.Equal(3, delivery.GetProperty("attempts").GetInt32());
        Assert.Equal(200, delivery.GetProperty("responseStatus").GetInt32());
        Assert.Single(await cloud.Admin.DeliveriesAsync(channel));
        var requests = receiver.Requests.ToList();
        Assert.Equal(3, requests.Count);
        Assert.Single(requests.Select(r => r.Headers["X-LeakNode-Delivery"]).Distinct());
        Assert.Single(requests.Select(r => r.Text).Distinct());
    }

    [Fact]
    public async Task Webhook_429WithRetryAfter_NextTryWaitsAsAsked()
    {
        await using var receiver = await HttpReceiver.StartAsync();
        receiver.Respond = (_, index) => index == 0 ? 429 : 200;
        receiver.RetryAfter = index => index == 0 ? "2" : null;
        var settings = NotificationTestKit.Fast();
        settings["Notifications:MaxBackoff"] = "00:00:05";
        await using var cloud = await CloudHarness.StartAsync(settings);
        var channel = await cloud.Admin.CreateChannelAsync(NotificationTestKit.Webhook("rate limited", new Uri(receiver.Url, "hook"), "rate-limited-secret-0001"));

        await cloud.Admin.CreateLeakAsync("asked to wait", new Tokens(706).Next(1));

        var delivery = await cloud.Admin.WaitForDeliveryAsync(channel, d => d.Str("status") == "sent", "the delivery to be sent");
        Assert.Equal(2, delivery.GetProperty("attempts").GetInt32());
        var requests = receiver.Requests.ToList();
        // The backoff alone would have been about 50 ms; the receiver asked for 2 s.
        Assert.True(requests[1].At - requests[0].At >= TimeSpan.FromSeconds(1.9), $"retried after {(requests[1].At - requests[0].At).TotalMilliseconds:F0} ms");
    }

    [Theory]
    [InlineData("120", 120.0)]
    [InlineData("0", null)]
    public void RetryAfter_Seconds(string header, double? seconds) =>
        Assert.Equal(seconds, LeakNode.Cloud.Notifications.Channels.ChannelSender.RetryAfter(
            System.Net.Http.Headers.RetryConditionHeaderValue.Parse(header))?.TotalSeconds);

    [Fact]
    public void RetryAfter_Date_IsTheWaitUntilThen()
    {
        var wait = LeakNode.Cloud.Notifications.Channels.ChannelSender.RetryAfter(new System.Net.Http.Headers.RetryConditionHeaderValue(DateTimeOffset.UtcNow.AddMinutes(3)));
        Assert.InRange(wait!.Value.TotalSeconds, 170, 181);
        Assert.Null(LeakNode.Cloud.Notifications.Channels.ChannelSender.RetryAfter(new System.Net.Http.Headers.RetryConditionHeaderValue(DateTimeOffset.UtcNow.AddMinutes(-3))));
    }

    [Fact]
    public async Task Webhook_ReceiverRefusesFor4xx_GivenUpWithoutRetries()
    {
        await using var receiver = await HttpReceiver.StartAsync();
        receiver.Respond = (_, _) => 410;
        await using var cloud = await NotificationTestKit.StartAsync();
        var channel = await cloud.Admin.CreateChannelAsync(NotificationTestKit.Webhook("gone", new Uri(receiver.Url, "hook"), "gone-receiver-secret-012"));

        await cloud.Admin.CreateLeakAsync("refused", new Tokens(704).Next(1));

        var delivery = await cloud.Admin.WaitForDeliveryAsync(channel, d => d.Str("status") == "failed", "the delivery to fail");
        Assert.Equal(1, delivery.GetProperty("attempts").GetInt32());
        Assert.Equal(410, delivery.GetProperty("responseStatus").GetInt32());
        Assert.StartsWith("HTTP 410", delivery.Str("lastError"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restart_WithPendingDelivery_SentAfterTheRestart()
    {
        var folder = Directory.CreateTempSubdirectory("leaknode-cloud-test-").FullName;
        try
        {
            await using var receiver = await HttpReceiver.StartAsync();
            await receiver.StopAsync();
            string channel;
            string adminKey;
            await using (var first = await CloudHarness.StartAsync(NotificationTestKit.Fast(maxAttempts: 100), folder))
            {
                adminKey = first.AdminKey;
                channel = await first.Admin.CreateChannelAsync(NotificationTestKit.Webhook("later", new Uri(receiver.Url, "hook"), "restart-receiver-secret-1"));
                await first.Admin.CreateLeakAsync("survives a restart", new Tokens(705).Next(1));
                var pending = await first.Admin.WaitForDeliveryAsync(
                    channel, d => d.Str("status") == "pending" && d.GetProperty("attempts").GetInt32() >= 1, "a failed try while the receiver is down");
                Assert.NotNull(pending.Str("lastError"));
            }

            await receiver.StartAgainAsync();
            await using var second = await CloudHarness.StartAsync(NotificationTestKit.Fast(maxAttempts: 100), folder, adminKey: adminKey);
            var sent = await second.Admin.WaitForDeliveryAsync(channel, d => d.Str("status") == "sent", "the delivery to be sent after the restart");
            Assert.Equal("leak.created", sent.Str("event"));
            var request = Assert.Single(await receiver.WaitForAsync(1));
            Assert.Equal("survives a restart", JsonDocument.Parse(request.Body).RootElement.GetProperty("event").GetProperty("leak").Str("name"));
        }
        finally
        {
            CloudHarness.DeleteFolder(folder);
        }
    }
}
