using LeakNode.Protocol;
using Microsoft.Extensions.Options;

namespace LeakNode.Cloud.Sync;

/// <summary>How the cloud serves the node protocol (config section <c>NodeSync</c>). The defaults suit every deployment we know.</summary>
internal sealed class NodeSyncOptions
{
    public const string Section = "NodeSync";

    /// <summary>
    /// How often the tokens of connected nodes are checked again, so that a node revoked while its streams are open
    /// loses them within this time (a revocation made through this cloud replica ends them at once, see
    /// <see cref="NodeConnections.EndNode"/>). Default 5 s: one lookup a connected node per interval.
    /// </summary>
    public TimeSpan RevocationCheckInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long the cloud waits for a node's ack or nack of a rule version before it ends the stream with
    /// DEADLINE_EXCEEDED; the node reconnects and says in its hello which version it runs. Default 5 min: a node
    /// building and persisting a million-token snapshot needs tens of seconds, a hung one should not keep its
    /// stream (and miss every later version) forever.
    /// </summary>
    public TimeSpan AckTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Tokens in one snapshot part (see <see cref="RuleMapping.SnapshotTokensPerPart"/> for why 10,000).</summary>
    public int SnapshotTokensPerPart { get; set; } = RuleMapping.SnapshotTokensPerPart;

    /// <summary>
    /// HTTP/2 PING after this much silence on a node's connection. Nodes often sit behind NAT and load balancers that
    /// forget idle flows after a few minutes; a ping every 30 s keeps the flow alive and finds a vanished node
    /// (no FIN, no RST) within <see cref="KeepAlivePingDelay"/> + <see cref="KeepAlivePingTimeout"/>.
    /// </summary>
    public TimeSpan KeepAlivePingDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The connection is closed when a PING gets no answer in this time. Default 20 s.</summary>
    public TimeSpan KeepAlivePingTimeout { get; set; } = TimeSpan.FromSeconds(20);
}

/// <summary>Checks <see cref="NodeSyncOptions"/> and reports every problem at once, each naming its key.</summary>
internal sealed class NodeSyncOptionsValidator : IValidateOptions<NodeSyncOptions>
{
    public ValidateOptionsResult Validate(string? name, NodeSyncOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();
        Positive(problems, nameof(options.RevocationCheckInterval), options.RevocationCheckInterval);
        Positive(problems, nameof(options.AckTimeout), options.AckTimeout);
        Positive(problems, nameof(options.KeepAlivePingDelay), options.KeepAlivePingDelay);
        Positive(problems, nameof(options.KeepAlivePingTimeout), options.KeepAlivePingTimeout);
        if (options.SnapshotTokensPerPart is < 1 or > RuleMapping.SnapshotTokensPerPart)
        {
            problems.Add($"{NodeSyncOptions.Section}:{nameof(options.SnapshotTokensPerPart)} is {options.SnapshotTokensPerPart}; "
                + $"it must be 1 to {RuleMapping.SnapshotTokensPerPart} (more could exceed gRPC's 4 MB message limit)");
        }
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    private static void Positive(List<string> problems, string key, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            problems.Add($"{NodeSyncOptions.Section}:{key} is {value}; it must be a positive time span such as 00:00:05");
        }
    }
}
