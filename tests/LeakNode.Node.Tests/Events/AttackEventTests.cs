using System.Net;
using LeakNode.Node.Tests.Support;

namespace LeakNode.Node.Tests.Events;

public sealed class AttackEventTests
{
    private const string Token = "ghp_eventTestToken0000000000000000000000";

    [Fact]
    public async Task RepeatedAttempts_WithinTheWindow_OneEventWithHits()
    {
        await using var node = await NodeHarness.StartAsync([("leak", "block", [Token])], new Dictionary<string, string?> { ["Events:AggregationWindow"] = "00:00:05" });

        for (var i = 0; i < 5; i++)
        {
            using var response = await node.Client.GetAsync("/same?t=" + Token, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }
        using var other = await node.Client.GetAsync("/other?t=" + Token, TestContext.Current.CancellationToken);

        var events = node.Events();
        Assert.Equal(2, events.Count);
        Assert.Equal(5, events.Single(e => e.Path == "/same").Hits);
        Assert.Equal(1, events.Single(e => e.Path == "/other").Hits);
    }

    [Fact]
    public async Task Event_CarriesContractFieldsAndNoPlaintext()
    {
        await using var node = await NodeHarness.StartAsync([("leak-7", "block", [Token])]);

        using var response = await node.Client.GetAsync("/tokens/" + Token + "/x", TestContext.Current.CancellationToken);

        var attack = Assert.Single(node.Events());
        Assert.Equal("vpatch", attack.Type);
        Assert.Equal("leak-7", attack.LeakId);
        Assert.Equal("blocked", attack.Action);
        Assert.Equal("GET", attack.Method);
        Assert.Equal("path", attack.Location);
        Assert.Equal(403, attack.StatusCode);
        Assert.Equal(16, attack.TokenFingerprint.Length);
        Assert.StartsWith("ghp_…", attack.TokenPreview, StringComparison.Ordinal);
        Assert.Equal("/tokens/[" + attack.TokenPreview + "]/x", attack.Path);
        Assert.True(Guid.TryParse(attack.Id, out var id) && id.Version == 7);
        Assert.InRange(attack.Time, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow);
    }

    [Theory]
    [InlineData("127.0.0.1", "203.0.113.9", "203.0.113.9")]
    [InlineData("10.0.0.0/8", "203.0.113.9", "127.0.0.1")]
    [InlineData("", "203.0.113.9", "127.0.0.1")]
    public async Task ClientIp_ForwardedFor_BelievedOnlyFromTrustedProxies(string trusted, string forwardedFor, string expected)
    {
        var settings = new Dictionary<string, string?>();
        if (trusted.Length > 0)
        {
            settings["Network:TrustedProxies:0"] = trusted;
        }
        await using var node = await NodeHarness.StartAsync([("leak", "block", [Token])], settings);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/?t=" + Token);
        request.Headers.Add("X-Forwarded-For", forwardedFor);

        using var response = await node.Client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(expected, Assert.Single(node.Events()).ClientIp);
    }
}
