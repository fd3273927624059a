using System.Text.RegularExpressions;

namespace LeakNode.Scanner.Detection;

/// <summary>What an allowlist's <see cref="Allowlist.Regexes"/> are matched against (gitleaks' <c>regexTarget</c>).</summary>
public enum AllowlistTarget
{
    /// <summary>The secret (the rule's secret group): gitleaks' default.</summary>
    Secret = 0,

    /// <summary>The whole text the rule's regex matched.</summary>
    Match = 1,

    /// <summary>The line the finding starts on.</summary>
    Line = 2,
}

/// <summary>
/// Conditions under which a finding is not reported: known-safe paths, commits, secrets (by regex) and stop words.
/// With <see cref="RequireAll"/> every listed kind of check must hold (gitleaks' <c>condition = "AND"</c>);
/// otherwise any one is enough.
/// </summary>
public sealed class Allowlist
{
    public string Description { get; init; } = "";

    public bool RequireAll { get; init; }

    public AllowlistTarget RegexTarget { get; init; }

    public IReadOnlyList<Regex> Paths { get; init; } = [];

    public IReadOnlyList<Regex> Regexes { get; init; } = [];

    /// <summary>Commit ids, compared whole (as gitleaks does).</summary>
    public IReadOnlyList<string> Commits { get; init; } = [];

    /// <summary>Lower-case words; a secret that contains one (ignoring case) is allowed.</summary>
    public IReadOnlyList<string> StopWords { get; init; } = [];

    /// <summary>For a global allowlist: the rule ids it applies to; empty means every rule.</summary>
    public IReadOnlyList<string> TargetRules { get; init; } = [];

    /// <summary>True when the list has no check at all (gitleaks refuses such a list).</summary>
    public bool IsEmpty => Paths.Count == 0 && Regexes.Count == 0 && Commits.Count == 0 && StopWords.Count == 0;

    /// <summary>True when the list holds only paths, so that a whole file can be skipped before it is read.</summary>
    internal bool IsPathOnly => Paths.Count > 0 && Regexes.Count == 0 && Commits.Count == 0 && StopWords.Count == 0;

    internal bool AppliesTo(string ruleId) => TargetRules.Count == 0 || TargetRules.Contains(ruleId, StringComparer.Ordinal);

    /// <summary>True when the candidate is allowed by this list.</summary>
    internal bool Allows(in Candidate candidate)
    {
        var any = false;
        if (Commits.Count > 0)
        {
            var hit = candidate.Commit is { } commit && Commits.Contains(commit, StringComparer.OrdinalIgnoreCase);
            if (RequireAll && !hit)
            {
                return false;
            }
            any |= hit;
        }
        if (Paths.Count > 0)
        {
            var hit = MatchesPath(candidate.Path);
            if (RequireAll && !hit)
            {
                return false;
            }
            any |= hit;
        }
        if (Regexes.Count > 0)
        {
            var target = RegexTarget switch
            {
                AllowlistTarget.Match => candidate.Match,
                AllowlistTarget.Line => candidate.Line,
                _ => candidate.Secret,
            };
            var hit = false;
            foreach (var regex in Regexes)
            {
                if (regex.IsMatch(target))
                {
                    hit = true;
                    break;
                }
            }
            if (RequireAll && !hit)
            {
                return false;
            }
            any |= hit;
        }
        if (StopWords.Count > 0)
        {
            var hit = false;
            foreach (var word in StopWords)
            {
                if (candidate.Secret.Contains(word, StringComparison.OrdinalIgnoreCase))
                {
                    hit = true;
                    break;
                }
            }
            if (RequireAll && !hit)
            {
                return false;
            }
            any |= hit;
        }
        return any;
    }

    internal bool MatchesPath(string path)
    {
        foreach (var regex in Paths)
        {
            if (regex.IsMatch(path))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>What an allowlist looks at: one candidate finding, before it is reported.</summary>
    internal readonly ref struct Candidate(string path, string? commit, ReadOnlySpan<char> secret, ReadOnlySpan<char> match, ReadOnlySpan<char> line)
    {
        public string Path { get; } = path;

        public string? Commit { get; } = commit;

        public ReadOnlySpan<char> Secret { get; } = secret;

        public ReadOnlySpan<char> Match { get; } = match;

        public ReadOnlySpan<char> Line { get; } = line;
    }
}
