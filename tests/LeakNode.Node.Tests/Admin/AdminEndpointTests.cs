using System.Net;
using System.Text.Json;
using LeakNode.Node.Tests.Support;

namespace LeakNode.Node.Tests.Admin;

public sealed class AdminEndpointTests
{
    private const string Token = "ghp_adminTestToken0000000000000000000000";

    [Fact]
    public async Task Endpoints_OnAdminListener_AnswerHealthReadinessStatusAndMetrics()
    {
        await using var node = await NodeHarness.StartAsync([("leak-1", "block", [Token]), ("leak-2", "monitor", ["sk_live_monitoredToken000000000000000000"])]);
        using var clean = await node.Client.GetAsync("/a", TestContext.Current.CancellationToken);
        using var blocked = await node.Client.GetAsync("/a?t=" + Token, TestContext.Current.CancellationToken);

        Assert.Equal("ok\n", await node.Admin.GetStringAsync("/healthz", TestContext.Current.CancellationToken));
        Assert.Equal("ready\n", await node.Admin.GetStringAsync("/readyz", TestContext.Current.CancellationToken));

        using var status = JsonDocument.Parse(await node.Admin.GetStringAsync("/status", TestContext.Current.CancellationToken));
        Assert.Equal("test-node", status.RootElement.GetProperty("node").GetString());
        Assert.Equal("block", status.RootElement.GetProperty("mode").GetString());
        Assert.Equal(1, status.RootElement.GetProperty("rules").GetProperty("version").GetInt64());
        Assert.Equal(2, status.RootElement.GetProperty("rules").GetProperty("tokens").GetInt32());
        Assert.Equal("file", status.RootElement.GetProperty("rules").GetProperty("source").GetString());
        Assert.False(status.RootElement.GetProperty("cloud").GetProperty("connected").GetBoolean());

        var metrics = await node.Admin.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
        Assert.Contains("leaknode_requests_inspected_total", metrics, StringComparison.Ordinal);
        Assert.Matches("leaknode_requests_blocked_total\\{otel_scope_name=\"LeakNode\\.Node[.0-9]*\",location=\"query\"\\} 1", metrics);
        Assert.Contains("leaknode_rules_tokens", metrics, StringComparison.Ordinal);
        Assert.Contains("leaknode_inspection_duration_seconds_bucket", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AdminRoutes_ThroughTheProxyPort_AreForwardedNotAnswered()
    {
        await using var node = await NodeHarness.StartAsync([("leak-1", "block", [Token])]);

        using var response = await node.Client.GetAsync("/status", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("upstream ok", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }
}
