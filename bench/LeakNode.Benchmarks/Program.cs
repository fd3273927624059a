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

// `propagation [nodes…] [--rounds N]`: a real cloud and simulated nodes; rule propagation and event ingest
// (Propagation/PropagationBenchmark.cs). Not a BenchmarkDotNet benchmark: it times a distributed round trip.
if (args.Length > 0 && args[0] == "propagation")
{
    var rounds = args.SkipWhile(a => a != "--rounds").Skip(1).Select(int.Parse).FirstOrDefault(30);
    var counts = args.Skip(1).TakeWhile(a => a != "--rounds").Select(int.Parse).ToArray();
    await LeakNode.Benchmarks.Propagation.PropagationBenchmark.RunAsync(
        counts.Length > 0 ? counts : [1, 50, 200], rounds, eventStreams: 4, eventsPerStream: 50_000, batchSize: 500);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(ScanBenchmarks).Assembly).Run(args);
