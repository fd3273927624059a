using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using LeakNode.Testing.Processes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LeakNode.EndToEnd.Tests;

/// <summary>
/// Two <c>leaknode cloud</c> replicas over one PostgreSQL database, a node on each: a decision taken through one
/// replica reaches the node of the other within a second, and a node whose replica dies carries on with the other.
/// </summary>
public sealed class ReplicaTests
{
    /// <summary>An Npgsql connection string of a server where the test may create a database; test.sh starts one.</summary>
    public const string ServerVariable = "LEAKNODE_E2E_POSTGRES";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TwoReplicas_VpatchThroughOne_BlocksOnTheOthersNode_AndANodeFailsOverWhenItsReplicaDies()
    {
        var server = Environment.GetEnvironmentVariable(ServerVariable);
        Assert.False(string.IsNullOrEmpty(server),
            $"{ServerVariable} is not set: this test needs a PostgreSQL server. ./test.sh starts a throwaway one (Debian package postgresql); "
            + "or set it to an Npgsql connection string of a server where the test may create a database.");
        var database = "leaknode_e2e_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        await Sql(server!, $"CREATE DATABASE {database}");
        var root = Directory.CreateTempSubdirectory("leaknode-replicas-").FullName;
        var processes = new List<LeakNodeProcess>();
        await using var upstream = await StartUpstreamAsync();
        try
        {
            var connection = new Npgsql.NpgsqlConnectionStringBuilder(server) { Database = database }.ToString();
            var adminKey = "lk_test_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));
            var environment = new Dictionary<string, string>
            {
                ["LEAKNODE_ADMIN_KEY"] = adminKey,
                // Replicas share the master key (the tokens' encryption) as they share the database.
                ["LEAKNODE_Security__MasterKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            };
            var a = await StartCloudAsync("a", root, connection, environment, processes);
            var b = await StartCloudAsync("b", root, connection, environment, processes);
            using var apiA = Api(a.Http, adminKey);
            using var apiB = Api(b.Http, adminKey);

            // Node 1 prefers replica A and knows B; node 2 knows only B.
            var node1 = await StartNodeAsync("n1", root, [a.Grpc, b.Grpc], await TokenAsync(apiA, "n1"), upstream.Url, processes);
            var node2 = await StartNodeAsync("n2", root, [b.Grpc], await TokenAsync(apiA, "n2"), upstream.Url, processes);

            // One untimed round first: the first change through a fresh pair of processes runs each path's code for
            // the first time (JIT), which on a loaded 2-core CI machine alone can take most of a second.
            var warmToken = "ghp_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(18));
            var warm = await PostAsync(apiA, "api/v1/leaks", new { name = "warm-up", tokens = new[] { warmToken } });
            await PostAsync(apiA, $"api/v1/leaks/{warm.GetProperty("id").GetString()}/vpatch", new { });
            await UntilAsync(() => AttemptAsync(node2.Proxy, warmToken, HttpStatusCode.Forbidden), TimeSpan.FromSeconds(15), processes, "node 2 to block the warm-up leak");

            var token = "ghp_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(18));
            var leak = await PostAsync(apiA, "api/v1/leaks", new { name = "replicated", tokens = new[] { token } });
            var id = leak.GetProperty("id").GetString()!;
            await PostAsync(apiA, $"api/v1/leaks/{id}/vpatch", new { comment = "through A" });
            var blocked = await UntilAsync(() => AttemptAsync(node2.Proxy, token, HttpStatusCode.Forbidden), TimeSpan.FromSeconds(10), processes, "node 2 (on replica B) to block");
            Assert.True(blocked <= TimeSpan.FromSeconds(1), $"A vpatch through replica A took {blocked.TotalMilliseconds:F0} ms to reach the node on replica B.");
            await UntilAsync(() => AttemptAsync(node1.Proxy, token, HttpStatusCode.Forbidden), TimeSpan.FromSeconds(10), processes, "node 1 (on replica A) to block");

            // Replica A dies: node 1 keeps blocking, reconnects to B, and follows a change made through B.
            await a.Process.KillAsync();
            Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(node1.Proxy, token));
            await PostAsync(apiB, $"api/v1/leaks/{id}/close", new { comment = "rotated, through B" });
            await UntilAsync(() => AttemptAsync(node1.Proxy, token, HttpStatusCode.OK), TimeSpan.FromSeconds(30), processes, "node 1 to follow replica B after A died");
            using var status = JsonDocument.Parse(await node1.Admin.GetStringAsync(new Uri("status", UriKind.Relative), Ct));
            Assert.StartsWith(b.Grpc.TrimEnd('/'), status.RootElement.GetProperty("cloud").GetProperty("endpoint").GetString()!.TrimEnd('/'), StringComparison.Ordinal);
            await UntilAsync(() => AttemptAsync(node2.Proxy, token, HttpStatusCode.OK), TimeSpan.FromSeconds(10), processes, "node 2 to forward after the close");
        }
        finally
        {
            foreach (var process in processes)
            {
                await process.DisposeAsync();
            }
            Npgsql.NpgsqlConnection.ClearAllPools();
            await Sql(server!, $"DROP DATABASE IF EXISTS {database} WITH (FORCE)");
            Directory.Delete(root, recursive: true);
        }
    }

    private sealed record Cloud(LeakNodeProcess Process, string Http, string Grpc);

    private sealed record Node(HttpClient Proxy, HttpClient Admin);

    private static async Task<Cloud> StartCloudAsync(string name, string root, string connection, Dictionary<string, string> environment, List<LeakNodeProcess> processes)
    {
        var http = $"http://127.0.0.1:{FreePort.Next()}/";
        var grpc = $"http://127.0.0.1:{FreePort.Next()}/";
        var config = Path.Combine(root, $"cloud-{name}.yaml");
        await File.WriteAllTextAsync(config, $"""
            Listen: {"{"} Http: "{http}", Grpc: "{grpc}" {"}"}
            DataDir: '{Path.Combine(root, "cloud-" + name)}'
            Storage:
              Provider: postgres
              Postgres:
                ConnectionString: "{connection}"
            """, Ct);
        var process = LeakNodeProcess.Start(["cloud", "--config", config], environment);
        processes.Add(process);
        using var client = new HttpClient { BaseAddress = new Uri(http) };
        await UntilAsync(async () =>
        {
            try
            {
                using var response = await client.GetAsync(new Uri("healthz", UriKind.Relative), Ct);
                return response.IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(60), processes, $"replica {name} to answer /healthz");
        return new Cloud(process, http, grpc);
    }

    private static async Task<Node> StartNodeAsync(string name, string root, string[] clouds, string token, Uri upstream, List<LeakNodeProcess> processes)
    {
        var proxy = FreePort.Next();
        var admin = FreePort.Next();
        var config = Path.Combine(root, $"node-{name}.yaml");
        var urls = string.Join(", ", clouds.Select(u => $"\"{u}\""));
        await File.WriteAllTextAsync(config, $$"""
            Node: { Name: {{name}}, Mode: block }
            Cloud:
              GrpcUrls: [{{urls}}]
              Token: {{token}}
              ReconnectInitialDelay: 00:00:00.200
              ReconnectMaxDelay: 00:00:02
            Listen: { Proxy: "http://127.0.0.1:{{proxy}}", Admin: "http://127.0.0.1:{{admin}}" }
            StateDir: '{{Path.Combine(root, "node-" + name)}}'
            ReverseProxy:
              Routes: { all: { ClusterId: app, Match: { Path: "{**catch-all}" } } }
              Clusters: { app: { Destinations: { d1: { Address: "{{upstream}}" } } } }
            """, Ct);
        processes.Add(LeakNodeProcess.Start(["node", "--config", config]));
        var node = new Node(new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{proxy}/") }, new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{admin}/") });
        await UntilAsync(async () =>
        {
            try
            {
                using var response = await node.Admin.GetAsync(new Uri("readyz", UriKind.Relative), Ct);
                return response.IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(60), processes, $"node {name} to be ready");
        return node;
    }

    private static HttpClient Api(string url, string key)
    {
        var client = new HttpClient { BaseAddress = new Uri(url) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    private static async Task<string> TokenAsync(HttpClient api, string name) =>
        (await PostAsync(api, "api/v1/nodes", new { name })).GetProperty("token").GetString()!;

    private static async Task<JsonElement> PostAsync(HttpClient api, string path, object body)
    {
        using var response = await api.PostAsJsonAsync(new Uri(path, UriKind.Relative), body, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.IsSuccessStatusCode, $"POST {path} answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static async Task<HttpStatusCode> StatusAsync(HttpClient proxy, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/orders", UriKind.Relative));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await proxy.SendAsync(request, Ct);
        return response.StatusCode;
    }

    private static async Task<bool> AttemptAsync(HttpClient proxy, string token, HttpStatusCode expected) => await StatusAsync(proxy, token) == expected;

    private static async Task<TimeSpan> UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, List<LeakNodeProcess> processes, string what)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > timeout)
            {
                Assert.Fail($"Waited {timeout} for {what}. Output:\n" + string.Join("\n----\n", processes.Select(p => p.Output)));
            }
            await Task.Delay(20, Ct);
        }
        return clock.Elapsed;
    }

    private static async Task Sql(string server, string sql)
    {
        await using var connection = new Npgsql.NpgsqlConnection(server);
        await connection.OpenAsync(Ct);
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(Ct);
    }

    private static async Task<Upstream> StartUpstreamAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.Run(context => context.Response.WriteAsync("upstream ok"));
        await app.StartAsync(Ct);
        return new Upstream(app, new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()));
    }

    private sealed record Upstream(WebApplication App, Uri Url) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => App.DisposeAsync();
    }
}
