using System.Data.Common;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using LeakNode.Cloud.Attacks;
using LeakNode.Cloud.Auth;
using LeakNode.Cloud.Configuration;
using LeakNode.Cloud.Diagnostics;
using LeakNode.Cloud.Hosting;
using LeakNode.Cloud.Inventory;
using LeakNode.Cloud.Leaks;
using LeakNode.Cloud.Nodes;
using LeakNode.Cloud.Notifications;
using LeakNode.Cloud.Rules;
using LeakNode.Cloud.Security;
using LeakNode.Cloud.Sources;
using LeakNode.Cloud.Storage;
using LeakNode.Cloud.Sync;
using LeakNode.Hosting;
using LeakNode.Cloud.Users;
using LeakNode.Cloud.WebConsole;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LeakNode.Cloud;

/// <summary>
/// A running cloud: one web host with two listeners, <c>Listen:Http</c> (REST API, OpenAPI, <c>/healthz</c>) and
/// <c>Listen:Grpc</c> (the node protocol, HTTP/2 only). Each endpoint answers on its own listener only
/// (<see cref="ListenerSeparation"/>), so the node port never exposes the API and the API port never the protocol.
/// </summary>
public sealed partial class CloudApplication : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ListenerPorts _ports;
    private readonly SecretBox _box;
    private readonly ILogger _logger;
    private bool _stopped;

    private CloudApplication(CloudConfiguration configuration, WebApplication app, ListenerPorts ports, SecretBox box, ILogger logger, string? bootstrapAdminKey)
    {
        Configuration = configuration;
        _app = app;
        _ports = ports;
        _box = box;
        _logger = logger;
        BootstrapAdminKey = bootstrapAdminKey;
    }

    public CloudConfiguration Configuration { get; }

    /// <summary>The REST listener's address (the real port when the configuration says 0).</summary>
    public Uri HttpUrl => _ports.Url(ListenerPorts.Http);

    /// <summary>The gRPC listener's address (the real port when the configuration says 0).</summary>
    public Uri GrpcUrl => _ports.Url(ListenerPorts.Grpc);

    /// <summary>The admin API key generated at this start (first start without <c>LEAKNODE_ADMIN_KEY</c>), else null.</summary>
    public string? BootstrapAdminKey { get; }

    /// <summary>The console's bootstrap admin (<c>Security:AdminEmail</c>, default <c>admin@leaknode.local</c>).</summary>
    public string BootstrapAdminEmail { get; private init; } = "";

    /// <summary>The console admin's password generated at this start (first start without <c>Security:AdminPassword</c>), else null.</summary>
    public string? BootstrapAdminPassword { get; private init; }

    /// <summary>The cloud's services, for the node protocol and for tests.</summary>
    internal IServiceProvider Services => _app.Services;

    /// <summary>
    /// Checks the configuration, opens and migrates the database, loads or makes the keys, and starts both
    /// listeners. Any problem stops start-up with every problem listed (<see cref="CloudStartupException"/>).
    /// </summary>
    public static Task<CloudApplication> StartAsync(IConfiguration configuration, Action<ILoggingBuilder>? logging = null, CancellationToken ct = default) =>
        StartAsync(configuration, logging, mapGrpc: null, ct);

    /// <param name="mapGrpc">Maps extra endpoints on the gRPC listener (tests of the listener separation).</param>
    internal static async Task<CloudApplication> StartAsync(
        IConfiguration configuration, Action<ILoggingBuilder>? logging, Action<IEndpointRouteBuilder>? mapGrpc, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var (settings, problems) = CloudConfiguration.Load(configuration);
        if (problems.Count > 0)
        {
            throw new CloudStartupException(problems);
        }

        byte[] masterKey;
        string? masterKeyCreated;
        try
        {
            (masterKey, masterKeyCreated) = MasterKey.LoadOrCreate(settings);
            if (settings.Storage.Provider == StorageProvider.Sqlite)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(settings.SqlitePath))!);
            }
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            throw new CloudStartupException([$"DataDir: cannot keep the cloud's files in '{Path.GetFullPath(settings.DataDir)}': {error.Message}"]);
        }

        var box = new SecretBox(masterKey);
        CryptographicOperations.ZeroMemory(masterKey);
        var database = new CloudDatabase(settings);
        IReadOnlyList<int> migrated;
        DeploymentKeyring keyring;
        bool keyringCreated;
        long version;
        try
        {
            migrated = await SchemaMigrations.ApplyAsync(database, ct);
            (keyring, keyringCreated) = await DeploymentKeyring.LoadOrCreateAsync(database, box, ct);
            version = await database.ReadAsync(RuleFeed.CurrentAsync, ct);
        }
        catch (Exception error) when (error is DbException or InvalidOperationException)
        {
            box.Dispose();
            throw new CloudStartupException([$"Storage: cannot use the database at {database.Location}: {error.Message}"]);
        }
        catch (CryptographicException)
        {
            box.Dispose();
            throw new CloudStartupException([
                $"Security:MasterKey: this master key does not open the database at {database.Location}: it was made with another one "
                + $"(Security:MasterKey, or {MasterKey.FileName} in DataDir); start with the key it was made with"]);
        }

        var ports = new ListenerPorts(settings.Listen);
        var app = Build(configuration, settings, database, box, keyring, version, ports, logging, mapGrpc);
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("LeakNode.Cloud");
        if (masterKeyCreated is not null)
        {
            Log.MasterKeyCreated(logger, masterKeyCreated);
        }
        if (migrated.Count > 0)
        {
            Log.SchemaMigrated(logger, database.Location, string.Join(", ", migrated));
        }
        if (keyringCreated)
        {
            Log.DeploymentKeyCreated(logger, keyring.KeyId);
        }

        string? bootstrapKey;
        try
        {
            bootstrapKey = await app.Services.GetRequiredService<ApiKeyStore>().BootstrapAsync(settings.Security.AdminKey, ct);
            if (database.Provider == StorageProvider.Sqlite)
            {
                await app.Services.GetRequiredService<NodeRegistry>().ResetConnectionsAsync(ct);
            }
        }
        catch (DbException error)
        {
            await app.DisposeAsync();
            box.Dispose();
            throw new CloudStartupException([$"Storage: cannot use the database at {database.Location}: {error.Message}"]);
        }

        string? bootstrapPassword;
        try
        {
            await using var scope = app.Services.CreateAsyncScope();
            bootstrapPassword = await scope.ServiceProvider.GetRequiredService<ConsoleUsers>().BootstrapAsync(settings.Security);
        }
        catch (Exception error) when (error is DbException or InvalidOperationException)
        {
            await app.DisposeAsync();
            box.Dispose();
            throw new CloudStartupException([$"Security:AdminPassword: cannot make the console's admin user in {database.Location}: {error.Message}"]);
        }

        var cloud = new CloudApplication(settings, app, ports, box, logger, bootstrapKey)
        {
            BootstrapAdminEmail = settings.Security.AdminEmail ?? ConsoleUsers.DefaultAdminEmail,
            BootstrapAdminPassword = bootstrapPassword,
        };
        try
        {
            await app.StartAsync(ct);
        }
        catch (Exception error) when (error is IOException or InvalidOperationException)
        {
            await cloud.DisposeAsync();
            throw new CloudStartupException([$"Listen: cannot start listening: {error.Message}"]);
        }
        Log.Started(logger, cloud.HttpUrl, cloud.GrpcUrl, database.Location, version);
        return cloud;
    }

    private static WebApplication Build(
        IConfiguration configuration, CloudConfiguration settings, CloudDatabase database, SecretBox box, DeploymentKeyring keyring,
        long ruleVersion, ListenerPorts ports, Action<ILoggingBuilder>? logging, Action<IEndpointRouteBuilder>? mapGrpc)
    {
        // Content root: the program's folder, where a published build keeps the console's static files (wwwroot),
        // not the working directory. UseStaticWebAssets finds them in a build that is not published (it is a no-op
        // when there is no manifest).
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production, ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseStaticWebAssets();
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddConfiguration(configuration);
        HostingDefaults.ConfigureLogging(builder, logging, "Grpc");
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = settings.Listen.ShutdownTimeout);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            var http = new Uri(settings.Listen.Http);
            X509Certificate2? certificate = http.Scheme == Uri.UriSchemeHttps
                ? X509Certificate2.CreateFromPemFile(settings.Listen.Certificate.Path!, settings.Listen.Certificate.KeyPath)
                : null;
            HostingDefaults.Listen(kestrel, http, endpoint =>
            {
                endpoint.Protocols = certificate is null ? HttpProtocols.Http1 : HttpProtocols.Http1AndHttp2;
                if (certificate is not null)
                {
                    endpoint.UseHttps(certificate);
                }
                ports.Bind(ListenerPorts.Http, endpoint);
            });
            HostingDefaults.Listen(kestrel, new Uri(settings.Listen.Grpc), endpoint =>
            {
                // Prior-knowledge HTTP/2 (h2c): without TLS there is no ALPN to choose a version with.
                endpoint.Protocols = HttpProtocols.Http2;
                ports.Bind(ListenerPorts.Grpc, endpoint);
            });
        });

        var services = builder.Services;
        services.AddSingleton(settings);
        services.AddSingleton(database);
        services.AddSingleton(box);
        services.AddSingleton(TimeProvider.System);
        if (database.Provider == StorageProvider.Postgres)
        {
            // Replicas over one database: versions committed elsewhere arrive through LISTEN/NOTIFY.
            services.AddSingleton(sp => new PostgresRuleVersionSignal(database, ruleVersion, sp.GetRequiredService<ILogger<PostgresRuleVersionSignal>>()));
            services.AddSingleton<IRuleVersionSignal>(sp => sp.GetRequiredService<PostgresRuleVersionSignal>());
            services.AddHostedService(sp => sp.GetRequiredService<PostgresRuleVersionSignal>());
        }
        else
        {
            services.AddSingleton<IRuleVersionSignal>(new InProcessRuleVersionSignal(ruleVersion));
        }
        services.AddSingleton<IDeploymentKeyring>(keyring);
        services.AddSingleton<LeakStore>();
        services.AddSingleton<RuleFeed>();
        services.AddSingleton<IRuleFeed>(sp => sp.GetRequiredService<RuleFeed>());
        services.AddSingleton<ApiKeyStore>();
        services.AddSingleton<NodeRegistry>();
        services.AddSingleton<INodeRegistry>(sp => sp.GetRequiredService<NodeRegistry>());
        services.AddSingleton<AttackStore>();
        services.AddSingleton<IAttackStore>(sp => sp.GetRequiredService<AttackStore>());
        services.AddSingleton<AttackMaintenance>();
        services.AddHostedService(sp => sp.GetRequiredService<AttackMaintenance>());
        services.AddSingleton(ports);
        services.AddNotifications(settings);
        services.AddInventory();
        services.AddSources(settings);
        services.AddApiKeyAuth();
        services.AddWebConsole(settings);
        services.AddProblemDetails();
        services.ConfigureHttpJsonOptions(o => Api.JsonBody.Configure(o.SerializerOptions));
        services.AddOpenApi(o => o.DescribeApiKey());
        services.AddGrpc();
        services.AddNodeSync();

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseRouting();
        app.UseMiddleware<ListenerSeparation>();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAntiforgery();

        // ── Listen:Http: REST API, OpenAPI, /healthz ──
        var rest = app.MapGroup("").WithMetadata(ListenerSeparation.HttpOnly);
        rest.MapGet("/healthz", HealthAsync).ExcludeFromDescription();
        rest.MapOpenApi().RequireAuthorization(AuthPolicies.Reader);
        var api = rest.MapGroup("").RequireAuthorization(AuthPolicies.Reader);
        api.MapLeaksApi();
        api.MapNodesApi();
        api.MapApiKeysApi();
        api.MapAttacksApi();
        api.MapIntegrationsApi();
        api.MapInventoryApi();
        api.MapSourcesApi();
        // ── Listen:Http: the console (cookie sign-in; /api/* above stays API-key only) ──
        app.MapWebConsole();

        // ── Listen:Grpc: the node protocol ──
        // Nodes authenticate with their node token, which the service checks itself (NodeSyncService); API keys
        // are for people and scripts on the REST listener.
        app.MapNodeSync();
        mapGrpc?.Invoke(app);
        return app;
    }

    private static async Task<IResult> HealthAsync(CloudDatabase database, HttpContext context)
    {
        try
        {
            await using var connection = await database.OpenAsync(context.RequestAborted);
            return TypedResults.Text("ok\n");
        }
        catch (DbException)
        {
            return TypedResults.Text("unhealthy: the database does not answer\n", statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }

    /// <summary>Stops taking requests and lets those in flight finish (Listen:ShutdownTimeout).</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (_stopped)
        {
            return;
        }
        _stopped = true;
        Log.Stopping(_logger);
        await _app.StopAsync(cancellationToken);
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
            await _app.DisposeAsync();
            _box.Dispose();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.Started, LogLevel.Information, "Cloud started: REST on {HttpUrl}, nodes (gRPC) on {GrpcUrl}, data in {Database}, rule version {Version}")]
        public static partial void Started(ILogger logger, Uri httpUrl, Uri grpcUrl, string database, long version);

        [LoggerMessage(EventIds.Stopping, LogLevel.Information, "Cloud stopping: finishing requests in flight")]
        public static partial void Stopping(ILogger logger);

        [LoggerMessage(EventIds.Stopped, LogLevel.Information, "Cloud stopped")]
        public static partial void Stopped(ILogger logger);

        [LoggerMessage(EventIds.MasterKeyCreated, LogLevel.Warning,
            "Generated a new master key at {Path} (no Security:MasterKey was set). Every leaked token is encrypted with it: BACK IT UP NOW. Without it the stored tokens cannot be read; set it as Security:MasterKey in production")]
        public static partial void MasterKeyCreated(ILogger logger, string path);

        [LoggerMessage(EventIds.DeploymentKeyCreated, LogLevel.Information, "Generated the deployment digest key {KeyId}; it is stored encrypted in the database")]
        public static partial void DeploymentKeyCreated(ILogger logger, string keyId);

        [LoggerMessage(EventIds.SchemaMigrated, LogLevel.Information, "Database {Database}: applied schema migrations {Versions}")]
        public static partial void SchemaMigrated(ILogger logger, string database, string versions);
    }
}

/// <summary>The cloud cannot start: its configuration, files or database have problems, each named.</summary>
public sealed class CloudStartupException : Exception
{
    public CloudStartupException(IReadOnlyList<string> problems)
        : base("The cloud cannot start:\n" + string.Join('\n', problems.Select(p => "  - " + p)))
    {
        Problems = problems;
    }

    public CloudStartupException()
        : this(["unknown problem"])
    {
    }

    public CloudStartupException(string message)
        : this([message])
    {
    }

    public CloudStartupException(string message, Exception innerException)
        : base(message, innerException)
    {
        Problems = [message];
    }

    /// <summary>One line per problem, each starting with the configuration key it concerns.</summary>
    public IReadOnlyList<string> Problems { get; }
}
