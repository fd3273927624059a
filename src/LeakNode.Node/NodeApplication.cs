using System.Security.Cryptography.X509Certificates;
using LeakNode.Hosting;
using LeakNode.Matching;
using LeakNode.Node.Admin;
using LeakNode.Node.Configuration;
using LeakNode.Node.Diagnostics;
using LeakNode.Node.Events;
using LeakNode.Node.Inspection;
using LeakNode.Node.Rules;
using LeakNode.Node.RuleSync;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.ObjectPool;
using OpenTelemetry.Metrics;

namespace LeakNode.Node;

/// <summary>
/// A running node: the proxy listener (YARP with inspection in its pipeline) and the admin listener (health,
/// readiness, metrics, status), sharing the rule set in force and the event queue. Two listeners are two hosts,
/// so that the admin endpoints can never be reached through the proxy port, whatever the routes say.
/// </summary>
public sealed partial class NodeApplication : IAsyncDisposable
{
    private readonly WebApplication _proxy;
    private readonly WebApplication _admin;
    private readonly RuleFileSource? _ruleFile;
    private readonly CloudLink? _cloud;
    private readonly EventAggregator _events;
    private readonly NodeMetrics _metrics;
    private readonly ILogger _logger;
    private bool _stopped;

    private NodeApplication(
        NodeConfiguration configuration, WebApplication proxy, WebApplication admin, RuleState rules, EventQueue queue,
        EventAggregator events, RuleFileSource? ruleFile, CloudLink? cloud, NodeMetrics metrics, ILogger logger)
    {
        Configuration = configuration;
        _proxy = proxy;
        _admin = admin;
        Rules = rules;
        Events = queue;
        _events = events;
        _ruleFile = ruleFile;
        _cloud = cloud;
        _metrics = metrics;
        _logger = logger;
    }

    public NodeConfiguration Configuration { get; }

    /// <summary>The proxy listener's address once started (the real port when the configuration says 0).</summary>
    public Uri ProxyUrl => Address(_proxy);

    /// <summary>The admin listener's address once started.</summary>
    public Uri AdminUrl => Address(_admin);

    /// <summary>Attack events waiting for the cloud.</summary>
    internal EventQueue Events { get; }

    internal RuleState Rules { get; }

    /// <summary>Reloads the rule file now, as a change to it would. Returns the problems (none: the new rules are in force).</summary>
    public IReadOnlyList<string> ReloadRules() => _ruleFile?.Load() ?? [];

    /// <summary>Emits the attack events still being aggregated, without waiting for their window to close.</summary>
    public void FlushEvents() => _events.Flush(all: true);

    /// <summary>
    /// Checks the configuration, loads the rules and starts both listeners. A configuration or rule file with
    /// problems stops start-up with every problem listed (<see cref="NodeStartupException"/>).
    /// </summary>
    public static async Task<NodeApplication> StartAsync(IConfiguration configuration, Action<ILoggingBuilder>? logging = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var (settings, problems) = NodeConfiguration.Load(configuration);
        if (problems.Count > 0)
        {
            throw new NodeStartupException(problems);
        }

        var rules = new RuleState();
        EventQueue? queue = null;
        var metrics = new NodeMetrics(
            () => rules.Current?.Version ?? 0,
            () => rules.Current?.TokenCount ?? 0,
            () => rules.Current?.LeakCount ?? 0,
            () => queue?.Count ?? 0);
        queue = new EventQueue(settings.Events.QueueCapacity, metrics);

        var proxy = BuildProxy(configuration, settings, rules, queue, metrics, logging);
        var logger = proxy.Services.GetRequiredService<ILoggerFactory>().CreateLogger("LeakNode.Node");

        RuleFileSource? ruleFile = null;
        if (!string.IsNullOrWhiteSpace(settings.Rules.File))
        {
            DigestKeyResult key;
            try
            {
                key = LoadKey(settings.StateDir);
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                await proxy.DisposeAsync();
                throw new NodeStartupException([$"StateDir: cannot keep the node key in '{settings.StateDir}': {error.Message}"]);
            }
            if (key.Created)
            {
                Log.KeyCreated(logger, Path.GetFullPath(Path.Combine(settings.StateDir, NodeKey.FileName)));
            }
            ruleFile = new RuleFileSource(settings.Rules, key.Key, rules, MatcherLimits.Default, proxy.Services.GetRequiredService<ILoggerFactory>().CreateLogger("LeakNode.Rules"));
            var ruleProblems = ruleFile.LoadInitial();
            if (ruleProblems.Count > 0)
            {
                ruleFile.Dispose();
                await proxy.DisposeAsync();
                throw new NodeStartupException([.. ruleProblems.Select(p => $"Rules:File: {p}")]);
            }
        }

        CloudLink? cloud = null;
        if (settings.Cloud.Configured)
        {
            try
            {
                // Before the listeners open: the cached rules are in force (and /readyz says so) from the first request.
                cloud = CloudLink.Create(settings, rules, queue, metrics, proxy.Services.GetRequiredService<ILoggerFactory>());
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException)
            {
                await proxy.DisposeAsync();
                throw new NodeStartupException([$"StateDir: cannot keep the cloud's rules and the event spool in '{settings.StateDir}': {error.Message}"]);
            }
        }

        var admin = BuildAdmin(configuration, settings, rules, queue, cloud, metrics, logging);
        var events = proxy.Services.GetRequiredService<EventAggregator>();
        var node = new NodeApplication(settings, proxy, admin, rules, queue, events, ruleFile, cloud, metrics, logger);
        try
        {
            await admin.StartAsync(cancellationToken);
            await proxy.StartAsync(cancellationToken);
            if (cloud is not null)
            {
                await cloud.StartAsync(cancellationToken);
            }
        }
        catch (Exception error) when (error is IOException or InvalidOperationException)
        {
            await node.DisposeAsync();
            throw new NodeStartupException([$"Listen: cannot start listening: {error.Message}"]);
        }
        Log.Started(logger, settings.Node.Name, settings.Node.Mode, node.ProxyUrl, node.AdminUrl);
        return node;
    }

    private readonly record struct DigestKeyResult(Matching.Digests.DigestKey Key, bool Created);

    private static DigestKeyResult LoadKey(string stateDir)
    {
        var (key, created) = NodeKey.LoadOrCreate(stateDir);
        return new DigestKeyResult(key, created);
    }

    private static WebApplication BuildProxy(
        IConfiguration configuration, NodeConfiguration settings, RuleState rules, EventQueue queue, NodeMetrics metrics, Action<ILoggingBuilder>? logging)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production });
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddConfiguration(configuration);
        HostingDefaults.ConfigureLogging(builder, logging, "Yarp");
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = settings.Listen.ShutdownTimeout);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // The node applies its own body policy (Inspection:BodyTooLarge); the upstream keeps its own limit.
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.AddServerHeader = false;
            var url = new Uri(settings.Listen.Proxy);
            var https = url.Scheme == Uri.UriSchemeHttps;
            var protocols = settings.Listen.Protocols ?? (https ? HttpProtocols.Http1AndHttp2 : HttpProtocols.Http1);
            X509Certificate2? certificate = null;
            if (https)
            {
                certificate = X509Certificate2.CreateFromPemFile(settings.Listen.Certificate.Path!, settings.Listen.Certificate.KeyPath);
            }
            HostingDefaults.Listen(kestrel, url, endpoint =>
            {
                endpoint.Protocols = protocols;
                if (certificate is not null)
                {
                    endpoint.UseHttps(certificate);
                }
            });
        });

        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton(rules);
        builder.Services.AddSingleton(queue);
        builder.Services.AddSingleton(metrics);
        builder.Services.AddSingleton(new ClientAddress(settings.Network.TrustedProxies));
        builder.Services.AddSingleton<ObjectPool<InspectionContext>>(
            new DefaultObjectPool<InspectionContext>(new InspectionContext.Policy(), Environment.ProcessorCount * 64));
        builder.Services.AddSingleton(sp => new EventAggregator(
            settings.Events.AggregationWindow, queue, settings.Events.Log, sp.GetRequiredService<ILoggerFactory>().CreateLogger("LeakNode.Events")));
        builder.Services.AddSingleton<InspectionMiddleware>();
        builder.Services.AddReverseProxy().LoadFromConfig(configuration.GetSection("ReverseProxy"));

        var app = builder.Build();
        var inspection = app.Services.GetRequiredService<InspectionMiddleware>();
        app.MapReverseProxy(pipeline =>
        {
            pipeline.Use(inspection.InvokeAsync);
            pipeline.UseSessionAffinity();
            pipeline.UseLoadBalancing();
            pipeline.UsePassiveHealthChecks();
        });
        return app;
    }

    private static WebApplication BuildAdmin(
        IConfiguration configuration, NodeConfiguration settings, RuleState rules, EventQueue queue, CloudLink? cloud, NodeMetrics metrics, Action<ILoggingBuilder>? logging)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production });
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddConfiguration(configuration);
        HostingDefaults.ConfigureLogging(builder, logging, "Yarp");
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            HostingDefaults.Listen(kestrel, new Uri(settings.Listen.Admin), endpoint => endpoint.Protocols = HttpProtocols.Http1);
        });
        builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddMeter(metrics.MeterName).AddPrometheusExporter());

        var app = builder.Build();
        app.MapAdminEndpoints(settings, rules, queue, cloud);
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }

    private static Uri Address(WebApplication app)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
        var address = addresses?.FirstOrDefault() ?? throw new InvalidOperationException("The listener has not started.");
        return new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal));
    }

    /// <summary>
    /// Stops taking requests, lets those in flight finish (Listen:ShutdownTimeout), then emits the events still open;
    /// a node with a cloud then closes its streams and spools the events not delivered.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (_stopped)
        {
            return;
        }
        _stopped = true;
        Log.Stopping(_logger);
        await _proxy.StopAsync(cancellationToken);
        _ruleFile?.Dispose();
        _events.Flush(all: true);
        if (_cloud is not null)
        {
            // After the last flush, so that every event is either delivered or spooled.
            await _cloud.StopAsync(cancellationToken);
        }
        await _admin.StopAsync(cancellationToken);
        Log.Stopped(_logger);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        finally
        {
            await _proxy.DisposeAsync();
            await _admin.DisposeAsync();
            _cloud?.Dispose();
            _metrics.Dispose();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.Started, LogLevel.Information, "Node {Name} started in {Mode} mode: proxy on {ProxyUrl}, admin on {AdminUrl}")]
        public static partial void Started(ILogger logger, string name, NodeMode mode, Uri proxyUrl, Uri adminUrl);

        [LoggerMessage(EventIds.Stopping, LogLevel.Information, "Node stopping: finishing requests in flight")]
        public static partial void Stopping(ILogger logger);

        [LoggerMessage(EventIds.Stopped, LogLevel.Information, "Node stopped")]
        public static partial void Stopped(ILogger logger);

        [LoggerMessage(EventIds.KeyCreated, LogLevel.Warning, "Created a new node key at {Path}: token fingerprints of this node derive from it; keep it (and back it up) to keep them stable")]
        public static partial void KeyCreated(ILogger logger, string path);
    }
}

/// <summary>The node cannot start: its configuration or rule file has problems, each named.</summary>
public sealed class NodeStartupException : Exception
{
    public NodeStartupException(IReadOnlyList<string> problems)
        : base("The node cannot start:\n" + string.Join('\n', problems.Select(p => "  - " + p)))
    {
        Problems = problems;
    }

    public NodeStartupException()
        : this(["unknown problem"])
    {
    }

    public NodeStartupException(string message)
        : this([message])
    {
    }

    public NodeStartupException(string message, Exception innerException)
        : base(message, innerException)
    {
        Problems = [message];
    }

    public IReadOnlyList<string> Problems { get; }
}
