using Dapper;
using LeakNode.Cloud.Storage;
using Microsoft.Extensions.Logging;

namespace LeakNode.Cloud.Auth;

/// <summary>The two roles (CONTRACT.md): <c>admin</c> does everything, <c>analyst</c> reads.</summary>
public static class ApiRoles
{
    public const string Admin = "admin";
    public const string Analyst = "analyst";

    public static readonly IReadOnlyList<string> All = [Admin, Analyst];
}

/// <summary>An API key's owner as requests see it.</summary>
internal sealed record ApiKeyIdentity(string Id, string Name, string Role);

/// <summary>An API key as the console lists it.</summary>
/// <summary>How a revocation ended.</summary>
internal enum ApiKeyRevocation
{
    Revoked,
    NotFound,

    /// <summary>Refused: it is the last admin key.</summary>
    LastAdmin,
}

/// <summary>An API key as <c>GET /api/v1/api-keys</c> and the console list it: never the key itself.</summary>
public sealed record ApiKeyListing(string Id, string Name, string Role, bool Bootstrap, DateTimeOffset CreatedAt);

/// <summary>
/// API keys, kept as SHA-256 hashes: a key is 256 random bits, so a plain hash is as strong as a slow one and
/// lets a request be checked with one indexed lookup.
/// </summary>
internal sealed partial class ApiKeyStore(CloudDatabase database, TimeProvider clock, ILogger<ApiKeyStore> logger)
{
    public const string KeyPrefix = "lnk_";
    public const string BootstrapName = "bootstrap-admin";

    public async Task<ApiKeyIdentity?> AuthenticateAsync(string key, CancellationToken cancellationToken)
    {
        var hash = Ids.Hash(key);
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string Id, string Name, string Role, string KeyHash)>(
            "SELECT id, name, role, key_hash FROM api_keys WHERE key_hash = @hash", new { hash });
        // The lookup found the row by hash; the constant-time compare keeps the final check free of timing.
        foreach (var found in rows)
        {
            if (Ids.HashEquals(found.KeyHash, hash))
            {
                return new ApiKeyIdentity(found.Id, found.Name, found.Role);
            }
        }
        return null;
    }

    /// <summary>Every key by name (never the key itself: only its hash is kept), for the console's settings.</summary>
    public async Task<IReadOnlyList<ApiKeyListing>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string Id, string Name, string Role, long Bootstrap, long CreatedAt)>(
            "SELECT id, name, role, bootstrap, created_at FROM api_keys ORDER BY created_at, id");
        return rows.Select(r => new ApiKeyListing(r.Id, r.Name, r.Role, r.Bootstrap != 0, Ids.Time(r.CreatedAt))).ToList();
    }

    /// <summary>Creates a key; the returned secret is shown once and never stored.</summary>
    public async Task<(ApiKeyIdentity Identity, string Key)> CreateAsync(string name, string role, CancellationToken cancellationToken)
    {
        var key = Ids.NewSecret(KeyPrefix);
        var identity = new ApiKeyIdentity(Ids.New("ak_"), name, role);
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(
            "INSERT INTO api_keys (id, name, role, key_hash, bootstrap, created_at) VALUES (@Id, @Name, @Role, @hash, 0, @now)",
            new { identity.Id, identity.Name, identity.Role, hash = Ids.Hash(key), now = Ids.Now(clock) });
        Log.ApiKeyCreated(logger, identity.Id, name, role);
        return (identity, key);
    }

    /// <summary>
    /// Revokes a key: its row goes, so the next request with it is refused on every replica (keys are checked
    /// against the database on each request). The last admin key is kept, so that the API is never locked out; a
    /// configured bootstrap key (<c>LEAKNODE_ADMIN_KEY</c>) comes back at the next start.
    /// </summary>
    public Task<ApiKeyRevocation> RevokeAsync(string id, string actor, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            var found = await connection.QuerySingleOrDefaultAsync<(string Name, string Role)>(
                "SELECT name, role FROM api_keys WHERE id = @id", new { id }, transaction);
            if (found.Name is null)
            {
                return ApiKeyRevocation.NotFound;
            }
            if (found.Role == ApiRoles.Admin
                && await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM api_keys WHERE role = @Admin", new { ApiRoles.Admin }, transaction) <= 1)
            {
                return ApiKeyRevocation.LastAdmin;
            }
            await connection.ExecuteAsync("DELETE FROM api_keys WHERE id = @id", new { id }, transaction);
            Log.ApiKeyRevoked(logger, id, found.Name, found.Role, actor);
            return ApiKeyRevocation.Revoked;
        }, cancellationToken);

    /// <summary>
    /// Makes sure an admin can get in. A configured key (<c>LEAKNODE_ADMIN_KEY</c>) becomes, or replaces, the
    /// bootstrap admin key, so changing the variable rotates it; without one, a key is generated only while the
    /// database has no key at all. Returns the generated key, or null.
    /// </summary>
    public Task<string?> BootstrapAsync(string? configuredKey, CancellationToken cancellationToken) =>
        database.WriteAsync<string?>(async (connection, transaction) =>
        {
            var now = Ids.Now(clock);
            if (configuredKey is not null)
            {
                var hash = Ids.Hash(configuredKey);
                var updated = await connection.ExecuteAsync(
                    "UPDATE api_keys SET key_hash = @hash, role = @Admin WHERE bootstrap = 1", new { hash, ApiRoles.Admin }, transaction);
                if (updated == 0)
                {
                    await connection.ExecuteAsync(
                        "INSERT INTO api_keys (id, name, role, key_hash, bootstrap, created_at) VALUES (@id, @BootstrapName, @Admin, @hash, 1, @now) ON CONFLICT (key_hash) DO NOTHING",
                        new { id = Ids.New("ak_"), BootstrapName, ApiRoles.Admin, hash, now }, transaction);
                }
                Log.AdminKeyConfigured(logger);
                return null;
            }
            if (await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM api_keys", transaction: transaction) > 0)
            {
                return null;
            }
            var key = Ids.NewSecret(KeyPrefix);
            await connection.ExecuteAsync(
                "INSERT INTO api_keys (id, name, role, key_hash, bootstrap, created_at) VALUES (@id, @BootstrapName, @Admin, @hash, 1, @now)",
                new { id = Ids.New("ak_"), BootstrapName, ApiRoles.Admin, hash = Ids.Hash(key), now }, transaction);
            // Once, at Warning, so that it shows whatever the log level: it is the only way in on a new cloud.
            Log.AdminKeyGenerated(logger, key);
            return key;
        }, cancellationToken);
}
