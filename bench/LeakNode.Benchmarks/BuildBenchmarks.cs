using BenchmarkDotNet.Attributes;
using LeakNode.Benchmarks.Data;
using LeakNode.Matching;
using LeakNode.Matching.Rules;

namespace LeakNode.Benchmarks;

/// <summary>
/// Building a matcher from a rule set in digest form (what a node does with a snapshot from the cloud), and
/// putting one new leak live on top of N tokens (what a node does with each decision: a copy-on-write update).
/// </summary>
[Config(typeof(BenchConfig))]
[MemoryDiagnoser]
public class BuildBenchmarks
{
    private RuleSet _rules = RuleSet.Empty;
    private TokenMatcher? _matcher;
    private RuleSetDelta? _addOne;
    private RuleSetDelta? _removeOne;

    [Params(1_000, 10_000, 100_000, 1_000_000)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _rules = BenchData.RuleSet(BenchData.Tokens(N, "mixed"));
        _matcher = TokenMatcher.Build(BenchData.Key, _rules);
        var extra = BenchData.RuleSet(BenchData.Tokens(BenchData.TokensPerLeak, "long")).Leaks[0] with { Id = "leak_new" };
        _addOne = RuleSetDelta.Upsert(_rules.Version, _rules.Version + 1, extra);
        _removeOne = RuleSetDelta.Remove(_rules.Version, _rules.Version + 1, _rules.Leaks[^1].Id);
    }

    [Benchmark]
    public TokenMatcher Build() => TokenMatcher.Build(BenchData.Key, _rules);

    [Benchmark]
    public TokenMatcher AddOneLeak() => _matcher!.Apply(_addOne!);

    [Benchmark]
    public TokenMatcher RemoveOneLeak() => _matcher!.Apply(_removeOne!);

    /// <summary>The background merge: the same version rebuilt compactly (LiveMatcher runs it off the hot path).</summary>
    [Benchmark]
    public TokenMatcher Compact() => _matcher!.Compact();
}
