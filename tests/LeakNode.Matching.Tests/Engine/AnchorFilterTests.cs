using LeakNode.Matching.Engine;

namespace LeakNode.Matching.Tests.Engine;

public sealed class AnchorFilterTests
{
    [Theory]
    [InlineData(1_000)]
    [InlineData(100_000)]
    [InlineData(2_000_000)]
    public void MayContain_AbsentHashes_FalsePositiveRateNearDesign(int anchors)
    {
        var random = new Random(anchors);
        var filter = AnchorFilter.ForAnchors(anchors);
        for (var i = 0; i < anchors; i++)
        {
            filter.Add((uint)random.NextInt64(0, 1L << 32));
        }

        var passes = 0;
        const int Probes = 1_000_000;
        for (var i = 0; i < Probes; i++)
        {
            if (filter.MayContain((uint)random.NextInt64(0, 1L << 32)))
            {
                passes++;
            }
        }

        // Between 16 and 32 bits an anchor (power-of-two sizing): 0.1 % to about 1 % including the blocking penalty.
        var rate = (double)passes / Probes;
        Assert.InRange(rate, 0.0005, 0.012);
    }

    [Fact]
    public void MayContain_AddedHashes_AlwaysTrue()
    {
        var random = new Random(5);
        var filter = AnchorFilter.ForAnchors(10_000);
        var added = Enumerable.Range(0, 10_000).Select(_ => (uint)random.NextInt64(0, 1L << 32)).ToArray();
        foreach (var hash in added)
        {
            filter.Add(hash);
        }

        Assert.All(added, hash => Assert.True(filter.MayContain(hash)));
    }
}
