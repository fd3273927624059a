using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace LeakNode.Cloud.Configuration;

/// <summary>
/// Everything the cloud is configured with, from <c>cloud.yaml</c> and <c>LEAKNODE_</c> environment variables
/// (CONTRACT.md). Sections other than these (<c>Logging</c>, a dev setup's <c>Node</c>, …) belong to others.
/// </summary>
public sealed class CloudConfiguration
{
    public CloudListenOptions Listen { get; set; } = new();

    public StorageOptions Storage { get; set; } = new();

    public SecurityOptions Security { get; set; } = new();

    public LimitOptions Limits { get; set; } = new();

    public Notifications.NotificationOptions Notifications { get; set; } = new();

    public Sources.ScanningOptions Scanning { get; set; } = new();

    /// <summary>Where the cloud keeps its files: the SQLite database and the generated master key. Default <c>./.leaknode</c>.</summary>
    public string DataDir { get; set; } = "./.leaknode";

    /// <summary>The SQLite file: <c>Storage:Sqlite:Path</c>, else <c>cloud.db</c> in <see cref="DataDir"/> (so <c>./.leaknode/cloud.db</c> by default).</summary>
    public string SqlitePath => string.IsNullOrWhiteSpace(Storage.Sqlite.Path) ? Path.Combine(DataDir, "cloud.db") : Storage.Sqlite.Path;

    /// <summary>The sections this class binds; unknown keys inside them are problems, keys outside them are not ours.</summary>
    internal static readonly string[] Sections = ["Listen", "Storage", "Security", "Limits", "Notifications", "Scanning"];

    /// <summary>
    /// Binds the configuration and checks it. Returns every problem, each naming its key; an empty list means the
    /// cloud can start.
    /// </summary>
    public static (CloudConfiguration Configuration, IReadOnlyList<string> Problems) Load(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var problems = new List<string>();
        var result = new CloudConfiguration();
        foreach (var section in Sections)
        {
            if (!string.IsNullOrEmpty(configuration[section]))
            {
                problems.Add($"{section}: is a section (e.g. {section}:{typeof(CloudConfiguration).GetProperty(section)!.PropertyType.GetProperties()[0].Name}), not a value");
            }
        }
        Bind(configuration.GetSection("Listen"), result.Listen, problems);
        Bind(configuration.GetSection("Storage"), result.Storage, problems);
        Bind(configuration.GetSection("Security"), result.Security, problems);
        Bind(configuration.GetSection("Limits"), result.Limits, problems);
        Bind(configuration.GetSection("Notifications"), result.Notifications, problems);
        Bind(configuration.GetSection("Scanning"), result.Scanning, problems);
        if (configuration["DataDir"] is { } dataDir)
        {
            result.DataDir = dataDir;
        }

        // LEAKNODE_ADMIN_KEY (CONTRACT.md) arrives as ADMIN_KEY when the CLI strips the LEAKNODE_ prefix; read from
        // the process environment too, for hosts that pass a configuration without environment variables.
        // An empty value in YAML ("MasterKey: \"\"") means "not set", as in cloud.yaml.example.
        result.Security.MasterKey = NullIfEmpty(result.Security.MasterKey);
        result.Security.AdminEmail = NullIfEmpty(result.Security.AdminEmail?.Trim());
        result.Security.AdminPassword = NullIfEmpty(result.Security.AdminPassword);
        result.Security.AdminKey = NullIfEmpty(result.Security.AdminKey) ?? NullIfEmpty(configuration["ADMIN_KEY"]) ?? NullIfEmpty(Environment.GetEnvironmentVariable("LEAKNODE_ADMIN_KEY"));

        problems.AddRange(CloudConfigurationValidator.Problems(result));
        return (result, problems);
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    /// <summary>Binds one section onto <paramref name="target"/>, recursing into nested option classes, naming every unknown or malformed key.</summary>
    private static void Bind(IConfigurationSection section, object target, List<string> problems)
    {
        var type = target.GetType();
        foreach (var child in section.GetChildren())
        {
            var property = type.GetProperty(child.Key, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is null || !property.CanWrite)
            {
                // A misspelt "MaxTokensPerLeaks" must not silently leave the default in force.
                problems.Add($"{child.Path}: unknown setting; {section.Path} has {string.Join(", ", type.GetProperties().Where(p => p.CanWrite).Select(p => p.Name))}");
                continue;
            }
            var propertyType = property.PropertyType;
            if (propertyType.IsClass && propertyType != typeof(string))
            {
                if (child.Value is not null && child.Value.Length > 0)
                {
                    problems.Add($"{child.Path}: is a section, not a value");
                    continue;
                }
                Bind(child, property.GetValue(target)!, problems);
                continue;
            }
            if (child.Value == "" && propertyType != typeof(string))
            {
                continue;
            }
            try
            {
                var value = child.Get(propertyType, o => o.ErrorOnUnknownConfiguration = true);
                if (value is not null)
                {
                    property.SetValue(target, value);
                }
            }
            catch (InvalidOperationException error)
            {
                var inner = error.InnerException?.Message;
                problems.Add($"{child.Path}: {(inner is null ? error.Message : $"{error.Message.TrimEnd('.')}: {inner}")}");
            }
        }
    }
}

/// <summary>The <c>Listen</c> section: the REST listener and the node (gRPC) listener.</summary>
public sealed class CloudListenOptions
{
    /// <summary>REST API, OpenAPI document and <c>/healthz</c>. Default <c>http://127.0.0.1:7070</c>; HTTP/1.1 and HTTP/2 on https, HTTP/1.1 on http.</summary>
    public string Http { get; set; } = "http://127.0.0.1:7070";

    /// <summary>The node protocol: HTTP/2 only, clear text (h2c), since gRPC needs HTTP/2 and Kestrel cannot offer both versions without TLS. Default <c>http://127.0.0.1:7071</c>.</summary>
    public string Grpc { get; set; } = "http://127.0.0.1:7071";

    /// <summary>
    /// The address people reach the REST listener and the console at, when it is not <see cref="Http"/> (behind a
    /// reverse proxy, say): links in notifications point there (<c>{PublicUrl}/leaks/{id}</c>). Default: unset, which
    /// links to <see cref="Http"/> with its bound port.
    /// </summary>
    public string? PublicUrl { get; set; }

    /// <summary>A PEM certificate for an <c>https://</c> <see cref="Http"/> listener.</summary>
    public CloudCertificateOptions Certificate { get; set; } = new();

    /// <summary>How long shutdown waits for requests in flight. Default 30 s.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);
}

public sealed class CloudCertificateOptions
{
    /// <summary>The certificate (PEM).</summary>
    public string? Path { get; set; }

    /// <summary>Its private key (PEM), unless it is in <see cref="Path"/>.</summary>
    public string? KeyPath { get; set; }
}

/// <summary>Which database the cloud keeps its records in.</summary>
public enum StorageProvider
{
    /// <summary>An embedded SQLite file: one cloud process.</summary>
    Sqlite,

    /// <summary>PostgreSQL: production, and several cloud replicas over one database.</summary>
    Postgres,
}

/// <summary>The <c>Storage</c> section.</summary>
public sealed class StorageOptions
{
    /// <summary><c>sqlite</c> (default) or <c>postgres</c>.</summary>
    public StorageProvider Provider { get; set; } = StorageProvider.Sqlite;

    public SqliteStorageOptions Sqlite { get; set; } = new();

    public PostgresStorageOptions Postgres { get; set; } = new();

    /// <summary>How long attack events are kept, and the upkeep that keeps their queries fast (<c>Storage:Attacks</c>).</summary>
    public AttackStorageOptions Attacks { get; set; } = new();
}

/// <summary>
/// The <c>Storage:Attacks</c> section. Attack events are the one table that grows with traffic: a maintenance job
/// (one replica at a time) drops events older than <see cref="RetentionDays"/> and, on PostgreSQL, creates the daily
/// partitions ahead of time (docs/deploy/README.md, "Attack events").
/// </summary>
public sealed class AttackStorageOptions
{
    /// <summary>
    /// Whole UTC days of events kept before today; older ones are deleted (PostgreSQL: their day's partition is dropped).
    /// Default 90; 0 keeps every event forever.
    /// </summary>
    public int RetentionDays { get; set; } = 90;

    /// <summary>PostgreSQL: daily partitions created ahead of today, so that ingest never waits for one. Default 7.</summary>
    public int PartitionDaysAhead { get; set; } = 7;

    /// <summary>How often the maintenance job runs (once across all replicas). Default 1 hour.</summary>
    public TimeSpan MaintenanceInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Events one retention delete removes in one transaction (SQLite, and PostgreSQL's default partition): small enough
    /// that ingest, which waits for the same writer, waits for one batch at most. Default 5000.
    /// </summary>
    public int DeleteBatchSize { get; set; } = 5000;
}

public sealed class SqliteStorageOptions
{
    /// <summary>The database file. Default <c>cloud.db</c> in <c>DataDir</c>, i.e. <c>./.leaknode/cloud.db</c>.</summary>
    public string? Path { get; set; }

    /// <summary>How long a write waits for another writer before it fails. Default 30 s.</summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(30);
}

public sealed class PostgresStorageOptions
{
    /// <summary>An Npgsql connection string, e.g. <c>Host=db;Database=leaknode;Username=leaknode;Password=…</c>.</summary>
    public string? ConnectionString { get; set; }
}

/// <summary>The <c>Security</c> section.</summary>
public sealed class SecurityOptions
{
    /// <summary>
    /// Base64 of 32 bytes: the AES-256-GCM key leaked tokens and the deployment key are encrypted with at rest. When
    /// unset, a key is generated on first start into <c>DataDir/master.key</c> (owner-only) and reused after.
    /// </summary>
    public string? MasterKey { get; set; }

    /// <summary>
    /// The bootstrap admin API key (also <c>LEAKNODE_ADMIN_KEY</c>). When unset and the database has no API key yet,
    /// one is generated on first start and logged once.
    /// </summary>
    public string? AdminKey { get; set; }

    /// <summary>
    /// The console's bootstrap admin user. When <see cref="AdminPassword"/> is set, this user is created or updated at
    /// every start with that password (so changing it resets the password); when neither is set and the cloud has
    /// no user yet, <c>admin@leaknode.local</c> is created with a generated password, logged once. Default
    /// <c>admin@leaknode.local</c>.
    /// </summary>
    public string? AdminEmail { get; set; }

    /// <summary>The bootstrap admin's password (also <c>LEAKNODE_Security__AdminPassword</c>); at least 12 characters.</summary>
    public string? AdminPassword { get; set; }

    /// <summary>How long a console sign-in lasts, from sign-in (not sliding). Default 8 hours.</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(8);
}

/// <summary>The <c>Limits</c> section: the most a request may ask of the cloud.</summary>
public sealed class LimitOptions
{
    /// <summary>Tokens one leak may hold. Default 10,000.</summary>
    public int MaxTokensPerLeak { get; set; } = 10_000;

    /// <summary>The longest token, in UTF-8 bytes. Default 4096 (the matcher supports up to 65535).</summary>
    public int MaxTokenLength { get; set; } = 4096;

    /// <summary>The longest leak, node or API key name. Default 200 characters.</summary>
    public int MaxNameLength { get; set; } = 200;

    /// <summary>The longest leak description. Default 4000 characters.</summary>
    public int MaxDescriptionLength { get; set; } = 4000;

    /// <summary>The longest lifecycle comment. Default 2000 characters.</summary>
    public int MaxCommentLength { get; set; } = 2000;

    /// <summary>The longest source URL. Default 2048 characters.</summary>
    public int MaxUrlLength { get; set; } = 2048;

    /// <summary>Items a list page holds when <c>limit</c> is not given. Default 50.</summary>
    public int DefaultPageSize { get; set; } = 50;

    /// <summary>The largest <c>limit</c> a list accepts. Default 500.</summary>
    public int MaxPageSize { get; set; } = 500;

    /// <summary>Leaks one export holds at most. Default 100,000.</summary>
    public int MaxExportRows { get; set; } = 100_000;

    /// <summary>
    /// Rule changes kept to answer a node with a delta; a node further behind gets a snapshot. Default 100,000
    /// (a delta folds the log, so older entries only cost disk).
    /// </summary>
    public int RuleChangeLogSize { get; set; } = 100_000;

    /// <summary>Tokens or digests one <c>POST /api/v1/inventory</c> may carry. Default 10,000 (a few MB of digests).</summary>
    public int MaxInventoryItemsPerRequest { get; set; } = 10_000;

    /// <summary>
    /// Tokens the inventory may hold. Default 1,000,000: a scan builds the node's matcher over all of them, about
    /// 155 bytes a token (docs/DESIGN.md), so the default keeps a scan's watch list near 150 MB.
    /// </summary>
    public int MaxInventoryTokens { get; set; } = 1_000_000;
}
