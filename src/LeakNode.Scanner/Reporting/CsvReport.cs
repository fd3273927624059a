using System.Globalization;

namespace LeakNode.Scanner.Reporting;

/// <summary>CSV (RFC 4180): one finding a row, every field quoted, the secret only with <c>--no-redact</c>.</summary>
internal static class CsvReport
{
    public static void Write(ScanResult result, TextWriter writer, bool redact)
    {
        writer.Write("RuleID,Kind,Severity,Description,Path,StartLine,StartColumn,EndLine,EndColumn,");
        writer.Write(redact ? "Preview" : "Secret");
        writer.Write(",Commit,Author,Email,Date,Entropy,Fingerprint\r\n");
        foreach (var f in result.Findings)
        {
            string?[] fields =
            [
                f.RuleId, f.Kind, f.Severity.Name(), f.Description, f.Path,
                Number(f.StartLine), Number(f.StartColumn), Number(f.EndLine), Number(f.EndColumn),
                ReportWriter.Shown(f, redact), f.Commit, f.Author, f.Email,
                f.Date?.ToString("O", CultureInfo.InvariantCulture), f.Entropy.ToString("0.###", CultureInfo.InvariantCulture), f.Fingerprint,
            ];
            writer.Write(string.Join(',', fields.Select(Quote)));
            writer.Write("\r\n");
        }
    }

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Quote(string? field) => "\"" + (field ?? "").Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
