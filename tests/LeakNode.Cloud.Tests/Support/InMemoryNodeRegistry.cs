using System.Collections.Concurrent;
using System.Security.Cryptography;
using LeakNode.Cloud.Sync;

namespace LeakNode.Cloud.Tests.Support;

/// <summary>Enrolled nodes in memory, with a journal of every call the protocol made, in order.</summary>
internal sealed class InMemoryNodeRegistry : INodeRegistry
{
    private readonly ConcurrentDictionary<string, NodeIdentity> _byToken = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _seen = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _journal = new();
    private int _next;
    private int _appliedGroups;

    /// <summary>Every call but <see cref="SeenAsync"/>, as <c>"connected n1 block 1.2.3 5"</c>, <c>"applied n1 6"</c>, <c>"refused n1 7 why"</c>, <c>"disconnected n1"</c>.</summary>
    public IReadOnlyList<string> Journal => [.. _journal];

    public int Seen(string nodeId) => _seen.GetValueOrDefault(nodeId);

    /// <summary>Enrols a node; returns it and its token (random, made for this test).</summary>
    public (NodeIdentity Node, string Token) Enrol(string name)
    {
        var node = new NodeIdentity($"n{Interlocked.Increment(ref _next)}", name, Revoked: false);
        var token = "lnn_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace('+', '-').Replace('/', '_');
        _byToken[token] = node;
        return (node, token);
    }

    public void Revoke(string nodeId)
    {
        foreach (var (token, node) in _byToken)
        {
            if (node.Id == nodeId)
            {
                _byToken[token] = node with { Revoked = true };
            }
        }
    }

    public void Forget(string nodeId)
    {
        foreach (var (token, node) in _byToken)
        {
            if (node.Id == nodeId)
            {
                _byToken.TryRemove(token, out _);
            }
        }
    }

    public Task<NodeIdentity?> AuthenticateAsync(string token, CancellationToken cancellationToken) =>
        Task.FromResult(_byToken.GetValueOrDefault(token));

    public Task ConnectedAsync(string nodeId, string mode, string softwareVersion, long ruleVersion, CancellationToken cancellationToken) =>
        Record($"connected {nodeId} {mode} {softwareVersion} {ruleVersion}");

    public Task DisconnectedAsync(string nodeId, CancellationToken cancellationToken) => Record($"disconnected {nodeId}");

    /// <summary>How many groups of acks were recorded (each one transaction in the real registry).</summary>
    public int AppliedGroups => _appliedGroups;

    /// <summary>Runs before each group of acks is recorded: a test holds the store up with it, or makes it fail.</summary>
    public Func<Task>? BeforeApplied { get; set; }

    public async Task AppliedAsync(IReadOnlyList<NodeApplied> applied, CancellationToken cancellationToken)
    {
        if (BeforeApplied is { } before)
        {
            await before();
        }
        Interlocked.Increment(ref _appliedGroups);
        foreach (var (nodeId, version) in applied)
        {
            _journal.Enqueue($"applied {nodeId} {version}");
        }
    }

    public Task RefusedAsync(string nodeId, long version, string error, CancellationToken cancellationToken) => Record($"refused {nodeId} {version} {error}");

    public Task SeenAsync(string nodeId, CancellationToken cancellationToken)
    {
        _seen.AddOrUpdate(nodeId, 1, (_, count) => count + 1);
        return Task.CompletedTask;
    }

    private Task Record(string entry)
    {
        _journal.Enqueue(entry);
        return Task.CompletedTask;
    }
}
