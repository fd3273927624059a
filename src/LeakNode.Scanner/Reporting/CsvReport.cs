using System.Globalization;

namespace LeakNode.Scanner.Reporting;

/// <summary>
/// CSV (RFC 4180): one finding a row, every field quoted, the secret only with <c>--no-redact</c>. A field that a
/// spreadsheet would read as a formula is defused (<see cref="Defuse"/>).
/// </summary>
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

    private static string Quote(string? field) => "\"" + Defuse(field ?? "").Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>
    /// OWASP's CSV injection guidance: a cell that starts with <c>=</c>, <c>+</c>, <c>-</c>, <c>@</c>, a tab or a
    /// carriage return is run as a formula by Excel, LibreOffice and Google Sheets, quoted or not, so it gets a
    /// leading <c>'</c>, which they all take as "text". Every field of a finding can come from the scanned data
    /// (a path, a commit author, a secret with <c>--no-redact</c>, a gitleaks rule's description), so every field
    /// goes through here. Our own numbers never start with one of these characters.
    /// </summary>
    internal static string Defuse(string field) =>
        field.Length > 0 && field[0] is '=' or '+' or '-' or '@' or '\t' or '\r' ? "'" + field : field;
}
