using Microsoft.Extensions.Logging;
using static LeakNode.Node.Diagnostics.EventIds;

namespace LeakNode.Node.RuleSync;

internal sealed partial class RuleSyncService
{
    private static partial class Log
    {
        [LoggerMessage(CloudConnecting, LogLevel.Debug, "Connecting to the cloud at {Endpoint}")]
        public static partial void Connecting(ILogger logger, string endpoint);

        [LoggerMessage(CloudConnected, LogLevel.Information, "Connected to the cloud at {Endpoint} (deployment key {KeyId}; this node had rule version {Version})")]
        public static partial void Connected(ILogger logger, string endpoint, string keyId, long version);

        [LoggerMessage(CloudDisconnected, LogLevel.Warning, "No rule stream with the cloud at {Endpoint} ({Error}); enforcing the last good rules and reconnecting")]
        public static partial void Disconnected(ILogger logger, string endpoint, string error);

        [LoggerMessage(CloudRetrying, LogLevel.Debug, "Still no rule stream with the cloud ({Endpoint}: {Error}); next attempt in {Wait}")]
        public static partial void StillDisconnected(ILogger logger, string endpoint, string error, TimeSpan wait);

        [LoggerMessage(CloudUnexpected, LogLevel.Error, "Rule sync with the cloud at {Endpoint} failed unexpectedly; reconnecting")]
        public static partial void Unexpected(ILogger logger, string endpoint, Exception error);

        [LoggerMessage(CloudTokenRefused, LogLevel.Error, "The cloud at {Endpoint} refused this node's token ({Reason}): the node was revoked or its token is wrong. Issue a new token (POST /api/v1/nodes), put it in Cloud:Token and restart the node; until then it enforces its last good rules and retries every {Wait}")]
        public static partial void TokenRefused(ILogger logger, string endpoint, string reason, TimeSpan wait);

        [LoggerMessage(CloudProtocolError, LogLevel.Error, "The cloud at {Endpoint} broke the node protocol ({Error}); reconnecting")]
        public static partial void ProtocolError(ILogger logger, string endpoint, string error);

        [LoggerMessage(RuleVersionApplied, LogLevel.Information, "Rule {Kind} version {Version} in force: {Leaks} leaks, {Tokens} tokens (built and persisted in {Ms:0.0} ms)")]
        public static partial void VersionApplied(ILogger logger, string kind, long version, int leaks, int tokens, double ms);

        [LoggerMessage(RuleVersionRefused, LogLevel.Error, "Rule version {Version} from the cloud refused; the last good rules stay in force: {Reason}")]
        public static partial void VersionRefused(ILogger logger, long version, string reason);

        [LoggerMessage(DeploymentKeyChanged, LogLevel.Warning, "The cloud's deployment key changed from {Previous} to {KeyId}: the cached rules are void; the rules in force stay until the cloud's snapshot replaces them")]
        public static partial void KeyChanged(ILogger logger, string previous, string keyId);

        [LoggerMessage(RuleCacheLoaded, LogLevel.Warning, "Rules loaded from the cache: version {Version}, {Leaks} leaks, {Tokens} tokens, deployment key {KeyId} ({Ms} ms); the cloud connection follows in the background")]
        public static partial void CacheLoaded(ILogger logger, long version, int leaks, int tokens, string keyId, long ms);

        [LoggerMessage(RuleCacheWriteFailed, LogLevel.Error, "Cannot write the rule cache (version {Version}): {Error}")]
        public static partial void CacheWriteFailed(ILogger logger, long version, string error);
    }
}
