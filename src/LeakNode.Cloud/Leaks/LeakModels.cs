namespace LeakNode.Cloud.Leaks;

// The REST shapes of leaks (CONTRACT.md). Requests use nullable members so that a missing field is reported by
// validation with its name, instead of as a deserialisation error.

/// <summary><c>POST /api/v1/leaks</c>. The same token twice in <see cref="Tokens"/> is kept once.</summary>
public sealed record CreateLeakRequest(string? Name, string? Description, int? Risk, IReadOnlyList<string?>? Tokens, LeakSourceRequest? Source);

/// <summary>Where a leak was found. <see cref="Kind"/> is one of <see cref="LeakSources.Kinds"/>.</summary>
public sealed record LeakSourceRequest(string? Kind, string? Url, string? Location);

/// <summary><c>PATCH /api/v1/leaks/{id}</c>: the fields given are changed; <c>""</c> clears the description.</summary>
public sealed record UpdateLeakRequest(string? Name, string? Description, int? Risk);

/// <summary><c>POST /api/v1/leaks/{id}/tokens</c>: more tokens of the same leak (those it has already are skipped).</summary>
public sealed record AddTokensRequest(IReadOnlyList<string?>? Tokens, string? Comment);

/// <summary>The body of a lifecycle action (<c>vpatch</c>, <c>close</c>, <c>mark-false</c>, <c>reopen</c>); it may be left out.</summary>
public sealed record LifecycleRequest(string? Comment);

/// <summary>A leak as the API shows it: tokens by id, masked preview, kind and fingerprint only.</summary>
public sealed record LeakView(
    string Id,
    string Name,
    string Description,
    RiskView Risk,
    string Status,
    string Remediation,
    int TokenCount,
    IReadOnlyList<TokenView> Tokens,
    IReadOnlyList<SourceView> Sources,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    IReadOnlyList<HistoryView> History);

/// <summary>
/// A risk score 1–10 and its level: low 1–3, medium 4–6, high 7–8, critical 9–10. <see cref="Reasons"/> lists the
/// factors a scan computed the score from (docs/SCANNER.md, "Risk score"); empty when a person set it.
/// </summary>
public sealed record RiskView(int Score, string Level, IReadOnlyList<string> Reasons)
{
    public static RiskView Of(int score) => new(score, RiskLevels.Of(score), []);

    public static RiskView Of(int score, IReadOnlyList<string>? reasons) => new(score, RiskLevels.Of(score), reasons ?? []);
}

public sealed record TokenView(string Id, string Preview, string Kind, string Fingerprint);

public sealed record SourceView(string Kind, string? Url, string? Location, DateTimeOffset FirstSeen);

/// <summary>One change of a leak: who (the API key's name), when, what, and the comment given.</summary>
public sealed record HistoryView(DateTimeOffset At, string Actor, string Action, string? Comment);

/// <summary>A page of a list; <see cref="NextCursor"/> is null on the last page.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, long Total, string? NextCursor);

/// <summary>Counts of the leaks a filter selects, by risk level, source kind and status (every level and status listed, zeros included).</summary>
public sealed record LeakStats(IReadOnlyDictionary<string, long> ByRisk, IReadOnlyDictionary<string, long> BySource, IReadOnlyDictionary<string, long> ByStatus);

/// <summary>The vocabulary of leaks.</summary>
public static class LeakStatuses
{
    public const string Open = "open";
    public const string False = "false";
    public const string Closed = "closed";

    public static readonly IReadOnlyList<string> All = [Open, Closed, False];

    /// <summary>The default list order shows open leaks first: they are the ones that need a decision.</summary>
    public static int Rank(string status) => status switch
    {
        Open => 0,
        Closed => 1,
        _ => 2,
    };
}

public static class Remediations
{
    public const string None = "none";
    public const string Vpatch = "vpatch";
}

public static class RiskLevels
{
    public static readonly IReadOnlyList<string> All = ["low", "medium", "high", "critical"];

    public static string Of(int score) => score switch
    {
        <= 3 => "low",
        <= 6 => "medium",
        <= 8 => "high",
        _ => "critical",
    };

    /// <summary>The scores of a level, inclusive.</summary>
    public static (int Min, int Max) Range(string level) => level switch
    {
        "low" => (1, 3),
        "medium" => (4, 6),
        "high" => (7, 8),
        "critical" => (9, 10),
        _ => throw new ArgumentOutOfRangeException(nameof(level), level, "not a risk level"),
    };
}

public static class LeakSources
{
    public const string Manual = "manual";

    public static readonly IReadOnlyList<string> Kinds = [Manual, "git", "github", "gitlab", "bitbucket", "postman", "paste", "web", "file", "docker"];
}
