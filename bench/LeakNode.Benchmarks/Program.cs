using BenchmarkDotNet.Running;
using LeakNode.Benchmarks;

// `memory` prints the memory table (bytes per token for each engine); anything else goes to BenchmarkDotNet
// (e.g. `--filter '*Scan*'`). See bench/README.md for the commands that produced the published numbers.
if (args.Length > 0 && args[0] == "memory")
{
    MemoryReport.Run(
        args.Skip(1).Where(a => !a.StartsWith("--", StringComparison.Ordinal)).Select(int.Parse).ToArray(),
        leakNodeOnly: args.Contains("--leaknode-only"));
    return;
}

if (args.Length > 1 && args[0] == "quick")
{
    var mix = args.Contains("mixed") ? "mixed" : "long";
    QuickScan.Run(args.Skip(1).Where(a => a != "mixed" && a != "long").Select(int.Parse).ToArray(), mix);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(ScanBenchmarks).Assembly).Run(args);
