using System.Globalization;

namespace LeakNode.Scanner.Reporting;

/// <summary>The terminal summary: each finding in two lines (what, where), then one line of totals.</summary>
internal static class TextReport
{
    public static void Write(ScanResult result, TextWriter writer, bool redact)
    {
        foreach (var f in result.Findings)
        {
            writer.WriteLine($"{f.Severity.Name().ToUpperInvariant(),-8} {f.RuleId} ({f.Kind})  {ReportWriter.Shown(f, redact)}");
            var where = $"         {f.Path}:{f.StartLine}:{f.StartColumn}";
            if (f.Commit is not null)
            {
                where += $"  commit {f.Commit[..Math.Min(12, f.Commit.Length)]} by {f.Author} on {f.Date?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}";
            }
            writer.WriteLine(where);
        }
        if (result.Findings.Count > 0)
        {
            writer.WriteLine();
        }
        foreach (var notice in result.Notices)
        {
            writer.WriteLine($"note: {notice}");
        }

        var stats = result.Statistics;
        var summary = result.Findings.Count == 0
            ? "No leaks found"
            : $"{result.Findings.Count} {(result.Findings.Count == 1 ? "leak" : "leaks")} found ({string.Join(", ", result.Findings.GroupBy(f => f.Severity).OrderByDescending(g => g.Key).Select(g => $"{g.Count()} {g.Key.Name()}"))})";
        summary += $" in {stats.Documents} documents, {FormatBytes(stats.Bytes)}, {result.Duration.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s";
        if (result.SuppressedByBaseline > 0)
        {
            summary += $"; {result.SuppressedByBaseline} known from the baseline not shown";
        }
        writer.WriteLine(summary + ".");
    }

    internal static string FormatBytes(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => (bytes / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " KiB",
        < 1024L * 1024 * 1024 => (bytes / (1024.0 * 1024)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB",
        _ => (bytes / (1024.0 * 1024 * 1024)).ToString("0.00", CultureInfo.InvariantCulture) + " GiB",
    };
}
