using Microsoft.Extensions.Options;

namespace LeakNode.Cloud.Configuration;

/// <summary>
/// Checks the cloud's configuration and reports every problem at once, each naming its key, as YARP's
/// ConfigValidator does: fixing one error at a time across restarts is how outages get longer.
/// </summary>
internal sealed class CloudConfigurationValidator : IValidateOptions<CloudConfiguration>
{
    public ValidateOptionsResult Validate(string? name, CloudConfiguration options)
    {
        var problems = Problems(options).ToList();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    public static IEnumerable<string> Problems(CloudConfiguration options)
    {
        foreach (var problem in CheckUrl("Listen:Http", options.Listen.Http, allowHttps: true))
        {
            yield return problem;
        }
        foreach (var problem in CheckUrl("Listen:Grpc", options.Listen.Grpc, allowHttps: false))
        {
            yield return problem;
        }
        if (Uri.TryCreate(options.Listen.Http, UriKind.Absolute, out var http) && Uri.TryCreate(options.Listen.Grpc, UriKind.Absolute, out var grpc)
            && http.Port != 0 && http.Port == grpc.Port)
        {
            yield return $"Listen:Grpc: port {grpc.Port} is also Listen:Http's; they need separate ports";
        }
        if (http?.Scheme == Uri.UriSchemeHttps && string.IsNullOrWhiteSpace(options.Listen.Certificate.Path))
        {
            yield return "Listen:Certificate:Path: an https:// Listen:Http needs a certificate (PEM)";
        }
        if (!string.IsNullOrWhiteSpace(options.Listen.Certificate.Path) && !File.Exists(options.Listen.Certificate.Path))
        {
            yield return $"Listen:Certificate:Path: no file at '{options.Listen.Certificate.Path}'";
        }
        if (!string.IsNullOrWhiteSpace(options.Listen.Certificate.KeyPath) && !File.Exists(options.Listen.Certificate.KeyPath))
        {
            yield return $"Listen:Certificate:KeyPath: no file at '{options.Listen.Certificate.KeyPath}'";
        }
        if (!string.IsNullOrEmpty(options.Listen.PublicUrl)
            && (!Uri.TryCreate(options.Listen.PublicUrl, UriKind.Absolute, out var publicUrl) || (publicUrl.Scheme != Uri.UriSchemeHttp && publicUrl.Scheme != Uri.UriSchemeHttps)))
        {
            yield return $"Listen:PublicUrl: '{options.Listen.PublicUrl}' is not an http:// or https:// URL";
        }
        if (options.Listen.ShutdownTimeout < TimeSpan.Zero || options.Listen.ShutdownTimeout > TimeSpan.FromMinutes(10))
        {
            yield return "Listen:ShutdownTimeout: must be between 0 and 10 minutes";
        }

        if (string.IsNullOrWhiteSpace(options.DataDir))
        {
            yield return "DataDir: must name a directory";
        }
        if (!Enum.IsDefined(options.Storage.Provider))
        {
            yield return "Storage:Provider: must be sqlite or postgres";
        }
        if (options.Storage.Provider == StorageProvider.Postgres)
        {
            var connectionString = options.Storage.Postgres.ConnectionString;
            if (string.IsNullOrWhiteSpace(connectionString))
            {
                yield return "Storage:Postgres:ConnectionString: required when Storage:Provider is postgres";
            }
            else if (!IsValidPostgres(connectionString, out var error))
            {
                yield return $"Storage:Postgres:ConnectionString: not a valid connection string: {error}";
            }
        }
        if (options.Storage.Sqlite.BusyTimeout < TimeSpan.FromMilliseconds(1) || options.Storage.Sqlite.BusyTimeout > TimeSpan.FromMinutes(10))
        {
            yield return "Storage:Sqlite:BusyTimeout: must be between 1 ms and 10 minutes";
        }
        var attacks = options.Storage.Attacks;
        foreach (var problem in Range("Storage:Attacks:RetentionDays", attacks.RetentionDays, 0, 36_500))
        {
            yield return problem + " (0 keeps events forever)";
        }
        foreach (var problem in Range("Storage:Attacks:PartitionDaysAhead", attacks.PartitionDaysAhead, 1, 366))
        {
            yield return problem;
        }
        if (attacks.MaintenanceInterval < TimeSpan.FromSeconds(1) || attacks.MaintenanceInterval > TimeSpan.FromDays(1))
        {
            // At most a day: with PartitionDaysAhead ≥ 1, tomorrow's partition then always exists before tomorrow.
            yield return $"Storage:Attacks:MaintenanceInterval: must be between 1 second and 1 day (e.g. 01:00:00); it is {attacks.MaintenanceInterval}";
        }
        foreach (var problem in Range("Storage:Attacks:DeleteBatchSize", attacks.DeleteBatchSize, 100, 1_000_000))
        {
            yield return problem;
        }

        if (options.Security.MasterKey is { } masterKey && !IsBase64Key(masterKey))
        {
            yield return "Security:MasterKey: must be the base64 of exactly 32 bytes (e.g. `openssl rand -base64 32`)";
        }
        if (options.Security.AdminKey is { } adminKey && (adminKey.Length < 16 || adminKey.Length > 512 || adminKey.Any(char.IsWhiteSpace)))
        {
            yield return "Security:AdminKey: the bootstrap admin key (or LEAKNODE_ADMIN_KEY) must be 16 to 512 characters without spaces";
        }
        if (options.Security.AdminEmail is { } adminEmail && !Users.ConsoleUsers.IsEmail(adminEmail))
        {
            yield return "Security:AdminEmail: must be an email address (name@domain)";
        }
        if (options.Security.AdminPassword is { } adminPassword && (adminPassword.Length < Users.ConsoleUsers.MinPasswordLength || adminPassword.Length > 256))
        {
            yield return $"Security:AdminPassword: must be {Users.ConsoleUsers.MinPasswordLength} to 256 characters";
        }
        if (options.Security.SessionLifetime < TimeSpan.FromMinutes(1) || options.Security.SessionLifetime > TimeSpan.FromDays(30))
        {
            yield return "Security:SessionLifetime: must be between 1 minute and 30 days (e.g. 08:00:00)";
        }

        var limits = options.Limits;
        foreach (var problem in Range("Limits:MaxTokensPerLeak", limits.MaxTokensPerLeak, 1, 1_000_000))
        {
            yield return problem;
        }
        foreach (var problem in Range("Limits:MaxTokenLength", limits.MaxTokenLength, Matching.Digests.WindowPlan.MinTokenLength, Matching.Digests.WindowPlan.MaxSupportedTokenLength))
        {
            yield return problem;
        }
        foreach (var problem in Range("Limits:MaxNameLength", limits.MaxNameLength, 1, 10_000))
        {
            yield return problem;
        }
        foreach (var problem in Range("Limits:MaxDescriptionLength", limits.MaxDescriptionLength, 0, 1_000_000))
        {
            yield return problem;
        }
        foreach (var problem in Range("Limits:MaxCommentLength", limits.MaxCommentLength, 0, 1_000_000))
        {
            yield return problem;
        }
        foreach (var problem in Range("Limits:MaxUrlLength", limits.MaxUrlLength, 16, 65_536))
        {
            yield return problem;
        }
        foreach (var problem in Range("Limits:MaxPageSize", limits.MaxPageSize, 1, 10_000))
        {
            yield return problem;
        }
        foreach (var problem in Range("Limits:DefaultPageSize", limits.DefaultPageSize, 1, Math.Max(1, limits.MaxPageSize)))
        {
            yield return problem;
        }
        foreach (var problem in Range("Limits:MaxExportRows", limits.MaxExportRows, 1, 10_000_000))
        {
            yield return problem;
        }
        foreach (var problem in Range("Limits:RuleChangeLogSize", limits.RuleChangeLogSize, 1, 100_000_000))
        {
            yield return problem;
        }
        foreach (var problem in Range("Limits:MaxInventoryItemsPerRequest", limits.MaxInventoryItemsPerRequest, 1, 1_000_000))
        {
            yield return problem;
        }
        foreach (var problem in Range("Limits:MaxInventoryTokens", limits.MaxInventoryTokens, 1, Matching.MatcherLimits.Default.MaxTokens))
        {
            yield return problem;
        }
        foreach (var problem in Notifications.NotificationOptionsValidator.Problems(options.Notifications))
        {
            yield return problem;
        }
        foreach (var problem in ScanningProblems(options.Scanning))
        {
            yield return problem;
        }
    }

    private static IEnumerable<string> ScanningProblems(Sources.ScanningOptions scanning)
    {
        foreach (var problem in Range("Scanning:Concurrency", scanning.Concurrency, 1, 64)
            .Concat(Range("Scanning:Parallelism", scanning.Parallelism, 1, 256))
            .Concat(Range("Scanning:MaxSources", scanning.MaxSources, 1, 1_000_000))
            .Concat(Range("Scanning:MaxFindingsPerRequest", scanning.MaxFindingsPerRequest, 1, 1_000_000))
            .Concat(Range("Scanning:RunsKept", scanning.RunsKept, 1, 100_000)))
        {
            yield return problem;
        }
        foreach (var (key, value) in new[]
        {
            ("Scanning:PollInterval", scanning.PollInterval), ("Scanning:ClaimLease", scanning.ClaimLease), ("Scanning:Timeout", scanning.Timeout),
            ("Scanning:RetryAfterFailure", scanning.RetryAfterFailure), ("Scanning:MinInterval", scanning.MinInterval),
        })
        {
            if (value <= TimeSpan.Zero)
            {
                yield return $"{key}: must be a positive duration (hh:mm:ss); it is {value}";
            }
        }
        if (scanning.ClaimLease > TimeSpan.Zero && scanning.ClaimLease < TimeSpan.FromSeconds(1))
        {
            yield return $"Scanning:ClaimLease: must be at least 1 s (the owner renews it every third); it is {scanning.ClaimLease}";
        }
    }

    private static IEnumerable<string> Range(string key, int value, int min, int max)
    {
        if (value < min || value > max)
        {
            yield return $"{key}: must be between {min} and {max}; it is {value}";
        }
    }

    private static bool IsBase64Key(string value)
    {
        Span<byte> bytes = stackalloc byte[64];
        return Convert.TryFromBase64String(value.Trim(), bytes, out var written) && written == 32;
    }

    private static bool IsValidPostgres(string connectionString, out string error)
    {
        try
        {
            _ = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
            error = "";
            return true;
        }
        catch (ArgumentException e)
        {
            error = e.Message;
            return false;
        }
    }

    private static IEnumerable<string> CheckUrl(string key, string value, bool allowHttps)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            yield return $"{key}: '{value}' is not an http:// or https:// URL";
            yield break;
        }
        if (uri.Scheme == Uri.UriSchemeHttps && !allowHttps)
        {
            yield return $"{key}: only http:// (h2c) is supported here; put a TLS-terminating proxy in front for https";
        }
        if (uri.AbsolutePath != "/")
        {
            yield return $"{key}: '{value}' has a path; a listener URL is scheme, host and port only";
        }
    }
}
