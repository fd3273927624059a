namespace LeakNode.Scanner.Reporting;

/// <summary>The report formats of <c>leaknode scan --format</c>.</summary>
public enum ReportFormat
{
    /// <summary>A readable summary for a person at a terminal (the default).</summary>
    Text = 0,

    Json = 1,

    /// <summary>SARIF 2.1.0, as GitHub code scanning and other SARIF viewers read it.</summary>
    Sarif = 2,

    Csv = 3,
}

/// <summary>Writes a scan's result in one of the <see cref="ReportFormat"/>s.</summary>
public static class ReportWriter
{
    /// <summary>Writes the report. With <paramref name="redact"/> (the default everywhere) no secret is written, only previews.</summary>
    public static void Write(ReportFormat format, ScanResult result, TextWriter writer, bool redact = true)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(writer);
        switch (format)
        {
            case ReportFormat.Json:
                JsonReport.Write(result, writer, redact);
                break;
            case ReportFormat.Sarif:
                SarifReport.Write(result, writer, redact);
                break;
            case ReportFormat.Csv:
                CsvReport.Write(result, writer, redact);
                break;
            default:
                TextReport.Write(result, writer, redact);
                break;
        }
    }

    /// <summary>What a report shows of the secret.</summary>
    internal static string Shown(Finding finding, bool redact) => redact ? finding.Preview : finding.Secret;

    internal static string Name(this Detection.Severity severity) => severity.ToString().ToLowerInvariant();
}
