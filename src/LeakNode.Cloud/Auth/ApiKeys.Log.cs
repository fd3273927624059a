using LeakNode.Cloud.Diagnostics;
using Microsoft.Extensions.Logging;

namespace LeakNode.Cloud.Auth;

internal sealed partial class ApiKeyStore
{
    private static partial class Log
    {
        [LoggerMessage(EventIds.ApiKeyCreated, LogLevel.Information, "API key {KeyId} '{Name}' created with role {Role}")]
        public static partial void ApiKeyCreated(ILogger logger, string keyId, string name, string role);

        [LoggerMessage(EventIds.ApiKeyRevoked, LogLevel.Warning, "API key {KeyId} '{Name}' ({Role}) revoked by {Actor}")]
        public static partial void ApiKeyRevoked(ILogger logger, string keyId, string name, string role, string actor);

        [LoggerMessage(EventIds.AdminKeyGenerated, LogLevel.Warning,
            "No API key existed, so an admin key was generated; it is shown this once, keep it (or set LEAKNODE_ADMIN_KEY): {AdminKey}")]
        public static partial void AdminKeyGenerated(ILogger logger, string adminKey);

        [LoggerMessage(EventIds.AdminKeyConfigured, LogLevel.Information, "The bootstrap admin key is the configured one (LEAKNODE_ADMIN_KEY or Security:AdminKey)")]
        public static partial void AdminKeyConfigured(ILogger logger);
    }
}
