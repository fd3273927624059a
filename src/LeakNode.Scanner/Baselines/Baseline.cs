using System.Text.Json;
using System.Text.Json.Serialization;

namespace LeakNode.Scanner.Baselines;

/// <summary>
/// Findings already known, by fingerprint: a scan leaves them out, so that CI fails on new leaks only. Written by
/// <c>--write-baseline</c> from a scan's findings; the file holds fingerprints, rule ids, paths and masked previews,
/// never a secret.
/// </summary>
public sealed class Baseline
{
    /// <summary>The file format's version; a file of another version is refused.</summary>
    public const int FormatVersion = 1;

    private readonly HashSet<string> _fingerprints;

    public Baseline(IEnumerable<string> fingerprints) => _fingerprints = new(fingerprints, StringComparer.Ordinal);

    public int Count => _fingerprints.Count;

    public bool Contains(Finding finding)
    {
        ArgumentNullException.ThrowIfNull(finding);
        return _fingerprints.Contains(finding.Fingerprint);
    }

    /// <exception cref="ScanException">The file is missing, unreadable or not a LeakNode baseline.</exception>
    public static Baseline Load(string file)
    {
        BaselineFile? model;
        try
        {
            using var stream = File.OpenRead(file);
            model = JsonSerializer.Deserialize(stream, BaselineJson.Default.BaselineFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ScanException($"cannot read the baseline {file}: {e.Message}", e);
        }
        catch (JsonException e)
        {
            throw new ScanException($"the baseline {file} is not valid JSON: {e.Message}", e);
        }
        if (model is null || model.Version != FormatVersion || model.Findings is null)
        {
            throw new ScanException($"the baseline {file} is not a LeakNode baseline of version {FormatVersion} (write one with --write-baseline)");
        }
        var missing = model.Findings.FindIndex(f => string.IsNullOrEmpty(f.Fingerprint));
        if (missing >= 0)
        {
            throw new ScanException($"the baseline {file}: finding {missing + 1} has no fingerprint");
        }
        return new Baseline(model.Findings.Select(f => f.Fingerprint!));
    }

    /// <summary>Writes the findings as a baseline (sorted, so that the file diffs well under review).</summary>
    public static void Write(string file, IEnumerable<Finding> findings)
    {
        ArgumentNullException.ThrowIfNull(findings);
        var model = new BaselineFile
        {
            Version = FormatVersion,
            Findings = [.. findings
                .DistinctBy(f => f.Fingerprint)
                .OrderBy(f => f.Path, StringComparer.Ordinal).ThenBy(f => f.StartLine).ThenBy(f => f.Fingerprint, StringComparer.Ordinal)
                .Select(f => new BaselineEntry { Fingerprint = f.Fingerprint, RuleId = f.RuleId, Path = f.Path, Line = f.StartLine, Commit = f.Commit, Preview = f.Preview })],
        };
        try
        {
            using var stream = File.Create(file);
            JsonSerializer.Serialize(stream, model, BaselineJson.Default.BaselineFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ScanException($"cannot write the baseline {file}: {e.Message}", e);
        }
    }

    internal sealed class BaselineFile
    {
        public int Version { get; set; }

        public List<BaselineEntry>? Findings { get; set; }
    }

    internal sealed class BaselineEntry
    {
        public string? Fingerprint { get; set; }

        public string? RuleId { get; set; }

        public string? Path { get; set; }

        public int Line { get; set; }

        public string? Commit { get; set; }

        public string? Preview { get; set; }
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Baseline.BaselineFile))]
internal sealed partial class BaselineJson : JsonSerializerContext;
