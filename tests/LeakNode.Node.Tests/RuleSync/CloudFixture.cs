using LeakNode.Matching.Rules;
using LeakNode.Node.Tests.Support;

namespace LeakNode.Node.Tests.RuleSync;

/// <summary>A test cloud, a state directory that outlives node restarts, and the node(s) started against them; all removed at the end.</summary>
internal sealed class CloudFixture : IAsyncDisposable
{
    private readonly List<NodeHarness> _nodes = [];

    private CloudFixture(TestCloud cloud, string stateDir)
    {
        Cloud = cloud;
        StateDir = stateDir;
    }

    public TestCloud Cloud { get; }

    public CloudScript Script => Cloud.Script;

    public string StateDir { get; }

    public static async Task<CloudFixture> StartAsync(CloudScript? script = null) =>
        new(await TestCloud.StartAsync(script), Directory.CreateTempSubdirectory("leaknode-sync-state-").FullName);

    /// <summary>Starts a node against the cloud (or <paramref name="urls"/>), with this fixture's state directory.</summary>
    public async Task<NodeHarness> StartNodeAsync(IDictionary<string, string?>? settings = null, string? token = null, IEnumerable<string>? urls = null)
    {
        var node = await NodeHarness.StartWithCloudAsync(urls ?? [Cloud.Url], token ?? Script.Token, StateDir, settings);
        _nodes.Add(node);
        return node;
    }

    /// <summary>Has the cloud send a snapshot of one leak, <c>leak-a</c>, holding <paramref name="token"/>; starts a node and waits for its ack.</summary>
    public async Task<NodeHarness> StartNodeWithLeakAsync(
        string token, RuleAction action = RuleAction.Block, long version = 1, IDictionary<string, string?>? settings = null, IEnumerable<string>? urls = null)
    {
        Script.OnHello = _ => CloudScript.Snapshot(version, 100, Script.Leak("leak-a", action, token));
        var node = await StartNodeAsync(settings, urls: urls);
        var ack = await Script.NextAckAsync();
        Assert.True(ack.Applied, ack.Error);
        Assert.Equal(version, ack.Version);
        return node;
    }

    /// <summary>Stops a node as a restart would (its events go to the spool).</summary>
    public async Task StopNodeAsync(NodeHarness node)
    {
        _nodes.Remove(node);
        await node.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
        await Cloud.DisposeAsync();
        try
        {
            Directory.Delete(StateDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
