using System.Net;
using LeakNode.Cloud.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;

namespace LeakNode.Cloud.Tests;

public sealed class CloudApplicationTests
{
    private static HttpClient H2c(Uri baseAddress) => new()
    {
        BaseAddress = baseAddress,
        DefaultRequestVersion = HttpVersion.Version20,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
    };

    [Fact]
    public async Task StartAsync_PortZero_ReportsTheRealPorts()
    {
        await using var cloud = await CloudHarness.StartAsync();
        Assert.NotEqual(0, cloud.Cloud.HttpUrl.Port);
        Assert.NotEqual(0, cloud.Cloud.GrpcUrl.Port);
        Assert.NotEqual(cloud.Cloud.HttpUrl.Port, cloud.Cloud.GrpcUrl.Port);
        Assert.Equal("127.0.0.1", cloud.Cloud.HttpUrl.Host);
    }

    [Fact]
    public async Task GrpcListener_RestEndpoints_AreNotFound()
    {
        await using var cloud = await CloudHarness.StartAsync();
        using var client = H2c(cloud.Cloud.GrpcUrl);
        client.DefaultRequestHeaders.Authorization = new("Bearer", cloud.AdminKey);
        // The console too: its pages, sign-in, Blazor hub and sign-out are the REST listener's.
        foreach (var path in new[] { "/healthz", "/api/v1/leaks", "/openapi/v1.json", "/", "/signin", "/leaks/new", "/_blazor/negotiate" })
        {
            using var response = await client.GetAsync(path, CloudApi.Ct);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{path}: {response.StatusCode}");
        }
    }

    [Fact]
    public async Task GrpcListener_Http11_IsRefused()
    {
        await using var cloud = await CloudHarness.StartAsync();
        using var client = new HttpClient { BaseAddress = cloud.Cloud.GrpcUrl };
        try
        {
            using var response = await client.GetAsync("/healthz", CloudApi.Ct);
            Assert.False(response.IsSuccessStatusCode, $"HTTP/1.1 on the gRPC listener answered {response.StatusCode}");
        }
        catch (HttpRequestException)
        {
            // Kestrel may drop the connection instead of answering: refused either way.
        }
    }

    [Fact]
    public async Task HttpListener_GrpcEndpoints_AreNotFound()
    {
        // A stand-in for the node protocol: any endpoint not marked as REST belongs to the gRPC listener.
        await using var cloud = await CloudHarness.StartAsync(
            mapGrpc: endpoints => endpoints.MapPost("/leaknode.v1.NodeSync/Probe", () => Results.Text("grpc side")));
        using (var grpc = H2c(cloud.Cloud.GrpcUrl))
        {
            using var response = await grpc.PostAsync("/leaknode.v1.NodeSync/Probe", null, CloudApi.Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        using (var http = await cloud.ClientWithRoleAsync("admin"))
        {
            using var response = await http.PostAsync("/leaknode.v1.NodeSync/Probe", null, CloudApi.Ct);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }
    }

    [Fact]
    public async Task StartAsync_InvalidConfiguration_ListsEveryProblemWithItsKey()
    {
        var folder = Directory.CreateTempSubdirectory("leaknode-cloud-test-").FullName;
        try
        {
            var values = CloudHarness.Settings(folder, new Dictionary<string, string?>
            {
                ["Listen:Http"] = "ftp://127.0.0.1:70",
                ["Listen:Grpc"] = "https://127.0.0.1:7071",
                ["Storage:Provider"] = "postgres",
                ["Storage:Postgres:ConnectionString"] = "", // set by the harness when the tests run on PostgreSQL
                ["Security:MasterKey"] = "c2hvcnQ=",
                ["Limits:MaxPageSize"] = "0",
                ["Limits:MaxTokensPerLeaks"] = "3",
                ["Storage:Sqlite:BusyTimeout"] = "soon",
            });
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();

            var error = await Assert.ThrowsAsync<CloudStartupException>(() => CloudApplication.StartAsync(configuration, ct: CloudApi.Ct));

            foreach (var key in new[] { "Listen:Http", "Listen:Grpc", "Storage:Postgres:ConnectionString", "Security:MasterKey", "Limits:MaxPageSize", "Limits:MaxTokensPerLeaks", "Storage:Sqlite:BusyTimeout" })
            {
                Assert.Contains(error.Problems, p => p.StartsWith(key + ":", StringComparison.Ordinal));
            }
            Assert.Contains("Limits:MaxTokensPerLeaks", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            CloudHarness.DeleteFolder(folder);
        }
    }

    [Fact]
    public async Task StartAsync_PortTaken_NamesListen()
    {
        await using var first = await CloudHarness.StartAsync();
        var error = await Assert.ThrowsAsync<CloudStartupException>(() => CloudHarness.StartAsync(new Dictionary<string, string?>
        {
            ["Listen:Http"] = first.Cloud.HttpUrl.ToString().TrimEnd('/'),
        }));
        Assert.StartsWith("Listen:", Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restart_SameDataDir_KeepsLeaksKeysAndRuleVersion()
    {
        var folder = Directory.CreateTempSubdirectory("leaknode-cloud-test-").FullName;
        try
        {
            var tokens = new Tokens(77);
            string adminKey;
            string leakJson;
            string keyId;
            long version;
            await using (var first = await CloudHarness.StartAsync(folder: folder))
            {
                adminKey = first.AdminKey;
                var leak = await first.Admin.CreateLeakAsync("kept", tokens.Next(2));
                (_, var patched) = await first.Admin.PostJsonAsync($"/api/v1/leaks/{leak.Id()}/vpatch", new { comment = "block it" });
                leakJson = patched.GetRawText();
                keyId = first.Service<Cloud.Sync.IDeploymentKeyring>().KeyId;
                version = await first.Service<Cloud.Sync.IRuleFeed>().CurrentVersionAsync(CloudApi.Ct);
                Assert.Contains(first.Logs, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("master key", StringComparison.Ordinal) && l.Contains("BACK IT UP", StringComparison.Ordinal));
            }

            await using var second = await CloudHarness.StartAsync(folder: folder, adminKey: adminKey);
            Assert.Null(second.Cloud.BootstrapAdminKey);
            Assert.DoesNotContain(second.Logs, l => l.Contains("master key", StringComparison.Ordinal) && l.StartsWith("Warning", StringComparison.Ordinal));
            Assert.Equal(keyId, second.Service<Cloud.Sync.IDeploymentKeyring>().KeyId);
            Assert.Equal(version, await second.Service<Cloud.Sync.IRuleFeed>().CurrentVersionAsync(CloudApi.Ct));
            var (_, list) = await second.Admin.GetJsonAsync("/api/v1/leaks");
            Assert.Equal(leakJson, list.GetProperty("items")[0].GetRawText());
            var snapshot = await second.Service<Cloud.Sync.IRuleFeed>().SnapshotAsync(CloudApi.Ct);
            Assert.Equal(Matching.Rules.RuleAction.Block, Assert.Single(snapshot.Leaks).Action);
        }
        finally
        {
            CloudHarness.DeleteFolder(folder);
        }
    }

    [Fact]
    public async Task Restart_OtherMasterKey_RefusesToStartNamingTheKey()
    {
        var folder = Directory.CreateTempSubdirectory("leaknode-cloud-test-").FullName;
        try
        {
            await using (await CloudHarness.StartAsync(folder: folder))
            {
            }
            var other = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
            var error = await Assert.ThrowsAsync<CloudStartupException>(() =>
                CloudHarness.StartAsync(new Dictionary<string, string?> { ["Security:MasterKey"] = other }, folder: folder));
            Assert.StartsWith("Security:MasterKey:", Assert.Single(error.Problems), StringComparison.Ordinal);
        }
        finally
        {
            CloudHarness.DeleteFolder(folder);
        }
    }

    [Fact]
    public async Task StartAsync_ConfiguredMasterKey_WritesNoKeyFile()
    {
        var key = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        await using var cloud = await CloudHarness.StartAsync(new Dictionary<string, string?> { ["Security:MasterKey"] = key });
        Assert.False(File.Exists(Path.Combine(cloud.Folder, "data", "master.key")));
    }

    [Fact]
    public async Task StartAsync_GeneratedMasterKey_IsOwnerOnly()
    {
        await using var cloud = await CloudHarness.StartAsync();
        if (!OperatingSystem.IsWindows())
        {
            var mode = File.GetUnixFileMode(Path.Combine(cloud.Folder, "data", "master.key"));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, mode);
        }
    }

    [Fact]
    public async Task UnknownPath_Answers404Problem()
    {
        await using var cloud = await CloudHarness.StartAsync();
        using var response = await cloud.Admin.GetAsync("/api/v1/nothing-here", CloudApi.Ct);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
