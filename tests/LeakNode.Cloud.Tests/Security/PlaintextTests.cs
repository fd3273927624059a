using LeakNode.Cloud.Tests.Support;

namespace LeakNode.Cloud.Tests.Security;

/// <summary>PRODUCT.md: no plaintext token outside the cloud's encrypted store, in any form a user or an attacker gets.</summary>
public sealed class PlaintextTests
{
    [Fact]
    public async Task EveryPath_DatabaseLogsAndAnswers_HoldNoPlaintextToken()
    {
        var tokens = new Tokens(seed: 4505);
        await using var cloud = await CloudHarness.StartAsync(new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Trace" });
        using var analyst = await cloud.ClientWithRoleAsync("analyst");

        var ids = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            var leak = await cloud.Admin.CreateLeakAsync($"leak {i}", tokens.Next(3), risk: i + 3, source: i % 2 == 0 ? "github" : "paste");
            ids.Add(leak.Id());
        }
        var duplicate = tokens.All.First();
        await cloud.Admin.PostJsonAsync("/api/v1/leaks", new { name = "dup", tokens = new[] { duplicate } });
        await cloud.Admin.PostJsonAsync("/api/v1/leaks", new { name = "bad", tokens = new[] { tokens.Next(), "short" }, risk = 99 });
        await cloud.Admin.PostRawAsync("/api/v1/leaks", "{\"name\":\"x\",\"tokens\":[\"" + tokens.Next() + "\"],\"extra\":1}");
        await cloud.Admin.PostJsonAsync($"/api/v1/leaks/{ids[0]}/vpatch", new { comment = "block" });
        await cloud.Admin.PostJsonAsync($"/api/v1/leaks/{ids[1]}/close", null);
        await cloud.Admin.PostJsonAsync($"/api/v1/leaks/{ids[2]}/mark-false", null);
        await cloud.Admin.PostJsonAsync($"/api/v1/leaks/{ids[2]}/reopen", null);
        await cloud.Admin.PostJsonAsync($"/api/v1/leaks/{ids[0]}/reopen", null);
        await cloud.Admin.PatchJsonAsync($"/api/v1/leaks/{ids[3]}", new { risk = 10, name = "renamed" });
        foreach (var token in tokens.All.Take(3))
        {
            await analyst.GetJsonAsync($"/api/v1/leaks?q={Uri.EscapeDataString(token)}");
        }
        foreach (var path in new[] { "/api/v1/leaks?limit=2", "/api/v1/leaks/stats", "/api/v1/leaks/export?format=csv", "/api/v1/leaks/export?format=json", "/openapi/v1.json" })
        {
            await analyst.GetJsonAsync(path);
        }
        await cloud.Service<Cloud.Sync.IRuleFeed>().SnapshotAsync(CloudApi.Ct);
        await cloud.Service<Cloud.Sync.IRuleFeed>().DeltaAsync(0, CloudApi.Ct);
        await cloud.Cloud.StopAsync(CloudApi.Ct);

        var haystacks = await Plaintext.HaystacksAsync(cloud);
        if (CloudHarness.PostgresServer is null)
        {
            Assert.Contains("cloud.db", haystacks.Keys);
        }
        else
        {
            Assert.Contains("lk_", haystacks["database"], StringComparison.Ordinal);
        }
        Assert.True(cloud.Responses.Count > 20);
        Assert.True(tokens.All.Count >= 20);
        Plaintext.AssertAbsent(tokens.All, haystacks);
    }
}
