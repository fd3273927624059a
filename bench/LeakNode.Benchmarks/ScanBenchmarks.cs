using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using LeakNode.Benchmarks.Data;
using LeakNode.Benchmarks.Hyperscan;
using LeakNode.Matching;

namespace LeakNode.Benchmarks;

/// <summary>
/// Scan throughput, one core, the same 8 MiB HTTP corpus and the same N tokens for every engine: LeakNode's
/// matcher, the runtime's <see cref="SearchValues{T}"/> of strings (Aho-Corasick above 80 needles; it needs
/// chars, so it scans the corpus widened to UTF-16, as a .NET proxy would), and Hyperscan in literal mode.
/// Each benchmark returns the number of matches, checked against the planted count in setup.
/// </summary>
[Config(typeof(BenchConfig))]
[MemoryDiagnoser]
public class ScanBenchmarks
{
    // Kestrel hands a request body over in buffers of a few KiB; 16 KiB chunks make the scanner's carry and
    // chunk-boundary work show up in the numbers as it will in the node.
    private const int ChunkBytes = 16 * 1024;

    private byte[] _corpus = [];
    private int _expected;
    private TokenMatcher? _matcher;
    private SearchValues<string>? _searchValues;
    private char[] _corpusChars = [];
    private HyperscanDatabase? _hyperscan;

    [Params(1_000, 10_000, 100_000, 1_000_000)]
    public int N { get; set; }

    [ParamsSource(nameof(Mixes))]
    public string Mix { get; set; } = "long";

    public static IEnumerable<string> Mixes => BenchData.Mixes;

    [GlobalSetup(Target = nameof(LeakNode))]
    public void SetupLeakNode()
    {
        var tokens = Prepare();
        _matcher = TokenMatcher.Build(BenchData.Key, BenchData.RuleSet(tokens));
        Check(nameof(LeakNode), LeakNode());
    }

    [GlobalSetup(Target = nameof(SearchValuesAhoCorasick))]
    public void SetupSearchValues()
    {
        var tokens = Prepare();
        _searchValues = SearchValues.Create(tokens.Select(t => Encoding.Latin1.GetString(t)).ToArray(), StringComparison.Ordinal);
        _corpusChars = Encoding.Latin1.GetString(_corpus).ToCharArray();
        Check(nameof(SearchValuesAhoCorasick), SearchValuesAhoCorasick());
    }

    [GlobalSetup(Target = nameof(Hyperscan))]
    public void SetupHyperscan()
    {
        var tokens = Prepare();
        if (!HyperscanDatabase.IsAvailable(out var reason))
        {
            throw new InvalidOperationException($"Hyperscan is not available ({reason}); install libhyperscan5.");
        }
        _hyperscan = HyperscanDatabase.CompileLiterals(tokens);
        Check(nameof(Hyperscan), Hyperscan());
    }

    [GlobalCleanup]
    public void Cleanup() => _hyperscan?.Dispose();

    [Benchmark(Baseline = true)]
    public long LeakNode()
    {
        var sink = new CountingSink();
        using var scanner = _matcher!.RentScanner();
        var data = _corpus.AsSpan();
        for (var offset = 0; offset < data.Length; offset += ChunkBytes)
        {
            scanner.Write(data.Slice(offset, Math.Min(ChunkBytes, data.Length - offset)), ref sink);
        }
        return sink.Count;
    }

    [Benchmark]
    public long SearchValuesAhoCorasick()
    {
        long count = 0;
        ReadOnlySpan<char> rest = _corpusChars;
        for (int at; (at = rest.IndexOfAny(_searchValues!)) >= 0; rest = rest[(at + 1)..])
        {
            count++;
        }
        return count;
    }

    [Benchmark]
    public long Hyperscan() => _hyperscan!.Scan(_corpus);

    private List<byte[]> Prepare()
    {
        var tokens = BenchData.Tokens(N, Mix);
        var corpus = BenchData.Corpus(tokens);
        _corpus = corpus.Data;
        _expected = BenchData.Expected(corpus);
        return tokens;
    }

    private void Check(string engine, long count)
    {
        if (count != _expected)
        {
            throw new InvalidOperationException($"{engine} counted {count} matches at N = {N} ({Mix}); the corpus holds {_expected}.");
        }
    }

    private struct CountingSink : IMatchSink
    {
        public long Count;

        public void OnMatch(in TokenMatch match) => Count++;
    }
}
