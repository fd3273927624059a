using System.Globalization;
using LeakNode.Cloud.Api;
using LeakNode.Cloud.Configuration;
using LeakNode.Cloud.Leaks;

namespace LeakNode.Cloud.Sources;

/// <summary>Checks source and findings requests, naming every problem by its field.</summary>
internal static class SourceValidation
{
    private static readonly string[] Severities = ["info", "low", "medium", "high", "critical"];

    /// <summary>A new source, or null with <paramref name="errors"/> filled.</summary>
    public static ValidSource? CheckNew(SourceRequest request, LimitOptions limits, ScanningOptions scanning, Errors errors)
    {
        if (request.Url is null)
        {
            errors.Add("url", "is required: a git clone URL, a repository's web address, a page or paste URL, or (when Scanning:AllowLocalPaths) a path");
            return null;
        }
        return Check(request, null, limits, scanning, errors);
    }

    /// <summary>A source with a PATCH applied, or null with <paramref name="errors"/> filled.</summary>
    public static ValidSource? CheckUpdate(SourceRequest request, ScanSourceView current, LimitOptions limits, ScanningOptions scanning, Errors errors)
    {
        if (request is { Name: null, Kind: null, Url: null, Schedule: null, Enabled: null })
        {
            errors.Add("body", "give at least one of name, kind, url, schedule, enabled");
            return null;
        }
        return Check(request, current, limits, scanning, errors);
    }

    private static ValidSource? Check(SourceRequest request, ScanSourceView? current, LimitOptions limits, ScanningOptions scanning, Errors errors)
    {
        var url = (request.Url ?? current?.Url ?? "").Trim();
        CheckUrl(url, limits, scanning, errors);

        var kind = request.Kind?.Trim().ToLowerInvariant() ?? (request.Url is null ? current?.Kind : null) ?? SourceKinds.FromUrl(url);
        if (!SourceKinds.Scannable.Contains(kind))
        {
            errors.Add("kind", $"must be one of {string.Join(", ", SourceKinds.Scannable)} (or left out: the URL tells)");
        }
        else if (!errors.Fields.ContainsKey("url"))
        {
            var local = IsLocal(url);
            if (kind == SourceKinds.File && !local)
            {
                errors.Add("kind", "file sources are paths (or file:// URLs) on the cloud's machine");
            }
            else if (kind is SourceKinds.Web or SourceKinds.Paste && !SourceKinds.IsHttp(url))
            {
                errors.Add("kind", $"{kind} sources are http(s) URLs");
            }
        }

        var schedule = (request.Schedule ?? current?.Schedule ?? Schedules.Default).Trim().ToLowerInvariant();
        TimeSpan? interval = null;
        if (!Schedules.TryParse(schedule, out interval))
        {
            errors.Add("schedule", "must be 'manual' or an interval: a number and m, h, d or w (30m, 6h, 1d, 1w), at most a year");
        }
        else if (interval is { } every && every < scanning.MinInterval)
        {
            errors.Add("schedule", $"must be at least {scanning.MinInterval} apart (Scanning:MinInterval)");
        }

        var name = (request.Name ?? current?.Name)?.Trim();
        if (name is null || (request.Url is not null && request.Name is null && current is not null && current.Name == FindingIngest.ShortName(current.Url)))
        {
            name = FindingIngest.ShortName(url);
        }
        if (name.Length == 0)
        {
            errors.Add("name", "must not be empty");
        }
        else if (name.Length > limits.MaxNameLength)
        {
            errors.Add("name", string.Create(CultureInfo.InvariantCulture, $"must be at most {limits.MaxNameLength} characters"));
        }
        return errors.Any ? null : new ValidSource(name, kind, url, schedule, interval, request.Enabled ?? current?.Enabled ?? true);
    }

    private static void CheckUrl(string url, LimitOptions limits, ScanningOptions scanning, Errors errors)
    {
        if (url.Length == 0)
        {
            errors.Add("url", "must not be empty");
            return;
        }
        if (url.Length > limits.MaxUrlLength)
        {
            errors.Add("url", string.Create(CultureInfo.InvariantCulture, $"must be at most {limits.MaxUrlLength} characters"));
            return;
        }
        if (IsLocal(url))
        {
            if (!scanning.AllowLocalPaths)
            {
                errors.Add("url", "paths and file:// URLs on the cloud's machine are refused (Scanning:AllowLocalPaths is false)");
            }
            else if (!url.StartsWith("file://", StringComparison.OrdinalIgnoreCase) && !Path.IsPathFullyQualified(url))
            {
                errors.Add("url", "a path must be absolute");
            }
            return;
        }
        if (SourceKinds.IsHttp(url) || url.StartsWith("ssh://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("git://", StringComparison.OrdinalIgnoreCase))
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
            {
                errors.Add("url", "is not a valid URL");
            }
            else if (uri.UserInfo.Contains(':', StringComparison.Ordinal) || (SourceKinds.IsHttp(url) && uri.UserInfo.Length > 0))
            {
                errors.Add("url", "must not hold credentials: they would be stored and shown; give the cloud's git its own credentials (see docs/SCANNER.md)");
            }
            return;
        }
        if (SourceKinds.HostOf(url) is null)
        {
            errors.Add("url", "must be an http(s), ssh:// or git:// URL, an scp-like git address (git@host:org/repo.git), or a path");
        }
    }

    /// <summary>A path or <c>file://</c> URL: something on the cloud's own machine.</summary>
    public static bool IsLocal(string url) =>
        url.StartsWith("file://", StringComparison.OrdinalIgnoreCase)
        || (!url.Contains("://", StringComparison.Ordinal) && SourceKinds.HostOf(url) is null);

    /// <summary>Findings to file, or null with <paramref name="errors"/> filled. Every finding is checked; each error names its index.</summary>
    public static (string Kind, string Url, List<ScannedFinding> Findings)? CheckFindings(
        FindingsRequest request, LimitOptions limits, ScanningOptions scanning, Errors errors)
    {
        var target = request.Target?.Trim();
        if (string.IsNullOrEmpty(target))
        {
            errors.Add("target", "is required: the URL or path that was scanned");
        }
        else if (target.Length > limits.MaxUrlLength)
        {
            errors.Add("target", string.Create(CultureInfo.InvariantCulture, $"must be at most {limits.MaxUrlLength} characters"));
        }
        var kind = request.Kind?.Trim().ToLowerInvariant();
        if (kind is not null && !LeakSources.Kinds.Contains(kind))
        {
            errors.Add("kind", $"must be one of {string.Join(", ", LeakSources.Kinds)} (or left out: the target tells)");
        }
        if (request.Findings is null || request.Findings.Count == 0)
        {
            errors.Add("findings", "must list at least one finding");
        }
        else if (request.Findings.Count > scanning.MaxFindingsPerRequest)
        {
            errors.Add("findings", string.Create(CultureInfo.InvariantCulture, $"at most {scanning.MaxFindingsPerRequest} a request (Scanning:MaxFindingsPerRequest): send them in parts"));
        }
        var findings = new List<ScannedFinding>();
        for (var i = 0; i < (request.Findings?.Count ?? 0) && i < scanning.MaxFindingsPerRequest; i++)
        {
            var field = string.Create(CultureInfo.InvariantCulture, $"findings[{i}]");
            if (request.Findings![i] is not { } finding)
            {
                errors.Add(field, "must be an object");
                continue;
            }
            if (string.IsNullOrEmpty(finding.Secret))
            {
                errors.Add(field + ".secret", "is required");
            }
            var severity = finding.Severity?.Trim().ToLowerInvariant() ?? "medium";
            if (!Severities.Contains(severity))
            {
                errors.Add(field + ".severity", $"must be one of {string.Join(", ", Severities)}");
            }
            if (finding.Line is < 1)
            {
                errors.Add(field + ".line", "must be 1 or more");
            }
            if (finding.Path is { Length: > 4096 })
            {
                errors.Add(field + ".path", "must be at most 4096 characters");
            }
            if (!errors.Any)
            {
                var inventory = finding.Inventory ?? false;
                findings.Add(new ScannedFinding(
                    finding.Secret!, finding.RuleId ?? (inventory ? "inventory" : "unknown"), finding.Kind ?? finding.RuleId ?? "generic", severity,
                    finding.Path ?? "", finding.Line ?? 1, finding.Commit, finding.Author, finding.Date, finding.AtHead, inventory));
            }
        }
        if (errors.Any)
        {
            return null;
        }
        var url = SourceKinds.WithoutCredentials(target!);
        return (kind ?? SourceKinds.FromUrl(url), url, findings);
    }
}
