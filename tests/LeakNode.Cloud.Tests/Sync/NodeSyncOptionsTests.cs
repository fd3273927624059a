using LeakNode.Cloud.Sync;
using LeakNode.Cloud.Tests.Support;
using Microsoft.Extensions.Options;

namespace LeakNode.Cloud.Tests.Sync;

public sealed class NodeSyncOptionsTests
{
    [Fact]
    public void Validate_Defaults_AreValid() =>
        Assert.True(new NodeSyncOptionsValidator().Validate(null, new NodeSyncOptions()).Succeeded);

    [Fact]
    public void Validate_SeveralProblems_ReportsEachNamingItsKey()
    {
        var result = new NodeSyncOptionsValidator().Validate(null, new NodeSyncOptions
        {
            RevocationCheckInterval = TimeSpan.Zero,
            AckTimeout = TimeSpan.FromSeconds(-1),
            SnapshotTokensPerPart = 0,
        });

        Assert.True(result.Failed);
        Assert.Equal(3, result.Failures!.Count());
        Assert.Contains(result.Failures!, f => f.StartsWith("NodeSync:RevocationCheckInterval", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("NodeSync:AckTimeout", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("NodeSync:SnapshotTokensPerPart", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Start_WithBadOptions_FailsWithTheProblems()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => SyncServer.StartAsync(new Dictionary<string, string?>
        {
            ["NodeSync:AckTimeout"] = "00:00:00",
        }));

        Assert.Contains("NodeSync:AckTimeout", error.Message, StringComparison.Ordinal);
    }
}
