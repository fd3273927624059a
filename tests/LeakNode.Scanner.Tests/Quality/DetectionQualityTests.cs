using System.Globalization;
using System.Text;
using LeakNode.Scanner.Detection;

namespace LeakNode.Scanner.Tests.Quality;

/// <summary>
/// Precision and recall of the built-in detectors on a labelled corpus (<see cref="LabelledCorpus"/>), printed
/// per kind; the targets are recall ≥ 99% and precision ≥ 95% for every kind.
/// </summary>
public sealed class DetectionQualityTests
{
    private const double RecallTarget = 0.99;
    private const double PrecisionTarget = 0.95;

    [Fact]
    public void Scan_LabelledCorpus_EveryKindMeetsRecallAndPrecisionTargets()
    {
        var corpus = new LabelledCorpus(seed: 2026).Documents(tokensPerKind: 100, lookAlikeFiles: 600).ToList();
        var scanner = new SecretScanner();
        var counts = BuiltInDetectors.All.ToDictionary(r => r.Id, _ => (Tp: 0, Fp: 0, Fn: 0));
        var falsePositives = new List<string>();

        foreach (var document in corpus)
        {
            var findings = scanner.ScanContent(document.Path, Encoding.UTF8.GetBytes(document.Text));
            var expected = document.Secrets.ToHashSet();
            var found = findings.Select(f => (f.RuleId, f.Secret)).ToHashSet();
            foreach (var hit in found)
            {
                var c = counts[hit.RuleId];
                if (expected.Contains(hit))
                {
                    counts[hit.RuleId] = c with { Tp = c.Tp + 1 };
                }
                else
                {
                    counts[hit.RuleId] = c with { Fp = c.Fp + 1 };
                    falsePositives.Add($"{hit.RuleId} in {document.Path}: {SecretPreview.Of(hit.Secret, null)} (len {hit.Secret.Length})");
                }
            }
            foreach (var miss in expected.Where(e => !found.Contains(e)))
            {
                var c = counts[miss.RuleId];
                counts[miss.RuleId] = c with { Fn = c.Fn + 1 };
            }
        }

        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"{"kind",-28} {"TP",5} {"FP",4} {"FN",4} {"precision",9} {"recall",7}");
        var failures = new List<string>();
        foreach (var (id, c) in counts.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var precision = c.Tp + c.Fp == 0 ? 1.0 : c.Tp / (double)(c.Tp + c.Fp);
            var recall = c.Tp + c.Fn == 0 ? 1.0 : c.Tp / (double)(c.Tp + c.Fn);
            report.AppendLine(CultureInfo.InvariantCulture, $"{id,-28} {c.Tp,5} {c.Fp,4} {c.Fn,4} {precision,9:P1} {recall,7:P1}");
            if (precision < PrecisionTarget || recall < RecallTarget)
            {
                failures.Add($"{id}: precision {precision:P1}, recall {recall:P1}");
            }
        }
        var totalTp = counts.Values.Sum(c => c.Tp);
        var totalFp = counts.Values.Sum(c => c.Fp);
        var totalFn = counts.Values.Sum(c => c.Fn);
        report.AppendLine(CultureInfo.InvariantCulture,
            $"{"all",-28} {totalTp,5} {totalFp,4} {totalFn,4} {totalTp / (double)(totalTp + totalFp),9:P1} {totalTp / (double)(totalTp + totalFn),7:P1}   ({LabelledCorpus.Describe(corpus)})");
        TestContext.Current.TestOutputHelper?.WriteLine(report.ToString());
        foreach (var fp in falsePositives.Take(20))
        {
            TestContext.Current.TestOutputHelper?.WriteLine("false positive: " + fp);
        }

        Assert.True(failures.Count == 0, string.Join("; ", failures) + "\n" + report);
    }
}
