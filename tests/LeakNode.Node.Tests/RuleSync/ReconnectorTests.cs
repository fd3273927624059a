using LeakNode.Node.RuleSync;

namespace LeakNode.Node.Tests.RuleSync;

public sealed class ReconnectorTests
{
    private static readonly TimeSpan Initial = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Max = TimeSpan.FromSeconds(3);

    [Fact]
    public void Ceiling_DoublesPerRoundUpToTheMaximum()
    {
        var reconnector = new Reconnector(["http://a"], Initial, Max);

        var ceilings = Enumerable.Range(0, 8).Select(r => reconnector.Ceiling(r).TotalMilliseconds).ToArray();

        Assert.Equal([100, 200, 400, 800, 1600, 3000, 3000, 3000], ceilings);
        Assert.Equal(Max, reconnector.Ceiling(int.MaxValue));
    }

    [Fact]
    public void Failed_WaitsAreDrawnBelowTheGrowingCeiling()
    {
        var reconnector = new Reconnector(["http://a"], Initial, Max, new Random(1));

        for (var round = 0; round < 200; round++)
        {
            var wait = reconnector.Failed(refused: false);
            Assert.InRange(wait, TimeSpan.Zero, reconnector.Ceiling(round));
        }
        // Full jitter spreads the waits over the whole interval, not near its top only.
        var late = Enumerable.Range(0, 200).Select(_ => reconnector.Failed(refused: false).TotalMilliseconds).ToArray();
        Assert.InRange(late.Average(), 1200, 1800);
        Assert.Contains(late, w => w < 300);
    }

    [Fact]
    public void Failed_TriesEveryReplicaAtOnceBeforeWaiting()
    {
        var reconnector = new Reconnector(["http://a", "http://b", "http://c"], Initial, Max, new Random(2));

        Assert.Equal("http://a", reconnector.Endpoint);
        Assert.Equal(TimeSpan.Zero, reconnector.Failed(refused: false));
        Assert.Equal("http://b", reconnector.Endpoint);
        Assert.Equal(TimeSpan.Zero, reconnector.Failed(refused: false));
        Assert.Equal("http://c", reconnector.Endpoint);
        Assert.InRange(reconnector.Failed(refused: false), TimeSpan.Zero, Initial);
        Assert.Equal("http://a", reconnector.Endpoint);
        Assert.True(reconnector.Failing);

        reconnector.Succeeded();

        Assert.False(reconnector.Failing);
    }

    [Fact]
    public void Failed_TokenRefused_WaitsLong()
    {
        var reconnector = new Reconnector(["http://a"], Initial, Max, new Random(3));

        Assert.InRange(reconnector.Failed(refused: true), Max / 2, Max);
    }
}
