using System.CommandLine;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using LeakNode.Cloud;
using LeakNode.Cloud.Users;
using LeakNode.Node;

namespace LeakNode.Cli.Dev;

/// <summary>
/// <c>leaknode dev</c>: a cloud on SQLite under <c>./.leaknode/dev</c>, a node in block mode on
/// <c>http://127.0.0.1:8080</c> in front of a demo API, and the walkthrough printed. Everything runs in this one
/// process and stops on Ctrl+C. State (database, keys, the node's token and rule cache, the demo leak) is kept
/// in the data directory, so a second run continues where the first stopped.
/// </summary>
internal static class DevCommand
{
    public const string CloudHttp = "http://127.0.0.1:7070";
    public const string CloudGrpc = "http://127.0.0.1:7071";
    public const string NodeProxy = "http://127.0.0.1:8080";
    public const string NodeAdmin = "http://127.0.0.1:9090";
    public const string DevAdminEmail = ConsoleAdmin.DefaultEmail;

    public static Command Create()
    {
        var dataDir = new Option<DirectoryInfo>("--data-dir")
        {
            Description = "Where the dev cloud and node keep their state.",
            DefaultValueFactory = _ => new DirectoryInfo(Path.Combine(".leaknode", "dev")),
        };
        var http = UrlOption("--http", CloudHttp, "The cloud's REST API and console.");
        var grpc = UrlOption("--grpc", CloudGrpc, "The cloud's gRPC listener for nodes.");
        var proxy = UrlOption("--proxy", NodeProxy, "The node's proxy listener, in front of the demo API.");
        var admin = UrlOption("--admin", NodeAdmin, "The node's admin listener (health, metrics, status).");
        var command = new Command("dev", "Run a cloud, a node in block mode in front of a demo API, and the console on this machine, for trying LeakNode out.")
        {
            dataDir, http, grpc, proxy, admin,
        };
        command.SetAction((parse, cancellation) =>
        {
            var urls = new DevUrls(parse.GetValue(http)!, parse.GetValue(grpc)!, parse.GetValue(proxy)!, parse.GetValue(admin)!);
            return RunAsync(parse.GetValue(dataDir)!, urls, parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, cancellation);
        });
        return command;
    }

    private static Option<string> UrlOption(string name, string defaultValue, string description) => new(name)
    {
        Description = description + " Port 0 picks a free port.",
        DefaultValueFactory = _ => defaultValue,
    };

    private sealed record DevUrls(string Http, string Grpc, string Proxy, string Admin);

    private static async Task<int> RunAsync(DirectoryInfo dataDir, DevUrls urls, TextWriter output, TextWriter error, CancellationToken cancellation)
    {
        Directory.CreateDirectory(dataDir.FullName);
        var state = new DevState(dataDir.FullName);
        var adminKey = Environment.GetEnvironmentVariable("LEAKNODE_ADMIN_KEY") is { Length: > 0 } fromEnvironment
            ? fromEnvironment
            : state.ReadOrCreateSecret("admin.key", () => "lk_dev_" + Base64Url(RandomNumberGenerator.GetBytes(24)));
        // The console's admin: the same password on every run (kept beside the key), so the printed one always works.
        var adminPassword = Environment.GetEnvironmentVariable("LEAKNODE_Security__AdminPassword") is { Length: > 0 } passwordFromEnvironment
            ? passwordFromEnvironment
            : state.ReadOrCreateSecret("admin.password", ConsoleAdmin.GeneratePassword);

        CloudApplication? cloud = null;
        NodeApplication? node = null;
        Microsoft.AspNetCore.Builder.WebApplication? demo = null;
        try
        {
            try
            {
                cloud = await CloudApplication.StartAsync(CloudConfiguration(dataDir.FullName, adminKey, adminPassword, urls), ct: cancellation);
            }
            catch (CloudStartupException startup)
            {
                await error.WriteLineAsync(startup.Message);
                return Commands.ErrorExitCode;
            }

            demo = await DemoApi.StartAsync(cancellation);
            using var api = new HttpClient { BaseAddress = cloud.HttpUrl };
            api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);

            var nodeToken = await EnsureNodeAsync(api, state, cancellation);
            var demoLeak = await EnsureDemoLeakAsync(api, state, cancellation);

            try
            {
                node = await NodeApplication.StartAsync(NodeConfiguration(dataDir.FullName, urls, cloud.GrpcUrl, nodeToken, DemoApi.Address(demo)), cancellationToken: cancellation);
            }
            catch (NodeStartupException startup)
            {
                await error.WriteLineAsync(startup.Message);
                return Commands.ErrorExitCode;
            }
            await WaitReadyAsync(node, cancellation);

            await output.WriteLineAsync(Banner(cloud, node, adminKey, adminPassword, demoLeak, dataDir.FullName));
            await Shutdown.WaitAsync(cancellation);
            return 0;
        }
        catch (DevSetupException setup)
        {
            await error.WriteLineAsync("leaknode dev: " + setup.Message);
            return Commands.ErrorExitCode;
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            return 0;
        }
        finally
        {
            if (node is not null)
            {
                await node.DisposeAsync();
            }
            if (demo is not null)
            {
                await demo.DisposeAsync();
            }
            if (cloud is not null)
            {
                await cloud.DisposeAsync();
            }
        }
    }

    private static IConfiguration CloudConfiguration(string dataDir, string adminKey, string adminPassword, DevUrls urls) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Listen:Http"] = urls.Http,
                ["Listen:Grpc"] = urls.Grpc,
                ["DataDir"] = Path.Combine(dataDir, "cloud"),
                ["Storage:Provider"] = "sqlite",
                ["Storage:Sqlite:Path"] = Path.Combine(dataDir, "cloud", "cloud.db"),
                ["Security:AdminKey"] = adminKey,
                ["Security:AdminEmail"] = DevAdminEmail,
                ["Security:AdminPassword"] = adminPassword,
                // On one machine for trying it out, a source may be a folder or repository of this machine.
                ["Scanning:AllowLocalPaths"] = "true",
            })
            .AddEnvironmentVariables(ConfigurationFiles.EnvironmentPrefix)
            .Build();

    private static IConfiguration NodeConfiguration(string dataDir, DevUrls urls, Uri grpc, string token, Uri demoApi) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Node:Name"] = "dev-node",
                ["Node:Mode"] = "block",
                ["Cloud:GrpcUrl"] = grpc.ToString(),
                ["Cloud:Token"] = token,
                ["Listen:Proxy"] = urls.Proxy,
                ["Listen:Admin"] = urls.Admin,
                ["StateDir"] = Path.Combine(dataDir, "node"),
                ["ReverseProxy:Routes:all:ClusterId"] = "demo",
                ["ReverseProxy:Routes:all:Match:Path"] = "{**catch-all}",
                ["ReverseProxy:Clusters:demo:Destinations:d1:Address"] = demoApi.ToString(),
            })
            .Build();

    /// <summary>The node's token, from the last run when the cloud still knows that node, else a new node.</summary>
    private static async Task<string> EnsureNodeAsync(HttpClient api, DevState state, CancellationToken cancellation)
    {
        var saved = state.Read<SavedNode>("node.json");
        if (saved is not null)
        {
            var nodes = await Call<List<NodeView>>(api.GetAsync(new Uri("api/v1/nodes", UriKind.Relative), cancellation), "list nodes", cancellation);
            if (nodes.Exists(n => n.Id == saved.Id && !n.Revoked))
            {
                return saved.Token;
            }
        }
        var created = await Call<SavedNode>(
            api.PostAsJsonAsync(new Uri("api/v1/nodes", UriKind.Relative), new { name = "dev-node" }, cancellation), "enrol the dev node", cancellation);
        state.Write("node.json", created);
        return created.Token;
    }

    /// <summary>The demo leak (a generated, never-real GitHub-style token), created on the first run.</summary>
    private static async Task<DemoLeak> EnsureDemoLeakAsync(HttpClient api, DevState state, CancellationToken cancellation)
    {
        var saved = state.Read<DemoLeak>("demo-leak.json");
        if (saved is not null)
        {
            using var existing = await api.GetAsync(new Uri($"api/v1/leaks/{Uri.EscapeDataString(saved.LeakId)}", UriKind.Relative), cancellation);
            if (existing.IsSuccessStatusCode)
            {
                return saved;
            }
        }

        var token = "ghp_" + RandomAlphanumeric(36);
        var leak = await Call<LeakView>(
            api.PostAsJsonAsync(
                new Uri("api/v1/leaks", UriKind.Relative),
                new
                {
                    name = "Demo: GitHub token pasted in a public gist",
                    description = "Created by leaknode dev. The token is generated and was never valid anywhere.",
                    risk = 8,
                    tokens = new[] { token },
                    source = new { kind = "paste", url = "https://gist.example/demo" },
                },
                cancellation),
            "create the demo leak",
            cancellation);
        var demo = new DemoLeak(leak.Id, token);
        state.Write("demo-leak.json", demo);
        return demo;
    }

    private static async Task WaitReadyAsync(NodeApplication node, CancellationToken cancellation)
    {
        using var admin = new HttpClient { BaseAddress = node.AdminUrl };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            using var ready = await admin.GetAsync(new Uri("readyz", UriKind.Relative), cancellation);
            if (ready.StatusCode == HttpStatusCode.OK)
            {
                return;
            }
            await Task.Delay(100, cancellation);
        }
        throw new DevSetupException("the node did not receive its rules from the cloud within 30 s; see the log above");
    }

    private static string Banner(CloudApplication cloud, NodeApplication node, string adminKey, string adminPassword, DemoLeak demo, string dataDir)
    {
        var http = cloud.HttpUrl.ToString().TrimEnd('/');
        var proxy = node.ProxyUrl.ToString().TrimEnd('/');
        const string comment = "{\"comment\":\"block it\"}";
        return $"""

            LeakNode dev is running (Ctrl+C stops it).
              console               {http}/
              console sign-in       {cloud.BootstrapAdminEmail}  /  {adminPassword}
              cloud REST API        {http}/api/v1     (OpenAPI: {http}/openapi/v1.json)
              admin API key         {adminKey}
              node (block mode)     {proxy}  ->  demo API;  admin {node.AdminUrl.ToString().TrimEnd('/')}/status

            Try it. A request with the demo leak's token passes while the leak is only watched (an attempt is reported):
              curl -i {proxy}/api/orders -H 'Authorization: Bearer {demo.Token}'

            Apply the virtual patch to the leak:
              curl -s -X POST {http}/api/v1/leaks/{demo.LeakId}/vpatch -H 'Authorization: Bearer {adminKey}' -H 'Content-Type: application/json' -d '{comment}'

            Now the same request is blocked (403) by the node, within a second:
              curl -i {proxy}/api/orders -H 'Authorization: Bearer {demo.Token}'

            The attempts:  curl -s '{http}/api/v1/attacks?type=vpatch' -H 'Authorization: Bearer {adminKey}'
            Start over:    POST .../close then .../reopen on the leak, or delete {dataDir} while stopped.
            """;
    }

    private static async Task<T> Call<T>(Task<HttpResponseMessage> call, string what, CancellationToken cancellation)
    {
        using var response = await call;
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync(cancellation);
            throw new DevSetupException($"could not {what}: the cloud answered {(int)response.StatusCode} {body}");
        }
        return await response.Content.ReadFromJsonAsync<T>(Json, cancellation)
            ?? throw new DevSetupException($"could not {what}: the cloud answered an empty body");
    }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string RandomAlphanumeric(int length)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        return RandomNumberGenerator.GetString(alphabet, length);
    }

    private sealed record SavedNode(string Id, string Name, string Token);

    private sealed record NodeView(string Id, string Name, [property: JsonPropertyName("revoked")] bool Revoked);

    private sealed record LeakView(string Id);

    private sealed record DemoLeak(string LeakId, string Token);

    /// <summary>Files under the data directory, owner-only: the dev admin key, the node token, the demo leak.</summary>
    private sealed class DevState(string directory)
    {
        public T? Read<T>(string name)
            where T : class
        {
            var path = Path.Combine(directory, name);
            if (!File.Exists(path))
            {
                return null;
            }
            try
            {
                return JsonSerializer.Deserialize<T>(File.ReadAllText(path), Json);
            }
            catch (JsonException)
            {
                return null; // a damaged file is replaced by a fresh one
            }
        }

        public void Write<T>(string name, T value) => WriteOwnerOnly(Path.Combine(directory, name), JsonSerializer.Serialize(value, Json));

        public string ReadOrCreateSecret(string name, Func<string> create)
        {
            var path = Path.Combine(directory, name);
            if (File.Exists(path))
            {
                return File.ReadAllText(path).Trim();
            }
            var secret = create();
            WriteOwnerOnly(path, secret);
            return secret;
        }

        private static void WriteOwnerOnly(string path, string text)
        {
            var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }
            using var file = new StreamWriter(path, System.Text.Encoding.UTF8, options);
            file.Write(text);
        }
    }

    private sealed class DevSetupException(string message) : Exception(message);
}
