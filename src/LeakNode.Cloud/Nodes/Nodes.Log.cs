using LeakNode.Cloud.Diagnostics;
using Microsoft.Extensions.Logging;

namespace LeakNode.Cloud.Nodes;

internal sealed partial class NodeRegistry
{
    private static partial class Log
    {
        [LoggerMessage(EventIds.NodeEnrolled, LogLevel.Information, "Node {NodeId} '{Name}' enrolled")]
        public static partial void NodeEnrolled(ILogger logger, string nodeId, string name);

        [LoggerMessage(EventIds.NodeRevoked, LogLevel.Warning, "Node {NodeId} revoked: its streams are refused from now on")]
        public static partial void NodeRevoked(ILogger logger, string nodeId);

        [LoggerMessage(EventIds.NodeRefusedRules, LogLevel.Warning, "Node {NodeId} refused rule version {Version} and keeps its last good rules; see GET /api/v1/nodes")]
        public static partial void NodeRefusedRules(ILogger logger, string nodeId, long version);
    }
}
