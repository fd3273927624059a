using System.Globalization;
using System.Text;
using LeakNode.Cloud.Leaks;

namespace LeakNode.Cloud.WebConsole.Leaks;

/// <summary>
/// The leaks page's filters and sort, as they stand in its URL so that a view can be shared: <c>status</c>,
/// <c>risk</c>, <c>source</c> (comma-separated lists), <c>since</c> (a date), <c>q</c> and <c>sort</c>. Values the
/// API would refuse are dropped here: a hand-edited link still opens, on the values that make sense.
/// </summary>
public sealed record LeakListQuery(
    IReadOnlyList<string> Statuses, IReadOnlyList<string> Risks, IReadOnlyList<string> Sources, DateOnly? Since, string? Text, string Sort)
{
    public const string Path = "/";

    public static LeakListQuery Default { get; } = new([], [], [], null, null, LeakSort.Default);

    public static IReadOnlyList<string> Sorts => LeakSort.All.Keys.ToList();

    public static LeakListQuery Parse(string? status, string? risk, string? source, string? since, string? text, string? sort) => new(
        Values(status, LeakStatuses.All),
        Values(risk, RiskLevels.All),
        Values(source, LeakSources.Kinds),
        DateOnly.TryParseExact(since, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day) ? day : null,
        string.IsNullOrWhiteSpace(text) ? null : text.Trim(),
        sort is not null && LeakSort.All.ContainsKey(sort) ? sort : LeakSort.Default);

    /// <summary>A click on a risk level in the donut: filter to that level alone, or, when it is that filter already, clear it.</summary>
    public LeakListQuery ToggleRisk(string level) => this with { Risks = Toggle(Risks, level) };

    /// <summary>A click on a source bar: the same toggle as <see cref="ToggleRisk"/>.</summary>
    public LeakListQuery ToggleSource(string kind) => this with { Sources = Toggle(Sources, kind) };

    /// <summary>The page's URL for this query: only what differs from the defaults, in a fixed order.</summary>
    public string ToUrl()
    {
        var parts = new List<string>();
        Add(parts, "status", Statuses);
        Add(parts, "risk", Risks);
        Add(parts, "source", Sources);
        if (Since is { } since)
        {
            parts.Add("since=" + since.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        }
        if (Text is not null)
        {
            parts.Add("q=" + Uri.EscapeDataString(Text));
        }
        if (Sort != LeakSort.Default)
        {
            parts.Add("sort=" + Uri.EscapeDataString(Sort));
        }
        return parts.Count == 0 ? Path : Path + "?" + string.Join('&', parts);
    }

    /// <summary>The store's filter; <paramref name="withoutRisk"/>/<paramref name="withoutSource"/> leave one dimension out, for the charts.</summary>
    internal LeakFilter ToFilter(Func<string, string?> fingerprintOf, bool withoutRisk = false, bool withoutSource = false) => new(
        Statuses,
        withoutRisk ? [] : Risks,
        withoutSource ? [] : Sources,
        Text,
        Text is null ? null : fingerprintOf(Text),
        Since is { } since ? new DateTimeOffset(since.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero).ToUnixTimeMilliseconds() : null);

    public bool IsFiltered => Statuses.Count > 0 || Risks.Count > 0 || Sources.Count > 0 || Since is not null || Text is not null;

    // Records compare lists by reference; two queries with the same values are the same view.
    public bool Equals(LeakListQuery? other) => other is not null && ToUrl() == other.ToUrl();

    public override int GetHashCode() => ToUrl().GetHashCode(StringComparison.Ordinal);

    private static IReadOnlyList<string> Toggle(IReadOnlyList<string> current, string value) =>
        current.Count == 1 && current[0] == value ? [] : [value];

    private static List<string> Values(string? raw, IReadOnlyList<string> allowed) =>
        (raw ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(allowed.Contains).Distinct(StringComparer.Ordinal).ToList();

    private static void Add(List<string> parts, string name, IReadOnlyList<string> values)
    {
        if (values.Count > 0)
        {
            parts.Add(name + "=" + string.Join(',', values.Select(Uri.EscapeDataString)));
        }
    }

    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append(ToUrl());
        return true;
    }
}
