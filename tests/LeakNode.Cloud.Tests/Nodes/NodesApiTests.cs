using System.Net;
using System.Text.Json;
using LeakNode.Cloud.Nodes;
using LeakNode.Cloud.Sync;
using LeakNode.Cloud.Tests.Support;

namespace LeakNode.Cloud.Tests.Nodes;

public sealed class NodesApiTests
{
    [Fact]
    public async Task Enroll_AnswersTheTokenOnce_AndListShowsTheNodeWithoutIt()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var (status, node) = await cloud.Admin.PostJsonAsync("/api/v1/nodes", new { name = "edge-1" });
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("edge-1", node.Str("name"));
        var token = node.Str("token");
        Assert.StartsWith("lnt_", token, StringComparison.Ordinal);

        var (_, list) = await cloud.Admin.GetJsonAsync("/api/v1/nodes");
        var listed = Assert.Single(list.EnumerateArray());
        Assert.Equal(node.Id(), listed.Id());
        Assert.False(listed.GetProperty("connected").GetBoolean());
        Assert.Equal(JsonValueKind.Null, listed.GetProperty("lastSeen").ValueKind);
        Assert.Equal(JsonValueKind.Null, listed.GetProperty("ruleVersion").ValueKind);
        Assert.DoesNotContain(token, list.GetRawText(), StringComparison.Ordinal);
        if (CloudHarness.PostgresServer is null)
        {
            Assert.DoesNotContain(token, await File.ReadAllTextAsync(cloud.DatabasePath, CloudApi.Ct), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("""{"name":""}""", "name")]
    [InlineData("""{}""", "name")]
    [InlineData("""{"name":"a","mode":"block"}""", "mode")]
    public async Task Enroll_Invalid_Answers400(string json, string field)
    {
        await using var cloud = await CloudHarness.StartAsync();
        var (status, problem) = await cloud.Admin.PostRawAsync("/api/v1/nodes", json);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task Registry_ProtocolEvents_ShowInTheList()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var (_, node) = await cloud.Admin.PostJsonAsync("/api/v1/nodes", new { name = "edge-2" });
        var registry = cloud.Service<INodeRegistry>();
        var identity = await registry.AuthenticateAsync(node.Str("token"), CloudApi.Ct);
        Assert.Equal(new NodeIdentity(node.Id(), "edge-2", Revoked: false), identity);

        await registry.ConnectedAsync(node.Id(), "block", "1.2.3", 4, CloudApi.Ct);
        await registry.ConnectedAsync(node.Id(), "block", "1.2.3", 4, CloudApi.Ct);
        await registry.DisconnectedAsync(node.Id(), CloudApi.Ct);
        await registry.RefusedAsync(node.Id(), 6, "rule set too large", CloudApi.Ct);
        var (_, list) = await cloud.Admin.GetJsonAsync("/api/v1/nodes");
        var listed = list[0];
        Assert.True(listed.GetProperty("connected").GetBoolean(), "one of two streams is still open");
        Assert.Equal("block", listed.Str("mode"));
        Assert.Equal("1.2.3", listed.Str("softwareVersion"));
        Assert.Equal(4, listed.GetProperty("ruleVersion").GetInt64());
        Assert.Equal("rule set too large", listed.Str("lastError"));
        Assert.NotEqual(JsonValueKind.Null, listed.GetProperty("lastSeen").ValueKind);

        await registry.AppliedAsync([new NodeApplied(node.Id(), 7)], CloudApi.Ct);
        await registry.DisconnectedAsync(node.Id(), CloudApi.Ct);
        await registry.DisconnectedAsync(node.Id(), CloudApi.Ct);
        await registry.SeenAsync(node.Id(), CloudApi.Ct);
        (_, list) = await cloud.Admin.GetJsonAsync("/api/v1/nodes");
        Assert.False(list[0].GetProperty("connected").GetBoolean());
        Assert.Equal(7, list[0].GetProperty("ruleVersion").GetInt64());
        Assert.Equal(JsonValueKind.Null, list[0].GetProperty("lastError").ValueKind);
    }

    [Fact]
    public async Task Registry_UnknownToken_IsNull()
    {
        await using var cloud = await CloudHarness.StartAsync();
        await cloud.Admin.PostJsonAsync("/api/v1/nodes", new { name = "edge" });
        Assert.Null(await cloud.Service<INodeRegistry>().AuthenticateAsync("lnt_forged", CloudApi.Ct));
    }

    [Fact]
    public async Task Revoke_MarksTheNodeRevoked_ForTheProtocolToo()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var (_, node) = await cloud.Admin.PostJsonAsync("/api/v1/nodes", new { name = "edge-3" });
        await cloud.Service<INodeRegistry>().ConnectedAsync(node.Id(), "monitor", "1", 0, CloudApi.Ct);

        var (status, revoked) = await cloud.Admin.PostJsonAsync($"/api/v1/nodes/{node.Id()}/revoke", null);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(revoked.GetProperty("revoked").GetBoolean());
        Assert.False(revoked.GetProperty("connected").GetBoolean());
        var identity = await cloud.Service<INodeRegistry>().AuthenticateAsync(node.Str("token"), CloudApi.Ct);
        Assert.True(identity!.Revoked);
        Assert.Contains(cloud.Logs, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains(node.Id(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Revoke_UnknownNode_Answers404()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var (status, _) = await cloud.Admin.PostJsonAsync("/api/v1/nodes/nd_missing/revoke", null);
        Assert.Equal(HttpStatusCode.NotFound, status);
    }

    [Fact]
    public async Task Restart_ConnectionsOfThePreviousRun_AreCleared()
    {
        // Only SQLite: one process owns the file. Over PostgreSQL other replicas may hold streams open.
        Assert.SkipUnless(CloudHarness.PostgresServer is null, "SQLite only");
        var folder = Directory.CreateTempSubdirectory("leaknode-cloud-test-").FullName;
        try
        {
            string adminKey;
            string nodeId;
            await using (var first = await CloudHarness.StartAsync(folder: folder))
            {
                adminKey = first.AdminKey;
                var (_, node) = await first.Admin.PostJsonAsync("/api/v1/nodes", new { name = "edge" });
                nodeId = node.Id();
                await first.Service<NodeRegistry>().ConnectedAsync(nodeId, "block", "1", 0, CloudApi.Ct);
            }
            await using var second = await CloudHarness.StartAsync(folder: folder, adminKey: adminKey);
            var (_, list) = await second.Admin.GetJsonAsync("/api/v1/nodes");
            Assert.False(list[0].GetProperty("connected").GetBoolean());
        }
        finally
        {
            CloudHarness.DeleteFolder(folder);
        }
    }
}
