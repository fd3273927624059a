using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using LeakNode.Benchmarks.Data;

namespace LeakNode.Benchmarks;

/// <summary>
/// Few iterations (setups are long: Hyperscan compiles 1M literals in about a minute) and a GB/s column for
/// the scan benchmarks, where the corpus size makes the time per scan a throughput.
/// </summary>
public sealed class BenchConfig : ManualConfig
{
    public BenchConfig()
    {
        AddJob(Job.Default.WithWarmupCount(3).WithIterationCount(8).WithLaunchCount(1));
        AddColumn(new ThroughputColumn());
        WithOption(ConfigOptions.DisableLogFile, false);
        WithSummaryStyle(SummaryStyle.Default.WithRatioStyle(RatioStyle.Trend));
    }

    private sealed class ThroughputColumn : IColumn
    {
        public string Id => "Throughput";

        public string ColumnName => "GB/s";

        public bool AlwaysShow => true;

        public ColumnCategory Category => ColumnCategory.Custom;

        public int PriorityInCategory => 0;

        public bool IsNumeric => true;

        public UnitType UnitType => UnitType.Dimensionless;

        public string Legend => $"Corpus bytes ({BenchData.CorpusBytes:N0}) scanned per second, in 10^9";

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var report = summary[benchmarkCase];
            if (benchmarkCase.Descriptor.Type != typeof(ScanBenchmarks) || report?.ResultStatistics is not { } statistics)
            {
                return "-";
            }
            return (BenchData.CorpusBytes / statistics.Mean).ToString("0.000", System.Globalization.CultureInfo.InvariantCulture);
        }

        public bool IsAvailable(Summary summary) => true;

        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    }
}
