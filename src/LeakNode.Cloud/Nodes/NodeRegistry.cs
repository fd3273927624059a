using Dapper;
using LeakNode.Cloud.Storage;
using LeakNode.Cloud.Sync;
using Microsoft.Extensions.Logging;

namespace LeakNode.Cloud.Nodes;

/// <summary>A node as the API shows it.</summary>
/// <param name="Connected">A rule stream of the node is open now.</param>
/// <param name="RuleVersion">The rule version the node acknowledged last (null before its first).</param>
/// <param name="LastError">Why the node refused the rule version <paramref name="LastErrorVersion"/>, while it has not applied a newer one.</param>
/// <param name="DroppedEvents">Attack events the node reported it had to drop (queue or spool full).</param>
public sealed record NodeView(
    string Id,
    string Name,
    bool Connected,
    DateTimeOffset? LastSeen,
    long? RuleVersion,
    string? Mode,
    string? SoftwareVersion,
    string? LastError,
    long? LastErrorVersion,
    bool Revoked,
    DateTimeOffset CreatedAt,
    long DroppedEvents);

/// <summary>A new node; <see cref="Token"/> is shown this once (it goes into the node's <c>Cloud:Token</c>).</summary>
public sealed record EnrolledNode(string Id, string Name, string Token);

/// <summary>
/// Enrolled nodes: their tokens (as SHA-256 hashes, like API keys) and what each last told the cloud. Connection
/// state is a count of open streams, not a flag, so that a node whose new stream opens before its old one is
/// noticed closed still shows connected.
/// </summary>
internal sealed partial class NodeRegistry(CloudDatabase database, TimeProvider clock, ILogger<NodeRegistry> logger) : INodeRegistry
{
    public const string TokenPrefix = "lnt_";

    /// <summary>The longest refusal reason kept: a node's message, shown to users, not a log.</summary>
    private const int MaxErrorLength = 2000;

    public async Task<EnrolledNode> EnrollAsync(string name, CancellationToken cancellationToken)
    {
        var token = Ids.NewSecret(TokenPrefix);
        var id = Ids.New("nd_");
        await ExecuteAsync(
            """
            INSERT INTO nodes (id, name, token_hash, created_at, connections, dropped_events)
            VALUES (@id, @name, @hash, @now, 0, 0)
            """, new { id, name, hash = Ids.Hash(token), now = Ids.Now(clock) }, cancellationToken);
        Log.NodeEnrolled(logger, id, name);
        return new EnrolledNode(id, name, token);
    }

    public async Task<IReadOnlyList<NodeView>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<NodeRow>($"SELECT {NodeRow.Columns} FROM nodes ORDER BY created_at, id");
        return rows.Select(r => r.View()).ToList();
    }

    /// <summary>Revokes a node's token: its streams are refused from now on. Null when no node has the id.</summary>
    public async Task<NodeView?> RevokeAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var changed = await connection.ExecuteAsync(
            "UPDATE nodes SET revoked_at = @now WHERE id = @id AND revoked_at IS NULL", new { id, now = Ids.Now(clock) });
        var row = await connection.QuerySingleOrDefaultAsync<NodeRow>($"SELECT {NodeRow.Columns} FROM nodes WHERE id = @id", new { id });
        if (changed > 0)
        {
            Log.NodeRevoked(logger, id);
        }
        return row?.View();
    }

    /// <summary>Clears connection counts at start-up: no stream of a previous run is open any more (one SQLite process owns the file).</summary>
    public Task ResetConnectionsAsync(CancellationToken cancellationToken) =>
        ExecuteAsync("UPDATE nodes SET connections = 0 WHERE connections <> 0", null, cancellationToken);

    public async Task<NodeIdentity?> AuthenticateAsync(string token, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        var hash = Ids.Hash(token);
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string Id, string Name, string TokenHash, long? RevokedAt)>(
            "SELECT id, name, token_hash, revoked_at FROM nodes WHERE token_hash = @hash", new { hash });
        foreach (var found in rows)
        {
            if (Ids.HashEquals(found.TokenHash, hash))
            {
                return new NodeIdentity(found.Id, found.Name, found.RevokedAt is not null);
            }
        }
        return null;
    }

    public Task ConnectedAsync(string nodeId, string mode, string softwareVersion, long ruleVersion, CancellationToken cancellationToken) =>
        ExecuteAsync(
            """
            UPDATE nodes SET connections = connections + 1, mode = @mode, software_version = @softwareVersion, rule_version = @ruleVersion, last_seen = @now
            WHERE id = @nodeId
            """,
            new { nodeId, mode = Truncate(mode, 32), softwareVersion = Truncate(softwareVersion, 64), ruleVersion, now = Ids.Now(clock) }, cancellationToken);

    public Task DisconnectedAsync(string nodeId, CancellationToken cancellationToken) =>
        ExecuteAsync(
            "UPDATE nodes SET connections = CASE WHEN connections > 0 THEN connections - 1 ELSE 0 END, last_seen = @now WHERE id = @nodeId",
            new { nodeId, now = Ids.Now(clock) }, cancellationToken);

    /// <summary>One node's ack; the node protocol records acks in groups (<see cref="AppliedAsync(IReadOnlyList{NodeApplied}, CancellationToken)"/>).</summary>
    public Task AppliedAsync(string nodeId, long version, CancellationToken cancellationToken) =>
        AppliedAsync([new NodeApplied(nodeId, version)], cancellationToken);

    public Task AppliedAsync(IReadOnlyList<NodeApplied> applied, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(applied);
        var now = Ids.Now(clock);
        return database.WriteAsync(async (connection, transaction) =>
        {
            // Dapper runs the statement once for each element, all in this one transaction.
            await connection.ExecuteAsync(new CommandDefinition(
                """
                UPDATE nodes SET rule_version = @Version, last_seen = @now,
                    last_error = CASE WHEN last_error_version IS NOT NULL AND last_error_version <= @Version THEN NULL ELSE last_error END,
                    last_error_version = CASE WHEN last_error_version IS NOT NULL AND last_error_version <= @Version THEN NULL ELSE last_error_version END
                WHERE id = @NodeId
                """, applied.Select(a => new { a.NodeId, a.Version, now }), transaction, cancellationToken: cancellationToken));
            return 0;
        }, cancellationToken);
    }

    public async Task RefusedAsync(string nodeId, long version, string error, CancellationToken cancellationToken)
    {
        await ExecuteAsync(
            "UPDATE nodes SET last_error = @error, last_error_version = @version, last_seen = @now WHERE id = @nodeId",
            new { nodeId, version, error = Truncate(error, MaxErrorLength), now = Ids.Now(clock) }, cancellationToken);
        Log.NodeRefusedRules(logger, nodeId, version);
    }

    public Task SeenAsync(string nodeId, CancellationToken cancellationToken) =>
        ExecuteAsync("UPDATE nodes SET last_seen = @now WHERE id = @nodeId", new { nodeId, now = Ids.Now(clock) }, cancellationToken);

    private async Task ExecuteAsync(string sql, object? parameters, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(sql, parameters, cancellationToken: cancellationToken));
    }

    private static string Truncate(string? value, int length) => value is null ? "" : value.Length <= length ? value : value[..length];

    private sealed class NodeRow
    {
        public const string Columns =
            "id, name, created_at, revoked_at, connections, last_seen, rule_version, mode, software_version, last_error, last_error_version, dropped_events";

        public string Id { get; set; } = "";

        public string Name { get; set; } = "";

        public long CreatedAt { get; set; }

        public long? RevokedAt { get; set; }

        public long Connections { get; set; }

        public long? LastSeen { get; set; }

        public long? RuleVersion { get; set; }

        public string? Mode { get; set; }

        public string? SoftwareVersion { get; set; }

        public string? LastError { get; set; }

        public long? LastErrorVersion { get; set; }

        public long DroppedEvents { get; set; }

        public NodeView View() => new(
            Id, Name, Connections > 0 && RevokedAt is null, LastSeen is { } seen ? Ids.Time(seen) : null, RuleVersion, Mode, SoftwareVersion,
            LastError, LastErrorVersion, RevokedAt is not null, Ids.Time(CreatedAt), DroppedEvents);
    }
}
