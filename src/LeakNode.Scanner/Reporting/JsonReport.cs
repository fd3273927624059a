using System.Text.Encodings.Web;
using System.Text.Json;

namespace LeakNode.Scanner.Reporting;

/// <summary>
/// The JSON report: <c>{target, summary, findings: [...], notices: [...]}</c>, camelCase like the REST API, each
/// finding with <c>preview</c> and, only with <c>--no-redact</c>, <c>secret</c>.
/// </summary>
internal static class JsonReport
{
    public static void Write(ScanResult result, TextWriter writer, bool redact)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("target", result.Target);
            json.WriteStartObject("summary");
            json.WriteNumber("findings", result.Findings.Count);
            json.WriteNumber("suppressedByBaseline", result.SuppressedByBaseline);
            json.WriteNumber("documents", result.Statistics.Documents);
            json.WriteNumber("bytes", result.Statistics.Bytes);
            json.WriteNumber("skipped", result.Statistics.Skipped);
            json.WriteNumber("durationMs", (long)result.Duration.TotalMilliseconds);
            json.WriteEndObject();
            json.WriteStartArray("findings");
            foreach (var f in result.Findings)
            {
                json.WriteStartObject();
                json.WriteString("ruleId", f.RuleId);
                json.WriteString("kind", f.Kind);
                json.WriteString("description", f.Description);
                json.WriteString("severity", f.Severity.Name());
                json.WriteString("preview", f.Preview);
                if (!redact)
                {
                    json.WriteString("secret", f.Secret);
                }
                json.WriteString("path", f.Path);
                json.WriteNumber("startLine", f.StartLine);
                json.WriteNumber("startColumn", f.StartColumn);
                json.WriteNumber("endLine", f.EndLine);
                json.WriteNumber("endColumn", f.EndColumn);
                WriteOptional(json, "commit", f.Commit);
                WriteOptional(json, "author", f.Author);
                WriteOptional(json, "email", f.Email);
                if (f.Date is { } date)
                {
                    json.WriteString("date", date);
                }
                WriteOptional(json, "message", f.Message);
                WriteOptional(json, "tokenId", f.TokenId);
                if (f.AtHead is { } atHead)
                {
                    json.WriteBoolean("atHead", atHead);
                }
                json.WriteNumber("entropy", f.Entropy);
                json.WriteString("fingerprint", f.Fingerprint);
                json.WriteStartArray("tags");
                foreach (var tag in f.Tags)
                {
                    json.WriteStringValue(tag);
                }
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            if (result.GitHeads.Count > 0)
            {
                json.WriteStartArray("gitHeads");
                foreach (var head in result.GitHeads)
                {
                    json.WriteStringValue(head);
                }
                json.WriteEndArray();
            }
            json.WriteStartArray("notices");
            foreach (var notice in result.Notices)
            {
                json.WriteStringValue(notice);
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        writer.Write(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
        writer.WriteLine();
    }

    private static void WriteOptional(Utf8JsonWriter json, string name, string? value)
    {
        if (value is not null)
        {
            json.WriteString(name, value);
        }
    }
}
