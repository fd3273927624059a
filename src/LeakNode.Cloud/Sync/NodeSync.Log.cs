using LeakNode.Cloud.Diagnostics;
using Microsoft.Extensions.Logging;

namespace LeakNode.Cloud.Sync;

/// <summary>
/// The node protocol's log events (ids 5000–5099 in <see cref="EventIds"/>). None carries a token: nodes are named by name and id, tokens
/// (node tokens included) never, and a refused call by what was wrong with it.
/// </summary>
internal static partial class NodeSyncLog
{
    [LoggerMessage(EventIds.NodeConnected, LogLevel.Information, "Node {NodeName} ({NodeId}) connected: rule version {RuleVersion}, same deployment key: {SameKey}, mode {Mode}, software {SoftwareVersion}")]
    public static partial void NodeConnected(ILogger logger, string nodeName, string nodeId, long ruleVersion, bool sameKey, string mode, string softwareVersion);

    [LoggerMessage(EventIds.NodeDisconnected, LogLevel.Information, "Node {NodeName} ({NodeId}) disconnected")]
    public static partial void NodeDisconnected(ILogger logger, string nodeName, string nodeId);

    [LoggerMessage(EventIds.NodeCallRefused, LogLevel.Warning, "Refused a {Method} call from {Peer}: {Reason}")]
    public static partial void CallRefused(ILogger logger, string method, string peer, string reason);

    [LoggerMessage(EventIds.NodeStreamsEnded, LogLevel.Warning, "Ended {Streams} stream(s) of node {NodeName} ({NodeId}): {Reason}")]
    public static partial void NodeEnded(ILogger logger, string nodeName, string nodeId, int streams, string reason);

    [LoggerMessage(EventIds.RevocationCheckFailed, LogLevel.Warning, "Could not check the tokens of connected nodes; trying again at the next interval")]
    public static partial void RevocationCheckFailed(ILogger logger, Exception error);

    [LoggerMessage(EventIds.DisconnectNotRecorded, LogLevel.Warning, "Could not record that node {NodeId} disconnected")]
    public static partial void DisconnectNotRecorded(ILogger logger, string nodeId, Exception error);

    [LoggerMessage(EventIds.NodeStreamFailed, LogLevel.Error, "{Method} of node {NodeName} ({NodeId}) failed; the node is told to reconnect")]
    public static partial void StreamFailed(ILogger logger, string method, string nodeName, string nodeId, Exception error);

    [LoggerMessage(EventIds.SnapshotSent, LogLevel.Information, "Sent node {NodeId} a snapshot of rule version {Version}: {Leaks} leaks, {Tokens} tokens in {Parts} part(s)")]
    public static partial void SnapshotSent(ILogger logger, string nodeId, long version, int leaks, long tokens, int parts);

    [LoggerMessage(EventIds.DeltaSent, LogLevel.Debug, "Sent node {NodeId} a delta from rule version {FromVersion} to {ToVersion}: {Upserted} upserted, {Removed} removed, {ActionChanged} action changes")]
    public static partial void DeltaSent(ILogger logger, string nodeId, long fromVersion, long toVersion, int upserted, int removed, int actionChanged);

    [LoggerMessage(EventIds.VersionApplied, LogLevel.Debug, "Node {NodeId} applied rule version {Version}")]
    public static partial void VersionApplied(ILogger logger, string nodeId, long version);

    [LoggerMessage(EventIds.VersionRefused, LogLevel.Warning, "Node {NodeName} ({NodeId}) refused rule version {Version}: {Error}. It keeps version {InForce}; the next version goes to it as a snapshot")]
    public static partial void VersionRefused(ILogger logger, string nodeName, string nodeId, long version, string error, long inForce);

    [LoggerMessage(EventIds.UnexpectedAck, LogLevel.Debug, "Node {NodeId} answered rule version {Version}, which is not the one in flight ({InFlight}); ignored")]
    public static partial void UnexpectedAck(ILogger logger, string nodeId, long version, long inFlight);

    [LoggerMessage(EventIds.AckTimedOut, LogLevel.Warning, "Node {NodeName} ({NodeId}) did not answer rule version {Version} within {Timeout}; ending its rule stream so that it reconnects")]
    public static partial void AckTimedOut(ILogger logger, string nodeName, string nodeId, long version, TimeSpan timeout);

    [LoggerMessage(EventIds.EventBatchStored, LogLevel.Debug, "Event batch {BatchId} of node {NodeId}: {Stored} stored, {Duplicates} already stored, {Skipped} skipped")]
    public static partial void BatchStored(ILogger logger, ulong batchId, string nodeId, int stored, int duplicates, int skipped);

    [LoggerMessage(EventIds.EventsSkipped, LogLevel.Warning, "Skipped {Skipped} malformed event(s) of batch {BatchId} from node {NodeName} ({NodeId}); the first: {Problem}")]
    public static partial void EventsSkipped(ILogger logger, int skipped, ulong batchId, string nodeName, string nodeId, string problem);

    [LoggerMessage(EventIds.EventsDropped, LogLevel.Warning, "Node {NodeName} ({NodeId}) reports {Dropped} attack event(s) dropped before they could be sent (its queue or spool was full)")]
    public static partial void EventsDropped(ILogger logger, string nodeName, string nodeId, ulong dropped);
}
