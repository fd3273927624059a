using System.Globalization;
using LeakNode.Cloud.Configuration;
using LeakNode.Cloud.Leaks;
using Microsoft.Extensions.Logging;

namespace LeakNode.Cloud.Sources;

/// <summary>One secret a scan found, as the cloud files it: from its own scan worker or from <c>leaknode scan --cloud</c>.</summary>
internal sealed record ScannedFinding(
    string Secret, string RuleId, string Kind, string Severity, string Path, int Line, string? Commit, string? Author, DateTimeOffset? Date, bool? AtHead,
    bool Inventory);

/// <summary>
/// Turns a scan's findings into leaks (issue "automatic detection"): findings in the same file and commit group
/// into one leak; a token some leak holds already adds the new place to that leak's sources instead of making
/// another leak, whatever that leak's status (a leak marked false is never reopened by a scan, a closed one stays
/// closed); new leaks start <c>open</c> with a computed risk and its reasons (<see cref="RiskScore"/>).
/// </summary>
internal sealed partial class FindingIngest(LeakStore leaks, CloudConfiguration configuration, TimeProvider clock, ILogger<FindingIngest> logger)
{
    public async Task<FindingsResult> IngestAsync(string sourceKind, string sourceUrl, IReadOnlyList<ScannedFinding> findings, string actor, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var usable = new List<(ScannedFinding Finding, string Fingerprint)>();
        foreach (var finding in findings)
        {
            if (finding.Secret.Length <= configuration.Limits.MaxTokenLength && leaks.FingerprintOf(finding.Secret) is { } fingerprint)
            {
                usable.Add((finding, fingerprint));
            }
        }
        usable = OnePerFile(usable);
        var known = new Dictionary<string, KnownToken>(
            await leaks.FindTokensAsync(usable.Select(u => u.Fingerprint).ToList(), cancellationToken), StringComparer.Ordinal);

        var created = new HashSet<string>(StringComparer.Ordinal);
        var updated = new HashSet<string>(StringComparer.Ordinal);
        foreach (var group in usable.GroupBy(u => (u.Finding.Path, u.Finding.Commit)))
        {
            var items = group.ToList();
            var scored = items.Select(i => (i.Finding, i.Fingerprint, Risk: Score(i.Finding, sourceKind, sourceUrl, now))).ToList();
            var worst = scored.MaxBy(s => s.Risk.Score);
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    await FileGroupAsync(scored, worst.Risk, sourceKind, sourceUrl, known, created, updated, actor, cancellationToken);
                    break;
                }
                catch (LeakRefusedException refused) when (refused.Conflicts.Count > 0 && attempt == 0)
                {
                    // Another scan filed one of these tokens between our lookup and our write: look again, then add
                    // this place to the leak it made.
                    foreach (var (fingerprint, holder) in await leaks.FindTokensAsync(items.Select(i => i.Fingerprint).ToList(), cancellationToken))
                    {
                        known[fingerprint] = holder;
                    }
                }
            }
        }
        var leakIds = usable.Select(u => known.TryGetValue(u.Fingerprint, out var k) ? k.LeakId : null).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        updated.ExceptWith(created);
        Log.Ingested(logger, findings.Count, findings.Count - usable.Count, created.Count, updated.Count, sourceUrl);
        return new FindingsResult(findings.Count, findings.Count - usable.Count, created.Count, updated.Count, leakIds);
    }

    /// <summary>
    /// One finding a token and file: a history scan reports a token once for every version of the file that holds it
    /// (each version is another blob), and a leak needs the place that introduced it, not every later edit. The
    /// earliest version is kept (the scanner reports history oldest first); the token is at HEAD if any version is.
    /// </summary>
    private static List<(ScannedFinding Finding, string Fingerprint)> OnePerFile(List<(ScannedFinding Finding, string Fingerprint)> findings) =>
        findings.GroupBy(f => (f.Fingerprint, f.Finding.Path))
            .Select(g =>
            {
                var first = g.OrderBy(f => f.Finding.Date ?? DateTimeOffset.MaxValue).First();
                var atHead = g.Any(f => f.Finding.AtHead is true) ? true : g.Any(f => f.Finding.AtHead is false) ? false : (bool?)null;
                return (first.Finding with { AtHead = atHead }, first.Fingerprint);
            })
            .ToList();

    private async Task FileGroupAsync(
        List<(ScannedFinding Finding, string Fingerprint, (int Score, IReadOnlyList<string> Reasons) Risk)> group, (int Score, IReadOnlyList<string> Reasons) risk,
        string sourceKind, string sourceUrl, Dictionary<string, KnownToken> known, HashSet<string> created, HashSet<string> updated, string actor,
        CancellationToken cancellationToken)
    {
        var first = group[0].Finding;
        var location = Location(first, sourceUrl);

        // Tokens some leak holds: this place becomes one more source of each such leak.
        foreach (var leakId in group.Where(g => known.ContainsKey(g.Fingerprint)).Select(g => known[g.Fingerprint].LeakId).Distinct(StringComparer.Ordinal))
        {
            if (await leaks.AddSightingAsync(leakId, new LeakSighting(sourceKind, sourceUrl, location, risk.Score, risk.Reasons) { File = FileOf(first, sourceUrl) }, actor, cancellationToken))
            {
                updated.Add(leakId);
            }
        }

        var fresh = group.Where(g => !known.ContainsKey(g.Fingerprint)).DistinctBy(g => g.Fingerprint, StringComparer.Ordinal).ToList();
        if (fresh.Count == 0)
        {
            return;
        }
        // Another token of this file and commit is in an open leak: the new ones join it.
        var openLeaks = group.Where(g => known.TryGetValue(g.Fingerprint, out var k) && k.Status == LeakStatuses.Open)
            .Select(g => known[g.Fingerprint].LeakId).Distinct(StringComparer.Ordinal).ToList();
        if (openLeaks.Count == 1)
        {
            var leak = await leaks.AddTokensAsync(openLeaks[0], fresh.Select(f => f.Finding.Secret).ToList(), $"found by a scan: {sourceUrl} {location}", actor, cancellationToken);
            Remember(fresh, leak.Id, known);
            updated.Add(leak.Id);
            return;
        }
        foreach (var part in fresh.Chunk(configuration.Limits.MaxTokensPerLeak))
        {
            var view = await leaks.CreateAsync(
                new NewLeak(Name(part.Select(p => p.Finding).ToList(), sourceUrl), Description(first, sourceUrl), risk.Score,
                    part.Select(p => p.Finding.Secret).ToList(), sourceKind, sourceUrl, location)
                {
                    RiskReasons = risk.Reasons,
                    HistoryAction = "detected",
                    HistoryComment = $"found by a scan: {sourceUrl} {location}",
                },
                actor, cancellationToken);
            Remember(part, view.Id, known);
            created.Add(view.Id);
        }
    }

    private static void Remember(IEnumerable<(ScannedFinding Finding, string Fingerprint, (int, IReadOnlyList<string>) Risk)> items, string leakId, Dictionary<string, KnownToken> known)
    {
        foreach (var item in items)
        {
            known[item.Fingerprint] = new KnownToken(leakId, LeakStatuses.Open, long.MaxValue);
        }
    }

    private static (int Score, IReadOnlyList<string> Reasons) Score(ScannedFinding finding, string sourceKind, string sourceUrl, DateTimeOffset now) =>
        RiskScore.Compute(new RiskFacts(finding.Severity, finding.Kind, finding.Inventory, sourceKind, sourceUrl, finding.AtHead, finding.Date), now);

    /// <summary>The file part of a location (<c>config/.env:</c>), so that a later version of the same file is not another place; null for a fetched document.</summary>
    private static string? FileOf(ScannedFinding finding, string sourceUrl) =>
        finding.Path.Length == 0 || finding.Path == sourceUrl ? null : finding.Path + ":";

    /// <summary>Where in the source: <c>path:line</c>, and the commit that introduced it (<c>config/.env:3@1a2b3c4d5e6f</c>).</summary>
    internal static string Location(ScannedFinding finding, string sourceUrl)
    {
        var place = finding.Path.Length == 0 || finding.Path == sourceUrl ? $"line {finding.Line}" : $"{finding.Path}:{finding.Line}";
        return finding.Commit is { Length: > 0 } commit ? $"{place}@{commit[..Math.Min(12, commit.Length)]}" : place;
    }

    private string Name(List<ScannedFinding> findings, string sourceUrl)
    {
        var kinds = findings.Select(f => f.Kind).Distinct(StringComparer.Ordinal).ToList();
        var what = findings.Count == 1 || kinds.Count == 1
            ? (findings.Count == 1 ? $"{kinds[0]} token" : string.Create(CultureInfo.InvariantCulture, $"{findings.Count} {kinds[0]} tokens"))
            : string.Create(CultureInfo.InvariantCulture, $"{findings.Count} tokens");
        var where = findings[0].Path.Length == 0 || findings[0].Path == sourceUrl ? ShortName(sourceUrl) : $"{ShortName(sourceUrl)}: {findings[0].Path}";
        var name = $"{what} in {where}";
        var max = configuration.Limits.MaxNameLength;
        return name.Length <= max ? name : string.Concat(name.AsSpan(0, max - 1), "…");
    }

    private string Description(ScannedFinding finding, string sourceUrl)
    {
        var text = $"Found by a scan of {sourceUrl}" + (finding.Path.Length > 0 && finding.Path != sourceUrl ? $", {finding.Path}" : "")
            + string.Create(CultureInfo.InvariantCulture, $" line {finding.Line}")
            + (finding.Commit is { } commit ? $", introduced by commit {commit}" : "")
            + (finding.Author is { } author ? $" ({author}" + (finding.Date is { } date ? $", {date.UtcDateTime:yyyy-MM-dd}" : "") + ")" : "")
            + (finding.AtHead is false ? "; not at HEAD (removed, or only on another branch), still in the history." : ".");
        var max = configuration.Limits.MaxDescriptionLength;
        return text.Length <= max ? text : string.Concat(text.AsSpan(0, max - 1), "…");
    }

    /// <summary>The last two parts of a URL's path or of a folder (<c>org/repo</c>), for names.</summary>
    internal static string ShortName(string url)
    {
        var path = Uri.TryCreate(url, UriKind.Absolute, out var uri) && !uri.IsFile ? uri.AbsolutePath
            : SourceKinds.HostOf(url) is not null ? url[(url.IndexOf(':', StringComparison.Ordinal) + 1)..]
            : uri?.LocalPath ?? url;
        var parts = path.Replace('\\', '/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        var name = string.Join('/', parts.TakeLast(2));
        if (name.EndsWith(".git", StringComparison.OrdinalIgnoreCase))
        {
            name = name[..^4];
        }
        return name.Length > 0 ? name : uri?.Host ?? url;
    }
}
