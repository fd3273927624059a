using System.Text.RegularExpressions;

namespace LeakNode.Scanner.Detection;

/// <summary>
/// A compiled set of detection rules and global allowlists that scans one document's text at a time. Immutable and
/// thread-safe: one set serves every worker of a scan.
/// </summary>
/// <remarks>
/// <para>
/// The hot path is the keyword search: one <see cref="KeywordIndex"/> of every rule's keywords (ignoring case,
/// as gitleaks does) finds, in one pass, which rules can match at all; a document that holds no keyword
/// costs that pass and nothing else. Only the rules whose keyword occurs run their regex, and line-scoped rules
/// (the generic detector) run on the lines that hold a keyword only.
/// </para>
/// <para>Rules without keywords (some gitleaks rules) run on every document, as they do in gitleaks.</para>
/// </remarks>
public sealed class DetectorSet
{
    /// <summary>Inline markers that allow every finding on their line.</summary>
    public static readonly string[] AllowMarkers = ["leaknode:allow", "gitleaks:allow"];

    private readonly DetectionRule[] _rules;
    private readonly Allowlist[] _allowlists;
    // Keyword → the indexes of the rules that hold it, behind one index searched once a document.
    private readonly KeywordIndex? _keywords;
    private readonly int[][] _keywordRules;
    private readonly int[] _alwaysRun;

    public DetectorSet(IEnumerable<DetectionRule> rules, IEnumerable<Allowlist>? allowlists = null)
    {
        ArgumentNullException.ThrowIfNull(rules);
        _rules = [.. rules];
        _allowlists = [.. allowlists ?? []];

        var byKeyword = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        var always = new List<int>();
        for (var i = 0; i < _rules.Length; i++)
        {
            if (_rules[i].Keywords.Count == 0)
            {
                always.Add(i);
                continue;
            }
            foreach (var keyword in _rules[i].Keywords)
            {
                var key = keyword.ToLowerInvariant();
                if (key.Length == 0)
                {
                    continue;
                }
                if (!byKeyword.TryGetValue(key, out var list))
                {
                    byKeyword[key] = list = [];
                }
                list.Add(i);
            }
        }
        _alwaysRun = [.. always];
        var keywords = byKeyword.Keys.ToArray();
        _keywordRules = [.. keywords.Select(k => byKeyword[k].ToArray())];
        _keywords = keywords.Length > 0 ? new KeywordIndex(keywords.Select((k, i) => (k, i))) : null;
    }

    /// <summary>The built-in detectors and no extra allowlist.</summary>
    public static DetectorSet BuiltIn { get; } = new(BuiltInDetectors.All);

    public IReadOnlyList<DetectionRule> Rules => _rules;

    public IReadOnlyList<Allowlist> Allowlists => _allowlists;

    /// <summary>
    /// True when a global allowlist skips the whole file by its path alone, before it is read (gitleaks' global
    /// <c>paths</c> for lock files, images, vendored code).
    /// </summary>
    public bool IsPathAllowed(string path)
    {
        foreach (var allowlist in _allowlists)
        {
            if (allowlist.TargetRules.Count == 0 && !allowlist.RequireAll && allowlist.Paths.Count > 0 && allowlist.MatchesPath(path))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Every finding in one document's text, in order of position.</summary>
    public List<Finding> Scan(string text, DocumentOrigin origin)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(origin);
        var findings = new List<Finding>();
        var lines = new LineIndex(text);

        var triggered = new bool[_rules.Length];
        List<(int Start, int End)>? keywordLines = null;
        FindKeywords(text, triggered, ref keywordLines, lines);
        foreach (var index in _alwaysRun)
        {
            triggered[index] = true;
        }

        for (var i = 0; i < _rules.Length; i++)
        {
            if (!triggered[i])
            {
                continue;
            }
            var rule = _rules[i];
            if (rule.Path is not null && !rule.Path.IsMatch(origin.Path))
            {
                continue;
            }
            if (rule.Regex is null)
            {
                // A rule with a path and no regex reports the file; one with keywords alone (gitleaks accepts it) nothing.
                if (rule.Path is not null)
                {
                    AddPathFinding(rule, origin, findings);
                }
                continue;
            }
            if (rule.LineScoped)
            {
                foreach (var (start, end) in keywordLines ?? [])
                {
                    RunRegex(rule, text, start, end - start, origin, lines, findings);
                }
            }
            else
            {
                RunRegex(rule, text, 0, text.Length, origin, lines, findings);
            }
        }

        RemoveOverlaps(findings);
        findings.Sort(static (a, b) => a.StartLine != b.StartLine ? a.StartLine.CompareTo(b.StartLine) : a.StartColumn.CompareTo(b.StartColumn));
        return findings;
    }

    private void FindKeywords(string text, bool[] triggered, ref List<(int Start, int End)>? keywordLines, LineIndex lines)
    {
        if (_keywords is null)
        {
            return;
        }
        var state = new KeywordState(this, triggered, lines);
        _keywords.FindAll(text, ref state, static (ref state, position, keyword) =>
        {
            foreach (var rule in state.Set._keywordRules[keyword])
            {
                state.Triggered[rule] = true;
                if (state.Set._rules[rule].LineScoped)
                {
                    var line = state.Lines.LineOf(position);
                    if (line != state.LastLine)
                    {
                        state.LastLine = line;
                        (state.KeywordLines ??= []).Add((state.Lines.StartOf(line), state.Lines.EndOf(line)));
                    }
                }
            }
        });
        // Positions arrive in order, except those of one-character keywords: a line met twice would be scanned twice.
        keywordLines = state.KeywordLines is { } found ? [.. found.Distinct().Order()] : null;
    }

    private struct KeywordState(DetectorSet set, bool[] triggered, LineIndex lines)
    {
        public readonly DetectorSet Set = set;
        public readonly bool[] Triggered = triggered;
        public readonly LineIndex Lines = lines;
        public int LastLine = -1;
        public List<(int Start, int End)>? KeywordLines;
    }

    private void RunRegex(DetectionRule rule, string text, int start, int length, DocumentOrigin origin, LineIndex lines, List<Finding> findings)
    {
        var match = rule.Regex!.Match(text, start, length);
        for (; match.Success; match = match.NextMatch())
        {
            if (match.Length == 0)
            {
                continue;
            }
            var secretGroup = SecretGroupOf(rule, match);
            if (secretGroup is null || secretGroup.Length == 0)
            {
                continue;
            }
            var secret = secretGroup.Value;
            var entropy = ShannonEntropy.Of(secret);
            if (rule.Entropy is { } least && entropy < least)
            {
                continue;
            }
            if (rule.Validator is { } validate && !validate(secret))
            {
                continue;
            }

            var line = lines.LineOf(secretGroup.Index);
            var lineText = text.AsSpan(lines.StartOf(line), lines.EndOf(line) - lines.StartOf(line));
            if (HasAllowMarker(lineText))
            {
                continue;
            }
            var candidate = new Allowlist.Candidate(origin.Path, origin.Commit, secret, match.ValueSpan, lineText);
            if (IsAllowed(rule, candidate))
            {
                continue;
            }

            var endIndex = secretGroup.Index + secretGroup.Length - 1;
            var endLine = lines.LineOf(endIndex);
            findings.Add(new Finding
            {
                RuleId = rule.Id,
                Kind = rule.Kind,
                Description = rule.Description,
                Severity = rule.Severity,
                Secret = secret,
                Preview = SecretPreview.Of(secret, rule.PublicPrefix ?? PrefixOf(rule, secret)),
                Path = origin.Path,
                StartLine = line + 1,
                StartColumn = secretGroup.Index - lines.StartOf(line) + 1,
                EndLine = endLine + 1,
                EndColumn = endIndex - lines.StartOf(endLine) + 1,
                Commit = origin.Commit,
                Author = origin.Author,
                Email = origin.Email,
                Date = origin.Date,
                Message = origin.Message,
                Entropy = Math.Round(entropy, 3),
                Tags = rule.Tags,
                Fingerprint = SecretPreview.Fingerprint(rule.Id, origin.Path, secret),
            });
        }
    }

    /// <summary>gitleaks' rule: the configured group; without one, the first non-empty group, else the whole match.</summary>
    private static Group? SecretGroupOf(DetectionRule rule, Match match)
    {
        if (rule.SecretGroup > 0)
        {
            return rule.SecretGroup < match.Groups.Count ? match.Groups[rule.SecretGroup] : null;
        }
        for (var g = 1; g < match.Groups.Count; g++)
        {
            if (match.Groups[g].Success && match.Groups[g].Length > 0)
            {
                return match.Groups[g];
            }
        }
        return match;
    }

    private bool IsAllowed(DetectionRule rule, in Allowlist.Candidate candidate)
    {
        foreach (var allowlist in rule.Allowlists)
        {
            if (allowlist.Allows(candidate))
            {
                return true;
            }
        }
        foreach (var allowlist in _allowlists)
        {
            if (allowlist.AppliesTo(rule.Id) && allowlist.Allows(candidate))
            {
                return true;
            }
        }
        return false;
    }

    private void AddPathFinding(DetectionRule rule, DocumentOrigin origin, List<Finding> findings)
    {
        var candidate = new Allowlist.Candidate(origin.Path, origin.Commit, "", "", "");
        if (IsAllowed(rule, candidate))
        {
            return;
        }
        findings.Add(new Finding
        {
            RuleId = rule.Id,
            Kind = rule.Kind,
            Description = rule.Description,
            Severity = rule.Severity,
            Secret = "",
            Preview = "(file)",
            Path = origin.Path,
            StartLine = 1,
            StartColumn = 1,
            EndLine = 1,
            EndColumn = 1,
            Commit = origin.Commit,
            Author = origin.Author,
            Email = origin.Email,
            Date = origin.Date,
            Message = origin.Message,
            Tags = rule.Tags,
            Fingerprint = SecretPreview.Fingerprint(rule.Id, origin.Path, ""),
        });
    }

    /// <summary>The keyword the secret starts with, in the secret's own case: for built-ins, the format's public prefix.</summary>
    private static string? PrefixOf(DetectionRule rule, string secret)
    {
        foreach (var keyword in rule.Keywords)
        {
            if (secret.StartsWith(keyword, StringComparison.OrdinalIgnoreCase))
            {
                return secret[..keyword.Length];
            }
        }
        return null;
    }

    internal static bool HasAllowMarker(ReadOnlySpan<char> line)
    {
        foreach (var marker in AllowMarkers)
        {
            if (line.Contains(marker, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Where a generic finding and an exact one cover the same characters (<c>token = "ghp_…"</c>), the exact one
    /// stays: it names the format. Two exact rules that agree both stay, as gitleaks reports them.
    /// </summary>
    internal static void RemoveOverlaps(List<Finding> findings)
    {
        if (findings.Count < 2)
        {
            return;
        }
        findings.RemoveAll(generic => generic.Kind == "generic" && findings.Exists(exact =>
            exact.Kind != "generic" && exact.StartLine == generic.StartLine &&
            exact.StartColumn <= generic.StartColumn + generic.Secret.Length && generic.StartColumn <= exact.StartColumn + exact.Secret.Length));
    }
}
