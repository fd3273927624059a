using System.Runtime.Intrinsics.X86;
using LeakNode.Matching.Engine;
using LeakNode.Matching.Rules;
using LeakNode.Matching.Tests.Support;
using LeakNode.Testing;

namespace LeakNode.Matching.Tests.Engine;

/// <summary>
/// Every probe loop (scalar, AVX2, AVX2 with gather, AVX2 with prefetch) against the oracle, including inputs
/// that fill the pass buffer again and again, so that each loop's resume logic is exercised.
/// </summary>
public sealed class WindowProbeTests
{
    public static TheoryData<string> Modes => new(Enum.GetNames<ProbeMode>());

    [Theory]
    [MemberData(nameof(Modes))]
    public void Scan_RandomSets_EqualsOracleInEveryMode(string mode)
    {
        using var forced = Force(mode);
        for (var seed = 0; seed < 8; seed++)
        {
            var random = new Random(seed);
            var factory = new TokenFactory(seed);
            var rules = new TestRules();
            var tokens = Enumerable.Range(0, random.Next(1, 300)).Select(_ => factory.Mixed()).ToArray();
            rules.Put("leak", RuleAction.Block, tokens);
            var matcher = rules.Build();
            var data = Haystacks.Plant(random, Haystacks.Noise(random, 40_000), tokens, 80);

            var expected = Oracle.Find(data, rules.Tokens);
            Assert.Equal(expected, Scan.Found(matcher, data, Scan.Whole()));
            Assert.Equal(expected, Scan.Found(matcher, data, Scan.RandomSizes(random, 3000)));
        }
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Scan_TokensBackToBack_FillsPassBufferAndFindsAll(string mode)
    {
        using var forced = Force(mode);
        var factory = new TokenFactory(77);
        var rules = new TestRules();
        var tokens = Enumerable.Range(0, 40).Select(_ => factory.RealWorld()).ToArray();
        rules.Put("leak", RuleAction.Block, tokens);
        var matcher = rules.Build();
        var random = new Random(77);
        var data = Enumerable.Range(0, 3000).SelectMany(_ => tokens[random.Next(tokens.Length)]).ToArray();

        var expected = Oracle.Find(data, rules.Tokens);
        Assert.True(expected.Count >= 3000);
        Assert.Equal(expected, Scan.Found(matcher, data, Scan.Whole()));
        Assert.Equal(expected, Scan.Found(matcher, data, Scan.Fixed(5000)));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Scan_SaturatedFilter_EveryProbePassesAndResultsStayExact(string mode)
    {
        using var forced = Force(mode);
        // A matcher built for one token and then grown by updates: its filters are far past their design size,
        // so nearly every probe passes and the loops stop to drain the pass buffer every few windows.
        var factory = new TokenFactory(5);
        var rules = new TestRules();
        rules.Put("seed", RuleAction.Block, factory.RealWorld());
        var matcher = rules.Build();
        for (var i = 0; i < 400; i++)
        {
            matcher = matcher.Apply(RuleSetDelta.Upsert(rules.Version, rules.NextVersion(), rules.Put($"l{i}", RuleAction.Block, factory.Mixed(), factory.Mixed())));
        }
        var random = new Random(5);
        var data = Haystacks.Plant(random, Haystacks.Noise(random, 30_000), rules.Tokens.Values.ToList(), 150);

        Assert.Equal(Oracle.Find(data, rules.Tokens), Scan.Found(matcher, data, Scan.RandomSizes(random, 5000)));
    }

    private static ModeScope Force(string mode)
    {
        var value = Enum.Parse<ProbeMode>(mode);
        if (value != ProbeMode.Scalar && !Avx2.IsSupported)
        {
            Assert.Skip($"{value} needs AVX2, which this machine does not have.");
        }
        return new ModeScope(value);
    }

    private sealed class ModeScope : IDisposable
    {
        public ModeScope(ProbeMode mode) => WindowProbe.Mode = mode;

        public void Dispose() => WindowProbe.Mode = null;
    }
}
