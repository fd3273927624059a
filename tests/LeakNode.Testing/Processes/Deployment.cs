using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LeakNode.Testing.Processes;

/// <summary>
/// A cloud and a node as real <c>leaknode</c> processes on loopback, in front of an in-process upstream, with
/// their configuration files and state in one temporary directory. The cloud and the node can be killed and
/// started again on the same ports and state, as an operator would.
/// </summary>
public sealed class Deployment : IAsyncDisposable
{
    private readonly int _httpPort = FreePort.Next();
    private readonly int _grpcPort = FreePort.Next();
    private readonly int _proxyPort = FreePort.Next();
    private readonly int _adminPort = FreePort.Next();
    private readonly List<string> _finishedOutput = [];
    private WebApplication? _upstream;
    private string? _nodeToken;

    public Deployment()
    {
        Directory.CreateDirectory(Root);
        AdminKey = "lk_test_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));
        AdminPassword = "pw-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        Api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_httpPort}/"), Timeout = TimeSpan.FromSeconds(30) };
        Api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        Proxy = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_proxyPort}/"), Timeout = TimeSpan.FromSeconds(30) };
        Admin = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_adminPort}/"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "leaknode-e2e-" + Guid.NewGuid().ToString("N")[..12]);

    public string CloudDataDir => Path.Combine(Root, "cloud");

    public string NodeStateDir => Path.Combine(Root, "node");

    public string AdminKey { get; }

    /// <summary>The console's bootstrap admin (Security:AdminEmail), who signs in with <see cref="AdminPassword"/>.</summary>
    public string AdminEmail { get; } = "admin@e2e.test";

    public string AdminPassword { get; }

    /// <summary>The cloud's REST listener, where the console is served.</summary>
    public Uri ConsoleUrl => new($"http://127.0.0.1:{_httpPort}/");

    /// <summary>The cloud's REST API, with the admin key.</summary>
    public HttpClient Api { get; }

    /// <summary>The node's proxy listener.</summary>
    public HttpClient Proxy { get; }

    /// <summary>The node's admin listener.</summary>
    public HttpClient Admin { get; }

    public LeakNodeProcess? Cloud { get; private set; }

    public LeakNodeProcess? Node { get; private set; }

    /// <summary>Requests the upstream received: method and target.</summary>
    public ConcurrentQueue<string> UpstreamRequests { get; } = new();

    /// <summary>Everything every process wrote, the ones that ended included.</summary>
    public string AllOutput => string.Join('\n', _finishedOutput.Append(Cloud?.Output ?? "").Append(Node?.Output ?? ""));

    public async Task StartUpstreamAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        _upstream = builder.Build();
        _upstream.Run(async context =>
        {
            UpstreamRequests.Enqueue(context.Request.Method + " " + context.Request.Path + context.Request.QueryString);
            await context.Response.WriteAsync("upstream ok");
        });
        await _upstream.StartAsync();
    }

    private Uri UpstreamUrl => new(_upstream!.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    /// <summary>Starts <c>leaknode cloud</c>; <paramref name="settings"/> are more <c>LEAKNODE_…</c> environment variables for it.</summary>
    public async Task StartCloudAsync(IReadOnlyDictionary<string, string>? settings = null)
    {
        var config = Path.Combine(Root, "cloud.yaml");
        await File.WriteAllTextAsync(config, $"""
            Listen:
              Http: http://127.0.0.1:{_httpPort}
              Grpc: http://127.0.0.1:{_grpcPort}
            DataDir: {Yaml(CloudDataDir)}
            Storage:
              Provider: sqlite
              Sqlite:
                Path: {Yaml(Path.Combine(CloudDataDir, "cloud.db"))}
            """);
        var environment = new Dictionary<string, string>
        {
            ["LEAKNODE_ADMIN_KEY"] = AdminKey,
            ["LEAKNODE_Security__AdminEmail"] = AdminEmail,
            ["LEAKNODE_Security__AdminPassword"] = AdminPassword,
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }
        Cloud = LeakNodeProcess.Start(["cloud", "--config", config], environment);
        await WaitUntilAsync(async () => (await TryGetAsync(Api, "healthz")) == HttpStatusCode.OK, TimeSpan.FromSeconds(60), () => "the cloud to answer /healthz", Cloud);
    }

    /// <summary>Enrols a node through the API (once) and starts <c>leaknode node</c>; waits for <c>/readyz</c> when asked.</summary>
    public async Task StartNodeAsync(bool waitReady = true)
    {
        if (_nodeToken is null)
        {
            var created = await PostAsync("api/v1/nodes", new { name = "e2e-node" });
            _nodeToken = created.GetProperty("token").GetString()!;
        }
        var config = Path.Combine(Root, "node.yaml");
        await File.WriteAllTextAsync(config, $$"""
            Node:
              Name: e2e-node
              Mode: block
            Cloud:
              GrpcUrl: http://127.0.0.1:{{_grpcPort}}
              Token: {{_nodeToken}}
            Listen:
              Proxy: http://127.0.0.1:{{_proxyPort}}
              Admin: http://127.0.0.1:{{_adminPort}}
            StateDir: {{Yaml(NodeStateDir)}}
            ReverseProxy:
              Routes: { all: { ClusterId: app, Match: { Path: "{**catch-all}" } } }
              Clusters: { app: { Destinations: { d1: { Address: "{{UpstreamUrl}}" } } } }
            """);
        Node = LeakNodeProcess.Start(["node", "--config", config]);
        if (waitReady)
        {
            await WaitUntilAsync(async () => (await TryGetAsync(Admin, "readyz")) == HttpStatusCode.OK, TimeSpan.FromSeconds(60), () => "the node to be ready", Node);
        }
    }

    public async Task KillCloudAsync()
    {
        await Cloud!.KillAsync();
        _finishedOutput.Add(Cloud.Output);
        Cloud = null;
    }

    public async Task KillNodeAsync()
    {
        await Node!.KillAsync();
        _finishedOutput.Add(Node.Output);
        Node = null;
    }

    public async Task<JsonElement> PostAsync(string path, object body)
    {
        using var response = await Api.PostAsJsonAsync(new Uri(path, UriKind.Relative), body);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"POST {path} answered {(int)response.StatusCode}: {text}");
        }
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public async Task<JsonElement> GetAsync(string path)
    {
        using var response = await Api.GetAsync(new Uri(path, UriKind.Relative));
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"GET {path} answered {(int)response.StatusCode}: {text}");
        }
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>A request through the node carrying <paramref name="token"/> as a bearer token; returns the status.</summary>
    public async Task<HttpStatusCode> AttemptAsync(string path, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await Proxy.SendAsync(request);
        return response.StatusCode;
    }

    /// <summary>Polls <paramref name="condition"/> every 20 ms; returns how long it took, or fails with the processes' output.</summary>
    public async Task<TimeSpan> WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, Func<string> what, LeakNodeProcess? watch = null)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!await condition())
        {
            if (watch is { HasExited: true })
            {
                throw new ProcessExpectationException($"leaknode exited while waiting for {what()}. Output:\n{AllOutput}");
            }
            if (clock.Elapsed > timeout)
            {
                throw new ProcessExpectationException($"Waited {timeout} for {what()}. Output:\n{AllOutput}");
            }
            await Task.Delay(20);
        }
        return clock.Elapsed;
    }

    private static async Task<HttpStatusCode?> TryGetAsync(HttpClient client, string path)
    {
        try
        {
            using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
            return response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    private static string Yaml(string path) => "'" + path.Replace("'", "''", StringComparison.Ordinal) + "'";

    public async ValueTask DisposeAsync()
    {
        if (Node is not null)
        {
            await Node.DisposeAsync();
        }
        if (Cloud is not null)
        {
            await Cloud.DisposeAsync();
        }
        if (_upstream is not null)
        {
            await _upstream.DisposeAsync();
        }
        Api.Dispose();
        Proxy.Dispose();
        Admin.Dispose();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A file still held by a dying process: the temp directory is cleaned by the OS.
        }
    }
}
