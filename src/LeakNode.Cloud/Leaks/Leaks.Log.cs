using LeakNode.Cloud.Diagnostics;
using Microsoft.Extensions.Logging;

namespace LeakNode.Cloud.Leaks;

// Leaks are logged by id, token count and rule version: never a token, never a preview (the API shows previews
// to users with a key; logs travel further).
internal sealed partial class LeakStore
{
    private static partial class Log
    {
        [LoggerMessage(EventIds.LeakCreated, LogLevel.Information, "Leak {LeakId} created with {TokenCount} tokens; rule version {Version}")]
        public static partial void LeakCreated(ILogger logger, string leakId, int tokenCount, long version);

        [LoggerMessage(EventIds.LeakTransition, LogLevel.Information, "Leak {LeakId}: {Action}, now {Status}; rule version {Version}")]
        public static partial void LeakTransition(ILogger logger, string leakId, string action, string status, long version);

        [LoggerMessage(EventIds.TokensAdded, LogLevel.Information, "Leak {LeakId}: tokens added; rule version {Version}")]
        public static partial void TokensAdded(ILogger logger, string leakId, long version);

        [LoggerMessage(EventIds.LeakEdited, LogLevel.Information, "Leak {LeakId} edited")]
        public static partial void LeakEdited(ILogger logger, string leakId);
    }
}
