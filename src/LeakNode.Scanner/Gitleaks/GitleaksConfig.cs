using System.Globalization;
using System.Text.RegularExpressions;
using LeakNode.Scanner.Detection;
using Tomlyn;
using Tomlyn.Model;

namespace LeakNode.Scanner.Gitleaks;

/// <summary>
/// A gitleaks configuration (TOML), loaded with gitleaks' rules for what is valid: rules (<c>id</c>,
/// <c>description</c>, <c>regex</c>, <c>secretGroup</c>, <c>entropy</c>, <c>keywords</c>, <c>path</c>, <c>tags</c>,
/// allowlists), global allowlists (the old <c>[allowlist]</c> or the new <c>[[allowlists]]</c>, with
/// <c>condition</c>, <c>regexTarget</c>, <c>targetRules</c>, <c>regexes</c>, <c>paths</c>, <c>commits</c>,
/// <c>stopwords</c>) and <c>[extend]</c> (<c>path</c>, <c>useDefault</c>, <c>disabledRules</c>).
/// </summary>
/// <remarks>
/// <para>
/// <c>[extend] useDefault = true</c> extends LeakNode's built-in detectors (<see cref="BuiltInDetectors"/>), whose
/// ids follow gitleaks' (<c>github-pat</c>, <c>generic-api-key</c>…), so a config that tunes a default rule by id
/// tunes ours. Without it, the config's rules replace the built-in detectors, as a custom config replaces gitleaks'
/// defaults.
/// </para>
/// <para>
/// <c>[extend] path</c> is resolved against the config's folder, then the working directory, then each folder above
/// the config: gitleaks resolves it against its working directory, and configs written for it name paths from
/// their repository's root. Like gitleaks, extension stops two levels down.
/// </para>
/// <para>
/// Not supported, refused with a message that says so: composite rules (<c>[[rules.required]]</c>) and
/// <c>[extend] url</c>.
/// </para>
/// </remarks>
public sealed class GitleaksConfig
{
    // gitleaks' maxExtendDepth: a config, its base, and its base's base.
    private const int MaxExtendDepth = 2;

    private GitleaksConfig(string title, IReadOnlyList<DetectionRule> rules, IReadOnlyList<Allowlist> allowlists)
    {
        Title = title;
        Rules = rules;
        Allowlists = allowlists;
    }

    public string Title { get; }

    /// <summary>The rules, in the config's order (extended rules after the config's own, as gitleaks orders them).</summary>
    public IReadOnlyList<DetectionRule> Rules { get; }

    public IReadOnlyList<Allowlist> Allowlists { get; }

    /// <summary>The rules and allowlists as a detector set for a scan.</summary>
    public DetectorSet ToDetectorSet() => new(Rules, Allowlists);

    /// <summary>Loads a config file and everything it extends.</summary>
    /// <exception cref="GitleaksConfigException">The file is missing, not TOML, or not a valid gitleaks config.</exception>
    public static GitleaksConfig Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var draft = LoadDraft(Path.GetFullPath(path), depth: 0);

        // Validated once everything is assembled, as gitleaks does: an extending config may leave a rule's regex to
        // its base.
        var rules = new List<DetectionRule>();
        foreach (var rule in draft.Rules.Values)
        {
            rules.Add(rule.Build());
        }
        var ids = draft.Rules.Keys.ToHashSet(StringComparer.Ordinal);
        foreach (var allowlist in draft.Allowlists)
        {
            foreach (var target in allowlist.TargetRules)
            {
                if (!ids.Contains(target))
                {
                    throw new GitleaksConfigException($"{path}: [[allowlists]] target rule ID '{target}' does not exist");
                }
            }
        }
        return new GitleaksConfig(draft.Title, rules, draft.Allowlists);
    }

    private static Draft LoadDraft(string path, int depth)
    {
        TomlTable table;
        try
        {
            table = TomlSerializer.Deserialize<TomlTable>(File.ReadAllText(path)) ?? new TomlTable();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new GitleaksConfigException($"cannot read {path}: {e.Message}", e);
        }
        catch (TomlException e)
        {
            throw new GitleaksConfigException($"{path} is not valid TOML: {e.Message}", e);
        }

        var draft = new Draft { Title = Text(table, "title") ?? "" };
        var rulesTable = table.TryGetValue("rules", out var rulesValue) ? rulesValue as TomlTableArray : null;
        var index = 0;
        foreach (var ruleTable in rulesTable ?? [])
        {
            var rule = RuleDraft.Read(ruleTable, index++, path);
            draft.Rules[rule.Id] = rule;
        }
        draft.Allowlists.AddRange(ReadAllowlists(table, path, "[allowlist]", "[[allowlists]]", global: true));

        if (table.TryGetValue("extend", out var extendValue) && extendValue is TomlTable extend && depth < MaxExtendDepth)
        {
            Extend(draft, extend, path, depth);
        }
        return draft;
    }

    private static void Extend(Draft draft, TomlTable extend, string path, int depth)
    {
        var basePath = Text(extend, "path");
        var useDefault = extend.TryGetValue("useDefault", out var value) && value is true;
        if (Text(extend, "url") is { Length: > 0 })
        {
            throw new GitleaksConfigException($"{path}: [extend] url is not supported (gitleaks does not implement it either); download the file and use [extend] path");
        }
        if (useDefault && !string.IsNullOrEmpty(basePath))
        {
            throw new GitleaksConfigException($"{path}: unable to load config due to extend.path and extend.useDefault being set");
        }
        var disabled = Strings(extend, "disabledRules").ToHashSet(StringComparer.Ordinal);

        Draft baseDraft;
        if (useDefault)
        {
            baseDraft = new Draft();
            foreach (var rule in BuiltInDetectors.All)
            {
                baseDraft.Rules[rule.Id] = RuleDraft.From(rule);
            }
        }
        else if (!string.IsNullOrEmpty(basePath))
        {
            baseDraft = LoadDraft(ResolveExtendPath(basePath, path), depth + 1);
        }
        else
        {
            return;
        }

        // gitleaks' merge: the extending config's own settings win; tags, keywords and allowlists add up.
        var merged = new Dictionary<string, RuleDraft>(StringComparer.Ordinal);
        foreach (var (id, rule) in draft.Rules)
        {
            merged[id] = baseDraft.Rules.TryGetValue(id, out var baseRule) && !disabled.Contains(id) ? baseRule.OverriddenBy(rule) : rule;
        }
        foreach (var (id, baseRule) in baseDraft.Rules)
        {
            if (!merged.ContainsKey(id) && !disabled.Contains(id))
            {
                merged[id] = baseRule;
            }
        }
        draft.Rules.Clear();
        foreach (var (id, rule) in merged)
        {
            draft.Rules[id] = rule;
        }
        draft.Allowlists.AddRange(baseDraft.Allowlists);
    }

    private static string ResolveExtendPath(string basePath, string configPath)
    {
        var configDirectory = Path.GetDirectoryName(configPath)!;
        var candidates = new List<string> { Path.Combine(configDirectory, basePath), Path.GetFullPath(basePath) };
        for (var folder = Directory.GetParent(configDirectory); folder is not null; folder = folder.Parent)
        {
            candidates.Add(Path.Combine(folder.FullName, basePath));
        }
        foreach (var candidate in candidates)
        {
            if (File.Exists(candidate))
            {
                return Path.GetFullPath(candidate);
            }
        }
        throw new GitleaksConfigException(
            $"{configPath}: failed to load extended config: [extend] path '{basePath}' does not exist (looked beside the config, in the working directory and in the folders above the config)");
    }

    /// <summary>Reads the old single list and the new list of lists; gitleaks refuses both together.</summary>
    internal static List<Allowlist> ReadAllowlists(TomlTable table, string where, string oldName, string newName, bool global)
    {
        var lists = new List<Allowlist>();
        var hasOld = table.TryGetValue("allowlist", out var old) && old is TomlTable;
        var hasNew = table.TryGetValue("allowlists", out var @new) && @new is TomlTableArray;
        if (hasOld && hasNew)
        {
            throw new GitleaksConfigException($"{where}: {oldName} is deprecated, it cannot be used alongside {newName}");
        }
        if (hasOld)
        {
            lists.Add(ReadAllowlist((TomlTable)old!, where, oldName, global));
        }
        if (hasNew)
        {
            foreach (var list in (TomlTableArray)@new!)
            {
                lists.Add(ReadAllowlist(list, where, newName, global));
            }
        }
        return lists;
    }

    private static Allowlist ReadAllowlist(TomlTable table, string where, string name, bool global)
    {
        var target = AllowlistTarget.Secret;
        if (Text(table, "regexTarget") is { Length: > 0 } regexTarget)
        {
            target = regexTarget.ToLowerInvariant() switch
            {
                "secret" => AllowlistTarget.Secret,
                "match" => AllowlistTarget.Match,
                "line" => AllowlistTarget.Line,
                _ => throw new GitleaksConfigException($"{where}: {name} unknown allowlist |regexTarget| '{regexTarget}' (expected 'match', 'line')"),
            };
        }
        var requireAll = false;
        if (Text(table, "condition") is { Length: > 0 } condition)
        {
            requireAll = condition.ToUpperInvariant() switch
            {
                "AND" or "&&" => true,
                "OR" or "||" => false,
                _ => throw new GitleaksConfigException($"{where}: {name} unknown allowlist |condition| '{condition}' (expected 'and', 'or')"),
            };
        }
        var targetRules = Strings(table, "targetRules");
        if (!global && targetRules.Count > 0)
        {
            throw new GitleaksConfigException($"{where}: {name} |targetRules| is only valid in a global allowlist");
        }
        var allowlist = new Allowlist
        {
            Description = Text(table, "description") ?? "",
            RequireAll = requireAll,
            RegexTarget = target,
            Regexes = [.. Strings(table, "regexes").Select(r => CompilePattern(r, $"{where}: {name} regex"))],
            Paths = [.. Strings(table, "paths").Select(r => CompilePattern(r, $"{where}: {name} path"))],
            Commits = [.. Strings(table, "commits").Distinct(StringComparer.Ordinal)],
            StopWords = [.. Strings(table, "stopwords").Select(s => s.ToLowerInvariant()).Distinct(StringComparer.Ordinal)],
            TargetRules = targetRules,
        };
        if (allowlist.IsEmpty)
        {
            throw new GitleaksConfigException($"{where}: {name} must contain at least one check for: commits, paths, regexes, or stopwords");
        }
        return allowlist;
    }

    internal static Regex CompilePattern(string pattern, string what)
    {
        try
        {
            return Re2Translator.Compile(pattern, out _);
        }
        catch (Re2SyntaxException e)
        {
            throw new GitleaksConfigException($"{what} '{pattern}' is invalid: {e.Message}", e);
        }
    }

    internal static string? Text(TomlTable table, string key) => table.TryGetValue(key, out var value) ? value as string : null;

    internal static List<string> Strings(TomlTable table, string key) =>
        table.TryGetValue(key, out var value) && value is TomlArray array ? [.. array.OfType<string>()] : [];

    internal static double? Number(TomlTable table, string key) => table.TryGetValue(key, out var value)
        ? value switch
        {
            long l => l,
            double d => d,
            _ => null,
        }
        : null;

    private sealed class Draft
    {
        public string Title { get; init; } = "";

        // Insertion-ordered by id: a later rule with the same id replaces the earlier one, as in gitleaks' map.
        public OrderedDictionary<string, RuleDraft> Rules { get; } = new(StringComparer.Ordinal);

        public List<Allowlist> Allowlists { get; } = [];
    }

    /// <summary>A rule as read, before the merge with its base and the final checks.</summary>
    private sealed class RuleDraft
    {
        public required string Id { get; init; }

        public required string Where { get; init; }

        public string? Description { get; set; }

        public string? RegexText { get; set; }

        public Regex? Regex { get; set; }

        public int Captures { get; set; }

        public int SecretGroup { get; set; }

        public double? Entropy { get; set; }

        public Regex? Path { get; set; }

        public List<string> Keywords { get; set; } = [];

        public List<string> Tags { get; set; } = [];

        public List<Allowlist> Allowlists { get; set; } = [];

        /// <summary>The built-in detector this draft started from, whose kind, severity and checks it keeps.</summary>
        public DetectionRule? BuiltIn { get; set; }

        public static RuleDraft Read(TomlTable table, int index, string path)
        {
            var id = Text(table, "id")?.Trim() ?? "";
            var regexText = Text(table, "regex");
            if (id.Length == 0)
            {
                var context = Text(table, "description") ?? regexText ?? index.ToString(CultureInfo.InvariantCulture);
                throw new GitleaksConfigException($"{path}: rule |{context}|: missing rule ID");
            }
            if (table.ContainsKey("required"))
            {
                throw new GitleaksConfigException($"{path}: {id}: composite rules ([[rules.required]]) are not supported by LeakNode yet");
            }
            var where = $"{path}: {id}";
            var draft = new RuleDraft
            {
                Id = id,
                Where = where,
                Description = Text(table, "description"),
                RegexText = regexText,
                SecretGroup = (int)(Number(table, "secretGroup") ?? 0),
                Entropy = Number(table, "entropy"),
                Keywords = [.. Strings(table, "keywords").Select(k => k.ToLowerInvariant())],
                Tags = Strings(table, "tags"),
                Allowlists = ReadAllowlists(table, where, "[rules.allowlist]", "[[rules.allowlists]]", global: false),
            };
            if (regexText is not null)
            {
                try
                {
                    draft.Regex = Re2Translator.Compile(regexText, out var captures);
                    draft.Captures = captures;
                }
                catch (Re2SyntaxException e)
                {
                    throw new GitleaksConfigException($"{where}: invalid regex: {e.Message}", e);
                }
            }
            if (Text(table, "path") is { } pathPattern)
            {
                draft.Path = CompilePattern(pathPattern, $"{where}: path");
            }
            return draft;
        }

        public static RuleDraft From(DetectionRule rule) => new()
        {
            Id = rule.Id,
            Where = "built-in " + rule.Id,
            Description = rule.Description,
            Regex = rule.Regex,
            Captures = rule.Regex is null ? 0 : rule.Regex.GetGroupNumbers().Length - 1,
            SecretGroup = rule.SecretGroup,
            Entropy = rule.Entropy,
            Path = rule.Path,
            Keywords = [.. rule.Keywords],
            Tags = [.. rule.Tags],
            Allowlists = [.. rule.Allowlists],
            BuiltIn = rule,
        };

        /// <summary>This base rule with an extending config's settings for the same id applied.</summary>
        public RuleDraft OverriddenBy(RuleDraft other)
        {
            var regexChanged = other.Regex is not null;
            return new RuleDraft
            {
                Id = Id,
                Where = other.Where,
                Description = string.IsNullOrEmpty(other.Description) ? Description : other.Description,
                Regex = other.Regex ?? Regex,
                Captures = regexChanged ? other.Captures : Captures,
                SecretGroup = other.SecretGroup != 0 ? other.SecretGroup : SecretGroup,
                Entropy = other.Entropy is > 0 ? other.Entropy : Entropy,
                Path = other.Path ?? Path,
                Keywords = [.. Keywords, .. other.Keywords],
                Tags = [.. Tags, .. other.Tags],
                Allowlists = [.. Allowlists, .. other.Allowlists],
                // A new regex finds other strings: the built-in checksum or line scoping no longer applies to them.
                BuiltIn = regexChanged ? null : BuiltIn,
            };
        }

        public DetectionRule Build()
        {
            // gitleaks accepts a rule with keywords alone (it reports nothing); one with nothing at all is a mistake.
            if (Regex is null && Path is null && Keywords.Count == 0)
            {
                throw new GitleaksConfigException($"{Where}: both |regex| and |path| are empty, this rule will have no effect");
            }
            if (Regex is not null && SecretGroup > Captures)
            {
                throw new GitleaksConfigException($"{Where}: invalid regex secret group {SecretGroup}, max regex secret group {Captures}");
            }
            return new DetectionRule
            {
                Id = Id,
                Description = Description ?? BuiltIn?.Description ?? "",
                Kind = BuiltIn?.Kind ?? Id,
                Severity = BuiltIn?.Severity ?? Severity.High,
                Regex = Regex,
                SecretGroup = SecretGroup,
                Entropy = Entropy,
                Path = Path,
                Keywords = [.. Keywords.Distinct(StringComparer.Ordinal)],
                LineScoped = BuiltIn?.LineScoped ?? false,
                Validator = BuiltIn?.Validator,
                Allowlists = Allowlists,
                Tags = Tags,
                PublicPrefix = BuiltIn?.PublicPrefix,
            };
        }
    }
}
