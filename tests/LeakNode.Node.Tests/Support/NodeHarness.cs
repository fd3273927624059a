using System.Collections.Concurrent;
using System.Text;
using LeakNode.Node.Events;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace LeakNode.Node.Tests.Support;

/// <summary>
/// A node started for real in front of a real <see cref="Upstream"/>, both on loopback ports chosen by the OS,
/// with a rule file in a temporary folder. Collects every log line the node writes.
/// </summary>
public sealed class NodeHarness : IAsyncDisposable
{
    private readonly string _folder;

    private NodeHarness(string folder, Upstream upstream, NodeApplication node, ConcurrentQueue<string> logs)
    {
        _folder = folder;
        Upstream = upstream;
        Node = node;
        Logs = logs;
        Client = new HttpClient { BaseAddress = node.ProxyUrl };
        Admin = new HttpClient { BaseAddress = node.AdminUrl };
    }

    public Upstream Upstream { get; }

    public NodeApplication Node { get; }

    public HttpClient Client { get; }

    public HttpClient Admin { get; }

    public ConcurrentQueue<string> Logs { get; }

    public string RuleFile => Path.Combine(_folder, "rules.yaml");

    public string Folder => _folder;

    /// <summary>Starts a node whose rule file holds <paramref name="leaks"/> (id, action, tokens); <paramref name="settings"/> override the defaults.</summary>
    public static async Task<NodeHarness> StartAsync(IEnumerable<(string Id, string Action, string[] Tokens)> leaks, IDictionary<string, string?>? settings = null, bool http2Upstream = false)
    {
        var folder = Directory.CreateTempSubdirectory("leaknode-node-test-").FullName;
        await File.WriteAllTextAsync(Path.Combine(folder, "rules.yaml"), RulesYaml(leaks));
        var values = new Dictionary<string, string?>
        {
            ["Rules:File"] = Path.Combine(folder, "rules.yaml"),
            ["Rules:ReloadDelay"] = "00:00:00.100",
        };
        return await StartNodeAsync(folder, values, settings, http2Upstream);
    }

    /// <summary>
    /// Starts a node that takes its rules from the cloud(s) at <paramref name="cloudUrls"/>, keeping its state in
    /// <paramref name="stateDir"/> (which outlives the harness, for restarts). Reconnects and batches are quick.
    /// </summary>
    public static async Task<NodeHarness> StartWithCloudAsync(IEnumerable<string> cloudUrls, string token, string stateDir, IDictionary<string, string?>? settings = null)
    {
        var folder = Directory.CreateTempSubdirectory("leaknode-node-test-").FullName;
        var values = new Dictionary<string, string?>
        {
            ["Cloud:Token"] = token,
            ["Cloud:ReconnectInitialDelay"] = "00:00:00.050",
            ["Cloud:ReconnectMaxDelay"] = "00:00:00.400",
            ["Cloud:ConnectTimeout"] = "00:00:01",
            ["Events:BatchInterval"] = "00:00:00.050",
            ["Events:AggregationWindow"] = "00:00:00",
            ["StateDir"] = stateDir,
        };
        var i = 0;
        foreach (var url in cloudUrls)
        {
            values[$"Cloud:GrpcUrls:{i++}"] = url;
        }
        return await StartNodeAsync(folder, values, settings, http2Upstream: false);
    }

    private static async Task<NodeHarness> StartNodeAsync(string folder, Dictionary<string, string?> source, IDictionary<string, string?>? settings, bool http2Upstream)
    {
        var upstream = await Upstream.StartAsync(http2Upstream);
        var values = new Dictionary<string, string?>
        {
            ["Node:Name"] = "test-node",
            ["Node:Mode"] = "block",
            ["Listen:Proxy"] = "http://127.0.0.1:0",
            ["Listen:Admin"] = "http://127.0.0.1:0",
            ["Listen:ShutdownTimeout"] = "00:00:05",
            ["StateDir"] = Path.Combine(folder, "state"),
            ["Events:AggregationWindow"] = "00:00:01",
            ["ReverseProxy:Routes:all:ClusterId"] = "app",
            ["ReverseProxy:Routes:all:Match:Path"] = "{**catch-all}",
            ["ReverseProxy:Clusters:app:Destinations:d1:Address"] = upstream.Url.ToString(),
        };
        if (http2Upstream)
        {
            values["ReverseProxy:Clusters:app:HttpRequest:Version"] = "2";
            values["ReverseProxy:Clusters:app:HttpRequest:VersionPolicy"] = "RequestVersionExact";
        }
        foreach (var (key, value) in source.Concat(settings ?? new Dictionary<string, string?>()))
        {
            values[key] = value;
        }
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var logs = new ConcurrentQueue<string>();
        NodeApplication node;
        try
        {
            node = await NodeApplication.StartAsync(configuration, logging => logging.AddProvider(new CollectingLoggerProvider(logs)));
        }
        catch
        {
            await upstream.DisposeAsync();
            throw;
        }
        return new NodeHarness(folder, upstream, node, logs);
    }

    /// <summary>The node's <c>/status</c> document.</summary>
    public async Task<System.Text.Json.JsonElement> StatusAsync()
    {
        using var document = System.Text.Json.JsonDocument.Parse(await Admin.GetStringAsync(new Uri("/status", UriKind.Relative)));
        return document.RootElement.Clone();
    }

    public static string RulesYaml(IEnumerable<(string Id, string Action, string[] Tokens)> leaks)
    {
        var yaml = new StringBuilder("leaks:\n");
        foreach (var (id, action, tokens) in leaks)
        {
            yaml.Append("  - id: ").Append(id).Append("\n    name: test leak ").Append(id).Append("\n    action: ").Append(action).Append("\n    tokens:\n");
            foreach (var token in tokens)
            {
                yaml.Append("      - '").Append(token.Replace("'", "''", StringComparison.Ordinal)).Append("'\n");
            }
        }
        return yaml.ToString();
    }

    /// <summary>The attack events so far (aggregation windows closed early).</summary>
    public List<AttackEvent> Events()
    {
        Node.FlushEvents();
        return Node.Events.Drain();
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        Admin.Dispose();
        await Node.DisposeAsync();
        await Upstream.DisposeAsync();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private sealed class CollectingLoggerProvider(ConcurrentQueue<string> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, lines);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines.Enqueue($"{logLevel} {category}[{eventId.Id}] {formatter(state, exception)} {exception}");
        }
    }
}
