using Bunit;
using LeakNode.Cloud.Notifications;
using LeakNode.Cloud.WebConsole.Components;

namespace LeakNode.Cloud.Tests.WebConsole;

public sealed class NotificationChannelsTests
{
    [Fact]
    public async Task Channels_AdminAddsAWebhook_ErrorsBesideTheFieldThenListedWithItsDeliveryLog()
    {
        await using var console = await ConsoleContext.StartAsync(Roles.Admin);
        var page = console.Render<NotificationChannels>(p => p.Add(c => c.IsAdmin, true).Add(c => c.Actor, "admin@test.example"));
        // Shown once the channels are loaded: after that, no render replaces the buttons under the clicks below.
        page.WaitForAssertion(() => Assert.Contains("No notification channel yet", page.Markup, StringComparison.Ordinal));

        page.Find("[data-testid=add-channel]").Click();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=channel-form]")));
        page.Find("input[data-testid=channel-name]").Change("security team");
        page.Find("input[data-testid=channel-url]").Change("not a url");
        page.Find("[data-testid=save-channel]").Click();

        // The service's validation, shown under the field it names; nothing stored.
        page.WaitForAssertion(() => Assert.Contains("channel-url", page.Find(".mud-input-error").ParentElement!.ParentElement!.OuterHtml, StringComparison.Ordinal));
        Assert.Empty(await console.Cloud.Service<IntegrationService>().ListAsync(CancellationToken.None));

        page.Find("input[data-testid=channel-url]").Change("http://127.0.0.1:9/hook");
        page.Find("input[data-testid=channel-secret]").Change("a-signing-secret-of-32-characters");
        page.Find("[data-testid=save-channel]").Click();

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-channel]")));
        var stored = Assert.Single(await console.Cloud.Service<IntegrationService>().ListAsync(CancellationToken.None));
        Assert.Equal("webhook", stored.Kind);
        Assert.Equal("high", stored.MinRisk);
        Assert.DoesNotContain("a-signing-secret-of-32-characters", page.Markup, StringComparison.Ordinal);

        page.Find("[data-testid=channel-deliveries]").Click();
        page.WaitForAssertion(() => Assert.Contains("Nothing sent yet", page.Find("[data-testid=delivery-log]").TextContent, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Channels_Analyst_SeesChannelsButCannotChangeThem()
    {
        await using var console = await ConsoleContext.StartAsync(Roles.Analyst);
        await console.Cloud.Service<IntegrationService>().CreateAsync(
            new IntegrationRequest("ops", "slack", true, null, "medium", null, new IntegrationSettings { WebhookUrl = "https://hooks.slack.example/services/T0/B0/x" }),
            "test", CancellationToken.None);

        var page = console.Render<NotificationChannels>(p => p.Add(c => c.IsAdmin, false).Add(c => c.Actor, "analyst@test.example"));

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-channel]")));
        Assert.Empty(page.FindAll("[data-testid=add-channel]"));
        Assert.Empty(page.FindAll("[data-testid=channel-test]"));
        Assert.Empty(page.FindAll("[data-testid=channel-delete]"));
        Assert.NotEmpty(page.FindAll("[data-testid=channel-deliveries]"));
        Assert.DoesNotContain("hooks.slack.example/services", page.Markup, StringComparison.Ordinal);
    }
}
