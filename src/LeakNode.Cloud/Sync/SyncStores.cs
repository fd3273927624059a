using LeakNode.Matching.Digests;
using LeakNode.Matching.Rules;

namespace LeakNode.Cloud.Sync;

// What the node protocol (Sync/NodeSyncService) needs from the rest of the cloud. The leak lifecycle, the node
// registry and the event store implement these over the cloud's database; the gRPC service only speaks the
// protocol. Every method is safe to call concurrently.

/// <summary>The rule versions nodes follow: a snapshot of every watched leak, or the change since a version.</summary>
internal interface IRuleFeed
{
    /// <summary>The newest rule version (0 before any leak was ever watched).</summary>
    Task<long> CurrentVersionAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Every leak nodes watch at the newest version, in digest form: each <c>open</c> leak, action Block when its
    /// virtual patch is applied, Monitor otherwise. <see cref="RuleSet.Version"/> is that version.
    /// </summary>
    Task<RuleSet> SnapshotAsync(CancellationToken cancellationToken);

    /// <summary>
    /// The change from <paramref name="fromVersion"/> to the newest version, folded into one delta that the
    /// matcher can apply to exactly that version; null when the cloud cannot say (an unknown version, one newer
    /// than the newest, or one older than the change log keeps), which the caller answers with a snapshot.
    /// A delta with nothing in it is returned when nothing changed.
    /// </summary>
    Task<RuleSetDelta?> DeltaAsync(long fromVersion, CancellationToken cancellationToken);

    /// <summary>Completes once the newest version is greater than <paramref name="afterVersion"/> (at once if it already is).</summary>
    Task WaitForVersionAsync(long afterVersion, CancellationToken cancellationToken);
}

/// <summary>The deployment key every digest of this cloud is made with (generated once, kept encrypted).</summary>
internal interface IDeploymentKeyring
{
    /// <summary>The 32 key bytes, for nodes (sent over their authenticated stream only).</summary>
    ReadOnlyMemory<byte> KeyBytes { get; }

    /// <summary>The public id of the key (<see cref="Protocol.RuleMapping.KeyId"/>).</summary>
    string KeyId { get; }

    DigestKey Key { get; }
}

/// <summary>A node as the protocol sees it.</summary>
/// <param name="Revoked">The node's token was revoked: its streams are refused.</param>
internal sealed record NodeIdentity(string Id, string Name, bool Revoked);

/// <summary>Enrolled nodes: who a token belongs to, and what each node last told the cloud.</summary>
internal interface INodeRegistry
{
    /// <summary>The node a token was issued to, or null when no node has it. Tokens are compared by hash.</summary>
    Task<NodeIdentity?> AuthenticateAsync(string token, CancellationToken cancellationToken);

    /// <summary>The node opened its rule stream: connected, with its mode, software version and the rule version it has.</summary>
    Task ConnectedAsync(string nodeId, string mode, string softwareVersion, long ruleVersion, CancellationToken cancellationToken);

    /// <summary>The node's rule stream ended.</summary>
    Task DisconnectedAsync(string nodeId, CancellationToken cancellationToken);

    /// <summary>
    /// Nodes applied versions (acks): each is the version its node runs. In one transaction: a change reaches every
    /// connected node at once, and their acks come back together, so the node protocol records them in groups
    /// (<see cref="AppliedBatcher"/>) rather than as one write (one fsync, on SQLite) a node.
    /// </summary>
    Task AppliedAsync(IReadOnlyList<NodeApplied> applied, CancellationToken cancellationToken);

    /// <summary>The node refused a version (nack) and keeps its last good one; the reason is shown to users.</summary>
    Task RefusedAsync(string nodeId, long version, string error, CancellationToken cancellationToken);

    /// <summary>Any message from the node: its last-seen time.</summary>
    Task SeenAsync(string nodeId, CancellationToken cancellationToken);
}

/// <summary>A node's ack of a rule version.</summary>
internal readonly record struct NodeApplied(string NodeId, long Version);

/// <summary>An attack event as a node reports it; the node id is the authenticated node's, never the node's word.</summary>
internal sealed record IncomingAttack(
    string Id,
    string Type,
    DateTimeOffset Time,
    string LeakId,
    string TokenId,
    string TokenFingerprint,
    string? TokenPreview,
    string Action,
    int Hits,
    string ClientIp,
    string Method,
    string Host,
    string Path,
    string Location,
    int StatusCode);

/// <summary>Stored attack events.</summary>
internal interface IAttackStore
{
    /// <summary>
    /// Stores a batch in one transaction. An event whose id is stored already is skipped (a resend), so the
    /// store holds each event once. Returns how many were stored now and how many were already there.
    /// </summary>
    Task<(int Stored, int Duplicates)> InsertBatchAsync(string nodeId, IReadOnlyList<IncomingAttack> events, CancellationToken cancellationToken);

    /// <summary>Counts events a node reported as dropped before they could be sent (its queue or spool was full).</summary>
    Task RecordDroppedAsync(string nodeId, ulong dropped, CancellationToken cancellationToken);
}
