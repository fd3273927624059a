using System.Text.RegularExpressions;
using LeakNode.Scanner.Detection;
using LeakNode.Scanner.Gitleaks;
using LeakNode.Scanner.Tests.Support;

namespace LeakNode.Scanner.Tests.Gitleaks;

/// <summary>
/// gitleaks' own files, read from the peers' data beside the repository (never copied into it): the default
/// config loads whole and every rule finds a sample made from its own regex; the format's test configs are
/// accepted or refused as gitleaks does. Skipped, saying so, where the data is absent.
/// </summary>
public sealed partial class GitleaksCompatibilityTests
{
    [Fact]
    public void Load_DefaultConfig_EveryRuleLoadsAndCompiles()
    {
        var file = Path.Combine(Peers.RequireGitleaks(), "config", "gitleaks.toml");
        var declared = RulesHeader().Count(File.ReadAllText(file));

        var config = GitleaksConfig.Load(file);

        Assert.Equal(222, declared);
        Assert.Equal(declared, config.Rules.Count);
        Assert.All(config.Rules, rule => Assert.True(rule.Regex is not null || rule.Path is not null, rule.Id));
        TestContext.Current.TestOutputHelper?.WriteLine($"gitleaks default config: {config.Rules.Count} rules loaded and compiled (NonBacktracking), {config.Allowlists.Count} global allowlist(s)");
    }

    [Fact]
    public void Scan_DefaultConfig_EveryRuleFindsASampleOfItsOwnRegex()
    {
        var file = Path.Combine(Peers.RequireGitleaks(), "config", "gitleaks.toml");
        var config = GitleaksConfig.Load(file);
        var patterns = RawPatterns(file);
        var failed = new List<string>();

        foreach (var rule in config.Rules)
        {
            var single = new DetectorSet([rule], config.Allowlists);
            var found = false;
            for (var seed = 0; seed < 300 && !found; seed++)
            {
                var generator = new Re2SampleGenerator(seed);
                var path = patterns[rule.Id].Path is { } pathPattern ? SamplePath(generator, pathPattern) : "sample.txt";
                var text = patterns[rule.Id].Regex is { } regex ? generator.Generate(Re2Parser.Parse(regex).Root) : "";
                // Keywords gate a whole document, as in gitleaks. A regex that does not spell its keyword (airtable's
                // "pat…" tokens, "hooks.slack.com" written with '.' for any character) gets it on the line before,
                // as gitleaks' own rule tests put their samples in context.
                if (rule.Keywords.Count > 0 && !rule.Keywords.Any(k => text.Contains(k, StringComparison.OrdinalIgnoreCase)))
                {
                    text = rule.Keywords[seed % rule.Keywords.Count] + "\n" + text;
                }
                found = single.Scan(text, new DocumentOrigin(path)).Exists(f => f.RuleId == rule.Id);
            }
            if (!found)
            {
                failed.Add(rule.Id);
            }
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"gitleaks default config: {config.Rules.Count - failed.Count}/{config.Rules.Count} rules matched a sample generated from their regex (keywords, entropy, secret group and allowlists applied)");
        Assert.True(failed.Count == 0, "no sample matched: " + string.Join(", ", failed));
    }

    [Fact]
    public void Load_ValidTestConfigs_AllAccepted()
    {
        var folder = Path.Combine(Peers.RequireGitleaks(), "testdata", "config", "valid");
        var files = Directory.GetFiles(folder, "*.toml").Order(StringComparer.Ordinal).ToList();
        // Files another valid config extends are bases: gitleaks too loads them only through that config (loaded
        // alone, extend_base_1 and _2 point two levels further down, past gitleaks' extension depth, at a file that
        // does not exist).
        var bases = files.SelectMany(f => ExtendPath().Matches(File.ReadAllText(f)).Select(m => Path.GetFileName(m.Groups[1].Value))).ToHashSet(StringComparer.Ordinal);

        var loaded = 0;
        foreach (var file in files.Where(f => !bases.Contains(Path.GetFileName(f))))
        {
            var config = GitleaksConfig.Load(file);
            Assert.NotNull(config);
            loaded++;
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"gitleaks valid/: {loaded} configs accepted, {files.Count - loaded} more loaded as the bases they extend");
        Assert.True(loaded >= 20);
    }

    public static TheoryData<string, string> InvalidConfigs() => new()
    {
        { "allowlist_global_empty.toml", "[[allowlists]] must contain at least one check for: commits, paths, regexes, or stopwords" },
        { "allowlist_global_old_and_new.toml", "[allowlist] is deprecated, it cannot be used alongside [[allowlists]]" },
        { "allowlist_global_regextarget.toml", "unknown allowlist |regexTarget| 'mtach'" },
        { "allowlist_global_target_rule_id.toml", "target rule ID 'github-pat' does not exist" },
        { "allowlist_rule_empty.toml", "example: [[rules.allowlists]] must contain at least one check" },
        { "allowlist_rule_old_and_new.toml", "example: [rules.allowlist] is deprecated, it cannot be used alongside [[rules.allowlists]]" },
        { "allowlist_rule_regextarget.toml", "example: [[rules.allowlists]] unknown allowlist |regexTarget| 'mtach'" },
        { "extend_invalid_base.toml", "[extend] path '../testdata/config/invalid/does_not_exist.toml' does not exist" },
        { "extend_invalid_ruleid.toml", "missing rule ID" },
        { "rule_bad_entropy_group.toml", "discord-api-key: invalid regex secret group 5, max regex secret group 3" },
        { "rule_missing_id.toml", "rule |Discord API key|: missing rule ID" },
        { "rule_no_regex_or_path.toml", "discord-api-key: both |regex| and |path| are empty, this rule will have no effect" },
    };

    [Theory]
    [MemberData(nameof(InvalidConfigs))]
    public void Load_InvalidTestConfig_RefusedNamingTheProblem(string name, string message)
    {
        var file = Path.Combine(Peers.RequireGitleaks(), "testdata", "config", "invalid", name);

        var error = Assert.Throws<GitleaksConfigException>(() => GitleaksConfig.Load(file));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_EveryInvalidTestConfig_HasACase()
    {
        var folder = Path.Combine(Peers.RequireGitleaks(), "testdata", "config", "invalid");
        var covered = InvalidConfigs().Select(row => row.Data.Item1).ToHashSet(StringComparer.Ordinal);

        Assert.All(Directory.GetFiles(folder, "*.toml"), file => Assert.Contains(Path.GetFileName(file), covered));
    }

    private static string SamplePath(Re2SampleGenerator generator, string pattern)
    {
        var sample = generator.Generate(Re2Parser.Parse(pattern).Root);
        return string.Concat(sample.Where(c => c is not ('\n' or '\r' or '\0')));
    }

    /// <summary>Each rule's regex and path as written in the file (the sample generator reads Go's syntax).</summary>
    private static Dictionary<string, (string? Regex, string? Path)> RawPatterns(string file)
    {
        var table = Tomlyn.TomlSerializer.Deserialize<Tomlyn.Model.TomlTable>(File.ReadAllText(file))!;
        var result = new Dictionary<string, (string?, string?)>(StringComparer.Ordinal);
        foreach (var rule in (Tomlyn.Model.TomlTableArray)table["rules"])
        {
            result[(string)rule["id"]] = (rule.TryGetValue("regex", out var r) ? (string)r : null, rule.TryGetValue("path", out var p) ? (string)p : null);
        }
        return result;
    }

    [GeneratedRegex(@"^\[\[rules\]\]", RegexOptions.Multiline)]
    private static partial Regex RulesHeader();

    [GeneratedRegex(@"^\s*path\s*=\s*""([^""]+)""", RegexOptions.Multiline)]
    private static partial Regex ExtendPath();
}
