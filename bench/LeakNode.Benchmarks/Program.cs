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

// The value after `--name`, if given.
string? Option(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();

// `propagation [nodes…] [--rounds N] [--postgres CONNSTRING]`: a real cloud and simulated nodes; rule propagation and
// event ingest, on SQLite and then on PostgreSQL when a server is given (Propagation/PropagationBenchmark.cs). Not a
// BenchmarkDotNet benchmark: it times a distributed round trip.
if (args.Length > 0 && args[0] == "propagation")
{
    var rounds = int.Parse(Option("--rounds") ?? "30", System.Globalization.CultureInfo.InvariantCulture);
    var counts = args.Skip(1).TakeWhile(a => !a.StartsWith("--", StringComparison.Ordinal)).Select(int.Parse).ToArray();
    await LeakNode.Benchmarks.Propagation.PropagationBenchmark.RunAsync(
        counts.Length > 0 ? counts : [1, 50, 200], rounds, eventStreams: 4, eventsPerStream: 50_000, batchSize: 500, postgres: Option("--postgres"));
    return;
}

// `attacks-scale [--events N] [--days D] [--rounds R] [--postgres CONNSTRING]`: list, totals, charts and retention over
// millions of stored attack events, SQLite and PostgreSQL side by side (Attacks/AttacksScaleBenchmark.cs).
if (args.Length > 0 && args[0] == "attacks-scale")
{
    await LeakNode.Benchmarks.Attacks.AttacksScaleBenchmark.RunAsync(
        long.Parse(Option("--events") ?? "10000000", System.Globalization.CultureInfo.InvariantCulture),
        int.Parse(Option("--days") ?? "90", System.Globalization.CultureInfo.InvariantCulture),
        Option("--postgres"),
        int.Parse(Option("--rounds") ?? "15", System.Globalization.CultureInfo.InvariantCulture));
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(ScanBenchmarks).Assembly).Run(args);
