using System.Globalization;
using System.Reflection;
using System.Text.Encodings.Web;
using System.Text.Json;
using LeakNode.Scanner.Detection;

namespace LeakNode.Scanner.Reporting;

/// <summary>
/// SARIF 2.1.0 (OASIS), in the shape GitHub code scanning ingests: one run, the tool's rules with ids and
/// descriptions, results with a relative artifact URI and a region, and <c>partialFingerprints</c> so that code
/// scanning tracks a finding across commits instead of opening it again.
/// </summary>
internal static class SarifReport
{
    public const string SchemaUri = "https://json.schemastore.org/sarif-2.1.0.json";

    /// <summary>The key under which results carry their fingerprint; versioned so that a new scheme never collides.</summary>
    public const string FingerprintKey = "leaknodeFingerprint/v1";

    public static void Write(ScanResult result, TextWriter writer, bool redact)
    {
        var rules = result.Findings
            .GroupBy(f => f.RuleId, StringComparer.Ordinal)
            .Select(g => g.First())
            .OrderBy(f => f.RuleId, StringComparer.Ordinal)
            .ToList();
        var ruleIndex = rules.Select((f, i) => (f.RuleId, i)).ToDictionary(p => p.RuleId, p => p.i, StringComparer.Ordinal);

        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("$schema", SchemaUri);
            json.WriteString("version", "2.1.0");
            json.WriteStartArray("runs");
            json.WriteStartObject();

            json.WriteStartObject("tool");
            json.WriteStartObject("driver");
            json.WriteString("name", "leaknode");
            json.WriteString("semanticVersion", ToolVersion());
            json.WriteStartArray("rules");
            foreach (var rule in rules)
            {
                json.WriteStartObject();
                json.WriteString("id", rule.RuleId);
                json.WriteString("name", rule.RuleId);
                json.WriteStartObject("shortDescription");
                json.WriteString("text", string.IsNullOrEmpty(rule.Description) ? rule.RuleId : rule.Description);
                json.WriteEndObject();
                json.WriteStartObject("fullDescription");
                json.WriteString("text", $"{(string.IsNullOrEmpty(rule.Description) ? rule.RuleId : rule.Description)} (kind: {rule.Kind}). A secret in a repository is public to everyone who can read it: rotate it, then remove it.");
                json.WriteEndObject();
                json.WriteStartObject("defaultConfiguration");
                json.WriteString("level", Level(rule.Severity));
                json.WriteEndObject();
                json.WriteStartObject("properties");
                json.WriteStartArray("tags");
                json.WriteStringValue("security");
                json.WriteStringValue("secret");
                json.WriteEndArray();
                // GitHub ranks security alerts by this number (0.1–10, as a string): critical ≥ 9, high ≥ 7.
                json.WriteString("security-severity", SecuritySeverity(rule.Severity));
                json.WriteString("kind", rule.Kind);
                json.WriteEndObject();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteEndObject();

            json.WriteStartArray("results");
            foreach (var f in result.Findings)
            {
                json.WriteStartObject();
                json.WriteString("ruleId", f.RuleId);
                json.WriteNumber("ruleIndex", ruleIndex[f.RuleId]);
                json.WriteString("level", Level(f.Severity));
                json.WriteStartObject("message");
                json.WriteString("text", $"{(string.IsNullOrEmpty(f.Description) ? f.RuleId : f.Description)}: {ReportWriter.Shown(f, redact)}" +
                    (f.Commit is null ? "" : $" (introduced in commit {f.Commit[..Math.Min(12, f.Commit.Length)]})"));
                json.WriteEndObject();
                json.WriteStartArray("locations");
                json.WriteStartObject();
                json.WriteStartObject("physicalLocation");
                json.WriteStartObject("artifactLocation");
                json.WriteString("uri", ArtifactUri(f.Path));
                json.WriteEndObject();
                json.WriteStartObject("region");
                json.WriteNumber("startLine", Math.Max(1, f.StartLine));
                json.WriteNumber("startColumn", Math.Max(1, f.StartColumn));
                json.WriteNumber("endLine", Math.Max(1, f.EndLine));
                // SARIF's endColumn is exclusive: one past the secret's last character.
                json.WriteNumber("endColumn", Math.Max(1, f.EndColumn) + 1);
                json.WriteEndObject();
                json.WriteEndObject();
                json.WriteEndObject();
                json.WriteEndArray();
                json.WriteStartObject("partialFingerprints");
                json.WriteString(FingerprintKey, f.Fingerprint);
                json.WriteEndObject();
                json.WriteStartObject("properties");
                json.WriteString("kind", f.Kind);
                json.WriteString("severity", f.Severity.Name());
                json.WriteString("preview", f.Preview);
                if (f.Commit is not null)
                {
                    json.WriteString("commit", f.Commit);
                    json.WriteString("author", f.Author);
                    json.WriteString("email", f.Email);
                    if (f.Date is { } date)
                    {
                        json.WriteString("date", date);
                    }
                }
                json.WriteEndObject();
                json.WriteEndObject();
            }
            json.WriteEndArray();

            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
        }
        writer.Write(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
        writer.WriteLine();
    }

    internal static string Level(Severity severity) => severity switch
    {
        Severity.Critical or Severity.High => "error",
        Severity.Medium => "warning",
        _ => "note",
    };

    private static string SecuritySeverity(Severity severity) => (severity switch
    {
        Severity.Critical => 9.5,
        Severity.High => 8.0,
        Severity.Medium => 5.5,
        Severity.Low => 3.0,
        _ => 1.0,
    }).ToString("0.0", CultureInfo.InvariantCulture);

    /// <summary>
    /// A relative URI reference for a path (each segment percent-encoded, '/' kept), or the URL itself for a fetched
    /// document. An archive entry keeps its '!' (legal in a URI) so that the path reads as it does elsewhere.
    /// </summary>
    internal static string ArtifactUri(string path)
    {
        if (Uri.TryCreate(path, UriKind.Absolute, out var absolute) && (absolute.Scheme == Uri.UriSchemeHttp || absolute.Scheme == Uri.UriSchemeHttps))
        {
            return absolute.AbsoluteUri;
        }
        return string.Join('/', path.Split('/').Select(segment => Uri.EscapeDataString(segment).Replace("%21", "!", StringComparison.Ordinal)));
    }

    private static string ToolVersion()
    {
        var version = typeof(SarifReport).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "1.0.0";
        var plus = version.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? version : version[..plus];
    }
}
