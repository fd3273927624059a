using System.Globalization;

namespace LeakNode.Cloud.Sources;

/// <summary>What the cloud knows about one finding when it scores it.</summary>
internal sealed record RiskFacts(string Severity, string Kind, bool Inventory, string SourceKind, string? SourceUrl, bool? AtHead, DateTimeOffset? IntroducedAt);

/// <summary>
/// The risk score 1–10 of a leak a scan found, from documented factors (docs/SCANNER.md, "Risk score"), each named
/// in the reasons shown on the leak:
/// <list type="bullet">
/// <item>the detector's severity is the base: critical 8, high 6, medium 4, low 2, info 1;</item>
/// <item>a token of the organisation's inventory is live for certain: at least 9;</item>
/// <item>found in a public place (github.com, gitlab.com, a paste site, a public web page): +1;</item>
/// <item>still present at the repository's HEAD: +1 (removed or only on another branch, it still lives in history: +0);</item>
/// <item>introduced less than 30 days ago: +1 (likely still valid); more than a year ago: −1 (often rotated since).</item>
/// </list>
/// The result is clamped to 1–10.
/// </summary>
internal static class RiskScore
{
    public static (int Score, IReadOnlyList<string> Reasons) Compute(RiskFacts facts, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(facts);
        var reasons = new List<string>();
        var severity = facts.Severity.ToLowerInvariant();
        var score = severity switch
        {
            "critical" => 8,
            "high" => 6,
            "medium" => 4,
            "low" => 2,
            _ => 1,
        };
        reasons.Add(string.Create(CultureInfo.InvariantCulture, $"detector severity {severity} ({facts.Kind}): base {score}"));
        if (facts.Inventory)
        {
            score = Math.Max(score, 9);
            reasons.Add("a token the organisation issued (inventory): at least 9");
        }
        if (SourceKinds.IsPublic(facts.SourceKind, facts.SourceUrl))
        {
            score++;
            reasons.Add($"found in a public place ({facts.SourceKind}): +1");
        }
        if (facts.AtHead is true)
        {
            score++;
            reasons.Add("still present at HEAD: +1");
        }
        else if (facts.AtHead is false)
        {
            reasons.Add("not at HEAD (removed, or only on another branch), still in history: +0");
        }
        if (facts.IntroducedAt is { } introduced)
        {
            var days = (int)Math.Floor((now - introduced).TotalDays);
            if (days < 30)
            {
                score++;
                reasons.Add(string.Create(CultureInfo.InvariantCulture, $"introduced {Math.Max(days, 0)} days ago (likely still valid): +1"));
            }
            else if (days > 365)
            {
                score--;
                reasons.Add(string.Create(CultureInfo.InvariantCulture, $"introduced {days} days ago (often rotated since): -1"));
            }
        }
        var clamped = Math.Clamp(score, 1, 10);
        reasons.Add(clamped != score
            ? string.Create(CultureInfo.InvariantCulture, $"score {clamped} (clamped from {score})")
            : string.Create(CultureInfo.InvariantCulture, $"score {clamped}"));
        return (clamped, reasons);
    }
}
