using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using LeakNode.Benchmarks.Data;
using LeakNode.Benchmarks.Hyperscan;
using LeakNode.Matching;

namespace LeakNode.Benchmarks;

/// <summary>
/// Memory per token and first build time of each engine in a fresh process: what stays on the managed heap
/// after a full GC (LeakNode, SearchValues) or the native database size (Hyperscan). BenchmarkDotNet's
/// MemoryDiagnoser counts bytes an operation allocates, not bytes it keeps, so this is a separate run:
/// <c>memory [N…] [--leaknode-only]</c>.
/// </summary>
internal static class MemoryReport
{
    public static void Run(int[] sizes, bool leakNodeOnly)
    {
        if (sizes.Length == 0)
        {
            sizes = [1_000, 10_000, 100_000, 1_000_000];
        }
        var hyperscan = HyperscanDatabase.IsAvailable(out var reason);
        Console.WriteLine("| N | engine | first build | retained | bytes/token |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (var n in sizes)
        {
            var tokens = BenchData.Tokens(n, "mixed");
            var rules = BenchData.RuleSet(tokens);

            var (build, bytes, matcherBytes) = Measure(() => TokenMatcher.Build(BenchData.Key, rules), m => m.MemoryBytes);
            Row(n, "LeakNode (from digests)", build, bytes, $" (its own count: {matcherBytes / n} B/token)");

            var watch = Stopwatch.StartNew();
            var fromPlaintext = TokenMatcher.Build(BenchData.Key, BenchData.RuleSet(tokens));
            Console.WriteLine($"| {n:N0} | LeakNode (from plaintext: digests on 2 cores, then build) | {watch.Elapsed.TotalMilliseconds:N0} ms | | |");
            GC.KeepAlive(fromPlaintext);

            if (leakNodeOnly)
            {
                continue;
            }

            var strings = tokens.Select(t => Encoding.Latin1.GetString(t)).ToArray();
            (build, bytes, _) = Measure(() => SearchValues.Create(strings, StringComparison.Ordinal), _ => 0);
            Row(n, "SearchValues<string>", build, bytes, "");

            if (hyperscan)
            {
                watch.Restart();
                using var database = HyperscanDatabase.CompileLiterals(tokens);
                Row(n, "Hyperscan (literal)", watch.Elapsed, database.DatabaseBytes, " (native database)");
            }
            else
            {
                Console.WriteLine($"| {n:N0} | Hyperscan | not run: {reason} | | |");
            }
        }

        static void Row(int n, string engine, TimeSpan build, long bytes, string note) =>
            Console.WriteLine($"| {n:N0} | {engine} | {build.TotalMilliseconds:N0} ms | {bytes / (1024.0 * 1024):N1} MiB | {bytes / n:N0}{note} |");
    }

    // Builds in a frame of its own, so that nothing the build used stays alive in this method's stack slots
    // when the heap is measured (tier-0 code keeps temporaries alive to the end of the method).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (TimeSpan Build, long Retained, long Reported) Measure<T>(Func<T> build, Func<T, long> reported)
        where T : class
    {
        var before = Retained();
        var watch = Stopwatch.StartNew();
        var built = build();
        watch.Stop();
        var after = Retained();
        var result = (watch.Elapsed, after - before, reported(built));
        GC.KeepAlive(built);
        return result;
    }

    private static long Retained()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
