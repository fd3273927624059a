using System.Net;
using System.Text.Json;
using LeakNode.Cloud.Tests.Support;

namespace LeakNode.Cloud.Tests.Notifications;

/// <summary>The channels API: admin only, every problem of a request named by field, secrets never shown again.</summary>
public sealed class IntegrationsApiTests
{
    private static string[] ErrorFields(JsonElement problem) => [.. problem.GetProperty("errors").EnumerateObject().Select(e => e.Name).Order()];

    [Fact]
    public async Task Analyst_CannotReadOrChangeChannels()
    {
        await using var cloud = await NotificationTestKit.StartAsync();
        var analyst = await cloud.ClientWithRoleAsync("analyst");

        Assert.Equal(HttpStatusCode.Forbidden, (await analyst.GetJsonAsync("/api/v1/integrations")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await analyst.PostJsonAsync("/api/v1/integrations", new { name = "x", kind = "slack" })).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await cloud.Anonymous.GetJsonAsync("/api/v1/integrations")).Status);
    }

    [Fact]
    public async Task Create_Invalid_EveryProblemNamedByField()
    {
        await using var cloud = await NotificationTestKit.StartAsync();

        var (status, problem) = await cloud.Admin.PostJsonAsync("/api/v1/integrations", new
        {
            name = "",
            kind = "email",
            events = new[] { "leak.created", "leak.nope" },
            minRisk = "huge",
            settings = new { host = "", port = 70000, tlsMode = "ssl", from = "nope", recipients = new[] { "x" }, password = "p", webhookUrl = "http://x.test/" },
        });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(
            ["events[1]", "minRisk", "name", "settings.from", "settings.host", "settings.port", "settings.recipients[0]", "settings.tlsMode", "settings.username", "settings.webhookUrl"],
            ErrorFields(problem));

        (status, problem) = await cloud.Admin.PostJsonAsync("/api/v1/integrations", new { name = "t", kind = "telegram", events = new[] { "attempt.rate" }, settings = new { chatId = "abc" } });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(["attemptRate", "settings.botToken", "settings.chatId"], ErrorFields(problem));

        (status, problem) = await cloud.Admin.PostJsonAsync("/api/v1/integrations", new { name = "s", kind = "pager" });
        Assert.Equal(["kind"], ErrorFields(problem));
        (status, problem) = await cloud.Admin.PostRawAsync("/api/v1/integrations", """{"name":"s","kind":"slack","settings":{"webhookUrl":"https://x.test/","colour":"red"}}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(["colour"], ErrorFields(problem));
    }

    [Fact]
    public async Task CreateChangeDelete_SecretsKeptSealedAndNeverReturned()
    {
        await using var receiver = await HttpReceiver.StartAsync();
        await using var cloud = await NotificationTestKit.StartAsync();
        const string Secret = "original-signing-secret-42";
        var url = new Uri(receiver.Url, "hook/path-with-key-9f8e7d");

        var (status, created) = await cloud.Admin.PostJsonAsync("/api/v1/integrations", new
        {
            name = "receiver", kind = "webhook", minRisk = "medium", attemptRate = new { count = 50, windowMinutes = 15 }, settings = new { url = url.ToString(), secret = Secret },
        });
        Assert.Equal(HttpStatusCode.Created, status);
        var id = created.Id();
        Assert.Equal(("receiver", "webhook", true, "medium"), (created.Str("name"), created.Str("kind"), created.GetProperty("enabled").GetBoolean(), created.Str("minRisk")));
        Assert.Equal(
            ["leak.created", "leak.reopened", "leak.status-changed", "leak.risk-changed", "attempt.first", "attempt.rate"],
            created.GetProperty("events").EnumerateArray().Select(e => e.GetString()!));
        Assert.Equal(50, created.GetProperty("attemptRate").GetProperty("count").GetInt32());
        Assert.Equal($"{receiver.Url}…", created.GetProperty("secrets").GetProperty("url").Str("hint"));
        Assert.True(created.GetProperty("secrets").GetProperty("secret").GetProperty("set").GetBoolean());
        Assert.Empty(created.GetProperty("settings").EnumerateObject());

        var (_, changed) = await cloud.Admin.PatchJsonAsync($"/api/v1/integrations/{id}", new { name = "renamed", minRisk = "critical", enabled = false });
        Assert.Equal(("renamed", "critical", false), (changed.Str("name"), changed.Str("minRisk"), changed.GetProperty("enabled").GetBoolean()));
        (status, var refused) = await cloud.Admin.PatchJsonAsync($"/api/v1/integrations/{id}", new { kind = "slack" });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(["kind"], ErrorFields(refused));

        // The secret left out of the PATCH is still the one signing: a test send proves it.
        var (testStatus, test) = await cloud.Admin.PostJsonAsync($"/api/v1/integrations/{id}/test", null);
        Assert.Equal(HttpStatusCode.OK, testStatus);
        Assert.Equal(("test", "sent", 1), (test.Str("event"), test.Str("status"), test.GetProperty("attempts").GetInt32()));
        var request = Assert.Single(receiver.Requests);
        Assert.Equal("/hook/path-with-key-9f8e7d", request.Path);
        Assert.Equal(NotificationTestKit.Signature(request.Body, Secret), request.Headers["X-LeakNode-Signature"]);

        receiver.Respond = (_, _) => 404;
        (_, test) = await cloud.Admin.PostJsonAsync($"/api/v1/integrations/{id}/test", null);
        Assert.Equal(("failed", 404), (test.Str("status"), test.GetProperty("responseStatus").GetInt32()));
        Assert.StartsWith("HTTP 404", test.Str("lastError"), StringComparison.Ordinal);
        Assert.Equal(["failed", "sent"], (await cloud.Admin.DeliveriesAsync(id)).Select(d => d.Str("status")));

        var (_, list) = await cloud.Admin.GetJsonAsync("/api/v1/integrations");
        Assert.Equal(id, Assert.Single(list.EnumerateArray()).Id());
        Assert.Equal(HttpStatusCode.NoContent, (await cloud.Admin.DeleteAsync($"/api/v1/integrations/{id}", CloudApi.Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await cloud.Admin.GetJsonAsync($"/api/v1/integrations/{id}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await cloud.Admin.GetJsonAsync($"/api/v1/integrations/{id}/deliveries")).Status);

        Assert.DoesNotContain(cloud.Responses, r => r.Contains(Secret, StringComparison.Ordinal) || r.Contains("path-with-key", StringComparison.Ordinal));
        Assert.DoesNotContain(cloud.Logs, l => l.Contains(Secret, StringComparison.Ordinal) || l.Contains("path-with-key", StringComparison.Ordinal));
        if (CloudHarness.PostgresServer is null)
        {
            foreach (var file in Directory.GetFiles(Path.GetDirectoryName(cloud.DatabasePath)!, "cloud.db*"))
            {
                using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var reader = new StreamReader(stream);
                Assert.DoesNotContain(Secret, await reader.ReadToEndAsync(CloudApi.Ct), StringComparison.Ordinal);
            }
        }
    }
}
