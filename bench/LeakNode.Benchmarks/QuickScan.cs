using System.Diagnostics;
using LeakNode.Benchmarks.Data;
using LeakNode.Matching;
using LeakNode.Matching.Engine;

namespace LeakNode.Benchmarks;

/// <summary>
/// A fast, rough scan-throughput check (best of several runs, stopwatch) for trying a change before the full
/// BenchmarkDotNet run: <c>dotnet run -c Release --project bench/LeakNode.Benchmarks -- quick 1000 100000</c>.
/// </summary>
internal static class QuickScan
{
    public static void Run(int[] sizes, string mix)
    {
        foreach (var n in sizes)
        {
            var tokens = BenchData.Tokens(n, mix);
            var corpus = BenchData.Corpus(tokens);
            var expected = BenchData.Expected(corpus);
            var matcher = TokenMatcher.Build(BenchData.Key, BenchData.RuleSet(tokens));
            // Variants are interleaved run by run, so that a noisy neighbour or a frequency change hits them alike.
            (string Name, Action Set)[] variants =
            [
                ("default", () => WindowProbe.Mode = null),
                ("avx2", () => WindowProbe.Mode = ProbeMode.Avx2),
                ("avx2+gather", () => WindowProbe.Mode = ProbeMode.Avx2Gather),
                ("avx2+prefetch", () => WindowProbe.Mode = ProbeMode.Avx2Prefetch),
                ("scalar", () => WindowProbe.Mode = ProbeMode.Scalar),
            ];
            var best = new double[variants.Length];
            Array.Fill(best, double.MaxValue);
            long count = 0;
            for (var run = 0; run < 12; run++)
            {
                for (var v = 0; v < variants.Length; v++)
                {
                    variants[v].Set();
                    var watch = Stopwatch.StartNew();
                    count = Scan(matcher, corpus.Data);
                    best[v] = Math.Min(best[v], watch.Elapsed.TotalSeconds);
                    if (count != expected)
                    {
                        Console.WriteLine($"MISMATCH {variants[v].Name}: {count} matches, expected {expected}");
                    }
                }
            }
            Console.WriteLine($"N={n,9:N0} {mix,-6} " + string.Join("  ", variants.Select((v, k) => $"{v.Name} {corpus.Data.Length / best[k] / 1e9,5:F2}")) + $" GB/s  ({expected} matches)");
            variants[0].Set();
        }
    }

    private static long Scan(TokenMatcher matcher, byte[] data)
    {
        var sink = new Counter();
        using var scanner = matcher.RentScanner();
        for (var offset = 0; offset < data.Length; offset += 16384)
        {
            scanner.Write(data.AsSpan(offset, Math.Min(16384, data.Length - offset)), ref sink);
        }
        return sink.Count;
    }

    private struct Counter : IMatchSink
    {
        public long Count;

        public void OnMatch(in TokenMatch match) => Count++;
    }
}
