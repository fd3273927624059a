using System.Buffers;
using System.Diagnostics;
using System.Text;
using LeakNode.Benchmarks.Data;
using LeakNode.Benchmarks.Hyperscan;
using LeakNode.Matching;

namespace LeakNode.Benchmarks;

/// <summary>
/// Memory per token and build time of each engine, measured as what stays on the managed heap after a full GC
/// (LeakNode, SearchValues) or the native database size (Hyperscan). BenchmarkDotNet's MemoryDiagnoser counts
/// bytes allocated by an operation, not bytes retained, so this is a separate run.
/// </summary>
internal static class MemoryReport
{
    public static void Run(int[] sizes)
    {
        if (sizes.Length == 0)
        {
            sizes = [1_000, 10_000, 100_000, 1_000_000];
        }
        var hyperscan = HyperscanDatabase.IsAvailable(out var reason);
        Console.WriteLine($"| N | engine | build | retained | bytes/token |");
        Console.WriteLine($"|---|---|---|---|---|");
        foreach (var n in sizes)
        {
            var tokens = BenchData.Tokens(n, "mixed");
            var rules = BenchData.RuleSet(tokens);

            var before = Retained();
            var watch = Stopwatch.StartNew();
            var matcher = TokenMatcher.Build(BenchData.Key, rules);
            watch.Stop();
            var after = Retained();
            Row(n, "LeakNode (from digests)", watch.Elapsed, after - before, $"MemoryBytes {matcher.MemoryBytes / n} B/token");
            GC.KeepAlive(matcher);
            matcher = null;

            before = Retained();
            watch.Restart();
            var fromPlaintext = TokenMatcher.Build(BenchData.Key, BenchData.RuleSet(tokens));
            watch.Stop();
            Row(n, "LeakNode (from plaintext: digest + build, 2 cores)", watch.Elapsed, Retained() - before, "");
            GC.KeepAlive(fromPlaintext);
            fromPlaintext = null;

            var strings = tokens.Select(t => Encoding.Latin1.GetString(t)).ToArray();
            before = Retained();
            watch.Restart();
            var searchValues = SearchValues.Create(strings, StringComparison.Ordinal);
            watch.Stop();
            Row(n, "SearchValues<string>", watch.Elapsed, Retained() - before, "");
            GC.KeepAlive(searchValues);
            searchValues = null;

            if (hyperscan)
            {
                watch.Restart();
                using var database = HyperscanDatabase.CompileLiterals(tokens);
                watch.Stop();
                Row(n, "Hyperscan (literal)", watch.Elapsed, database.DatabaseBytes, "native database");
            }
            else
            {
                Console.WriteLine($"| {n:N0} | Hyperscan | not run: {reason} | | |");
            }
        }

        void Row(int n, string engine, TimeSpan build, long bytes, string note) =>
            Console.WriteLine($"| {n:N0} | {engine} | {build.TotalMilliseconds:N0} ms | {bytes / (1024.0 * 1024):N1} MiB | {bytes / n:N0} {note} |");
    }

    private static long Retained()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
