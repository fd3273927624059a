using System.Net;
using LeakNode.Cloud.Tests.Support;

namespace LeakNode.Cloud.Tests.Auth;

public sealed class AuthTests
{
    private readonly Tokens _tokens = new(seed: 4404);

    public static TheoryData<string, string> ProtectedEndpoints => new()
    {
        { "GET", "/api/v1/leaks" },
        { "GET", "/api/v1/leaks/stats" },
        { "GET", "/api/v1/leaks/export?format=csv" },
        { "GET", "/api/v1/leaks/lk_x" },
        { "POST", "/api/v1/leaks" },
        { "PATCH", "/api/v1/leaks/lk_x" },
        { "POST", "/api/v1/leaks/lk_x/tokens" },
        { "POST", "/api/v1/leaks/lk_x/vpatch" },
        { "POST", "/api/v1/leaks/lk_x/close" },
        { "POST", "/api/v1/leaks/lk_x/mark-false" },
        { "POST", "/api/v1/leaks/lk_x/reopen" },
        { "GET", "/api/v1/attacks" },
        { "GET", "/api/v1/nodes" },
        { "POST", "/api/v1/nodes" },
        { "POST", "/api/v1/nodes/nd_x/revoke" },
        { "POST", "/api/v1/api-keys" },
        { "GET", "/api/v1/api-keys" },
        { "DELETE", "/api/v1/api-keys/ak_x" },
        { "GET", "/api/v1/inventory" },
        { "POST", "/api/v1/inventory" },
        { "DELETE", "/api/v1/inventory/inv_x" },
        { "GET", "/api/v1/inventory/key" },
        { "GET", "/api/v1/inventory/digests" },
        { "GET", "/openapi/v1.json" },
    };

    [Theory]
    [MemberData(nameof(ProtectedEndpoints))]
    public async Task Endpoint_NoKeyOrBadKey_Answers401Problem(string method, string path)
    {
        await using var cloud = await CloudHarness.StartAsync();
        using var bad = cloud.Client("lnk_not-a-key-at-all");
        foreach (var client in new[] { cloud.Anonymous, bad })
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            using var response = await client.SendAsync(request, CloudApi.Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        }
    }

    [Fact]
    public async Task Endpoint_NotBearer_Answers401()
    {
        await using var cloud = await CloudHarness.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/leaks");
        request.Headers.TryAddWithoutValidation("Authorization", "Basic " + Convert.ToBase64String("a:b"u8));
        using var response = await cloud.Anonymous.SendAsync(request, CloudApi.Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Healthz_WithoutKey_AnswersOk()
    {
        await using var cloud = await CloudHarness.StartAsync();
        using var response = await cloud.Anonymous.GetAsync("/healthz", CloudApi.Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Analyst_Writes_Answer403Problem()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var leak = await cloud.Admin.CreateLeakAsync("x", [_tokens.Next()]);
        using var analyst = await cloud.ClientWithRoleAsync("analyst");

        var writes = new (string Method, string Path, object? Body)[]
        {
            ("POST", "/api/v1/leaks", new { name = "y", tokens = new[] { _tokens.Next() } }),
            ("PATCH", $"/api/v1/leaks/{leak.Id()}", new { risk = 2 }),
            ("POST", $"/api/v1/leaks/{leak.Id()}/tokens", new { tokens = new[] { _tokens.Next() } }),
            ("POST", $"/api/v1/leaks/{leak.Id()}/vpatch", null),
            ("POST", $"/api/v1/leaks/{leak.Id()}/close", null),
            ("POST", $"/api/v1/leaks/{leak.Id()}/mark-false", null),
            ("POST", $"/api/v1/leaks/{leak.Id()}/reopen", null),
            ("POST", "/api/v1/nodes", new { name = "n" }),
            ("POST", "/api/v1/nodes/nd_x/revoke", null),
            ("POST", "/api/v1/api-keys", new { name = "k", role = "admin" }),
            ("GET", "/api/v1/api-keys", null),
            ("DELETE", "/api/v1/api-keys/ak_x", null),
        };
        foreach (var (method, path, body) in writes)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path)
            {
                Content = body is null ? null : System.Net.Http.Json.JsonContent.Create(body),
            };
            using var response = await analyst.SendAsync(request, CloudApi.Ct);
            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{method} {path}: {response.StatusCode}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        var (_, after) = await cloud.Admin.GetJsonAsync($"/api/v1/leaks/{leak.Id()}");
        Assert.Equal("open", after.Str("status"));
        Assert.Equal(5, after.GetProperty("risk").GetProperty("score").GetInt32());
    }

    [Fact]
    public async Task Analyst_Reads_AreAllowed()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var leak = await cloud.Admin.CreateLeakAsync("x", [_tokens.Next()]);
        using var analyst = await cloud.ClientWithRoleAsync("analyst");
        foreach (var path in new[] { "/api/v1/leaks", $"/api/v1/leaks/{leak.Id()}", "/api/v1/leaks/stats", "/api/v1/leaks/export?format=json", "/api/v1/attacks", "/api/v1/nodes", "/openapi/v1.json" })
        {
            using var response = await analyst.GetAsync(path, CloudApi.Ct);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {response.StatusCode}");
        }
    }

    [Fact]
    public async Task RevokeApiKey_RefusedAtOnce_LastAdminKeyKept()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var (_, created) = await cloud.Admin.PostJsonAsync("/api/v1/api-keys", new { name = "ci", role = "admin" });
        using var ci = cloud.Client(created.Str("key"));
        Assert.Equal(HttpStatusCode.OK, (await ci.GetJsonAsync("/api/v1/leaks")).Status);

        var (listed, keys) = await cloud.Admin.GetJsonAsync("/api/v1/api-keys");
        Assert.Equal(HttpStatusCode.OK, listed);
        Assert.Equal(["bootstrap-admin", "ci"], keys.EnumerateArray().Select(k => k.Str("name")).ToArray());
        Assert.DoesNotContain(created.Str("key"), keys.ToString(), StringComparison.Ordinal);

        using (var revoke = await cloud.Admin.DeleteAsync($"/api/v1/api-keys/{created.Str("id")}", CloudApi.Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        }
        Assert.Equal(HttpStatusCode.Unauthorized, (await ci.GetJsonAsync("/api/v1/leaks")).Status);
        using (var again = await cloud.Admin.DeleteAsync($"/api/v1/api-keys/{created.Str("id")}", CloudApi.Ct))
        {
            Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        }

        // The bootstrap key is now the only admin key: revoking it would lock the API out.
        var bootstrap = (await cloud.Admin.GetJsonAsync("/api/v1/api-keys")).Body[0].Str("id");
        using var last = await cloud.Admin.DeleteAsync($"/api/v1/api-keys/{bootstrap}", CloudApi.Ct);
        Assert.Equal(HttpStatusCode.Conflict, last.StatusCode);
        Assert.Contains("last admin key", await last.Content.ReadAsStringAsync(CloudApi.Ct), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await cloud.Admin.GetJsonAsync("/api/v1/leaks")).Status);
    }

    [Fact]
    public async Task CreateApiKey_ShowsTheKeyOnce_AndItWorks()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var (status, created) = await cloud.Admin.PostJsonAsync("/api/v1/api-keys", new { name = "ci", role = "admin" });
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("ci", created.Str("name"));
        Assert.Equal("admin", created.Str("role"));
        Assert.StartsWith("ak_", created.Str("id"), StringComparison.Ordinal);
        var key = created.Str("key");
        Assert.StartsWith("lnk_", key, StringComparison.Ordinal);

        using var client = cloud.Client(key);
        var leak = await client.CreateLeakAsync("by ci", [_tokens.Next()]);
        Assert.Equal("ci", leak.GetProperty("history")[0].Str("actor"));
        if (CloudHarness.PostgresServer is null)
        {
            Assert.DoesNotContain(key, await File.ReadAllTextAsync(cloud.DatabasePath, CloudApi.Ct), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("""{"name":"x","role":"root"}""", "role")]
    [InlineData("""{"name":"","role":"admin"}""", "name")]
    [InlineData("""{"role":"analyst"}""", "name")]
    [InlineData("""{"name":"x","role":"admin","scope":"all"}""", "scope")]
    public async Task CreateApiKey_Invalid_Answers400(string json, string field)
    {
        await using var cloud = await CloudHarness.StartAsync();
        var (status, problem) = await cloud.Admin.PostRawAsync("/api/v1/api-keys", json);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task Bootstrap_FirstStart_GeneratesAKeyAndLogsItOnceAtWarning()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var key = cloud.Cloud.BootstrapAdminKey;
        Assert.NotNull(key);
        var lines = cloud.Logs.Where(l => l.Contains(key, StringComparison.Ordinal)).ToList();
        Assert.StartsWith("Warning", Assert.Single(lines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bootstrap_ConfiguredKey_IsTheAdminKey_AndNothingIsGenerated()
    {
        var adminKey = "configured-" + Guid.NewGuid().ToString("N");
        await using var cloud = await CloudHarness.StartAsync(new Dictionary<string, string?> { ["Security:AdminKey"] = adminKey });
        Assert.Null(cloud.Cloud.BootstrapAdminKey);
        var (status, _) = await cloud.Admin.GetJsonAsync("/api/v1/leaks");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.DoesNotContain(cloud.Logs, l => l.Contains(adminKey, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Bootstrap_EnvironmentStyleKey_IsAccepted()
    {
        // LEAKNODE_ADMIN_KEY arrives as ADMIN_KEY once the CLI strips the LEAKNODE_ prefix.
        var adminKey = "from-env-" + Guid.NewGuid().ToString("N");
        await using var cloud = await CloudHarness.StartAsync(new Dictionary<string, string?> { ["ADMIN_KEY"] = adminKey }, adminKey: adminKey);
        Assert.Null(cloud.Cloud.BootstrapAdminKey);
        var (status, _) = await cloud.Admin.GetJsonAsync("/api/v1/leaks");
        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task Bootstrap_ConfiguredKeyChanged_RotatesTheBootstrapKey()
    {
        var folder = Directory.CreateTempSubdirectory("leaknode-cloud-test-").FullName;
        try
        {
            var oldKey = "old-admin-" + Guid.NewGuid().ToString("N");
            var newKey = "new-admin-" + Guid.NewGuid().ToString("N");
            await using (var first = await CloudHarness.StartAsync(new Dictionary<string, string?> { ["Security:AdminKey"] = oldKey }, folder: folder))
            {
                await first.Admin.CreateLeakAsync("kept", [_tokens.Next()]);
            }
            await using var second = await CloudHarness.StartAsync(new Dictionary<string, string?> { ["Security:AdminKey"] = newKey }, folder: folder);
            using var old = second.Client(oldKey);
            Assert.Equal(HttpStatusCode.Unauthorized, (await old.GetJsonAsync("/api/v1/leaks")).Status);
            var (status, page) = await second.Admin.GetJsonAsync("/api/v1/leaks");
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal(1, page.GetProperty("total").GetInt64());
        }
        finally
        {
            CloudHarness.DeleteFolder(folder);
        }
    }

    [Fact]
    public async Task OpenApi_WithKey_DescribesTheLeaksApi()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var (status, document) = await cloud.Admin.GetJsonAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, status);
        var paths = document.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/api/v1/leaks", out _));
        Assert.True(paths.TryGetProperty("/api/v1/leaks/{id}/vpatch", out _));
        Assert.False(paths.TryGetProperty("/healthz", out _));
        var scheme = document.GetProperty("components").GetProperty("securitySchemes").GetProperty("apiKey");
        Assert.Equal("http", scheme.Str("type"));
        Assert.Equal("bearer", scheme.Str("scheme"));
        Assert.True(document.GetProperty("security")[0].TryGetProperty("apiKey", out _));
    }
}
