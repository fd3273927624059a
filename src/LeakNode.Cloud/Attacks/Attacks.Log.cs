using LeakNode.Cloud.Diagnostics;
using Microsoft.Extensions.Logging;

namespace LeakNode.Cloud.Attacks;

internal sealed partial class AttackStore
{
    private static partial class Log
    {
        [LoggerMessage(EventIds.AttacksStored, LogLevel.Debug, "Stored {Stored} attack events from node {NodeId} ({Duplicates} already stored)")]
        public static partial void AttacksStored(ILogger logger, int stored, int duplicates, string nodeId);

        [LoggerMessage(EventIds.AttacksDropped, LogLevel.Warning, "Node {NodeId} dropped {Count} attack events before it could send them (its queue or spool was full)")]
        public static partial void AttacksDropped(ILogger logger, string nodeId, long count);
    }
}
