using System.Text;
using LeakNode.Matching.Digests;
using LeakNode.Matching.Rules;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace LeakNode.Node.Rules;

/// <summary>
/// The local rule file of a standalone node (<c>Rules:File</c>): <c>leaks: [{id, name, action?, tokens: [..]}]</c>.
/// Its tokens are plaintext; <see cref="Read"/> reduces each to its digest at once and keeps nothing else of it.
/// </summary>
internal static class RuleFile
{
    private static readonly IDeserializer Yaml = new DeserializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .Build();

    /// <summary>Reads and digests a rule file. Problems name leaks by id or position and tokens by position, never by value.</summary>
    public static (RuleSet? Rules, IReadOnlyList<string> Problems) Read(string path, TokenDigester digester, long version)
    {
        Document? document;
        try
        {
            document = Yaml.Deserialize<Document>(File.ReadAllText(path, Encoding.UTF8));
        }
        catch (YamlException error)
        {
            // The parser's message quotes the offending text, which may be a token: only its position is kept.
            return (null, [$"{path}: not valid YAML (line {error.Start.Line}, column {error.Start.Column})"]);
        }
        catch (IOException error)
        {
            return (null, [$"{path}: cannot be read ({error.Message})"]);
        }

        var problems = new List<string>();
        var leaks = new List<LeakRule>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var entries = document?.Leaks ?? [];
        if (entries.Count == 0)
        {
            problems.Add($"{path}: no leaks (expected 'leaks: [{{id, name, tokens: [..]}}]')");
        }
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            var at = $"{path}: leaks[{i}]";
            if (entry is null)
            {
                problems.Add($"{at}: empty entry");
                continue;
            }
            if (string.IsNullOrWhiteSpace(entry.Id))
            {
                problems.Add($"{at}: has no id");
                continue;
            }
            at = $"{path}: leak '{entry.Id}'";
            if (!ids.Add(entry.Id))
            {
                problems.Add($"{at}: the id is used twice");
            }
            var action = RuleAction.Block;
            if (entry.Action is not null && !Enum.TryParse(entry.Action, ignoreCase: true, out action))
            {
                problems.Add($"{at}: action '{entry.Action}' is neither block nor monitor");
            }
            if (entry.Tokens is null || entry.Tokens.Count == 0)
            {
                problems.Add($"{at}: has no tokens");
                continue;
            }

            var digests = new List<TokenDigest>(entry.Tokens.Count);
            for (var t = 0; t < entry.Tokens.Count; t++)
            {
                var token = entry.Tokens[t];
                var length = token is null ? 0 : Encoding.UTF8.GetByteCount(token);
                if (length < WindowPlan.MinTokenLength)
                {
                    problems.Add($"{at}: tokens[{t}] has {length} bytes; a token has at least {WindowPlan.MinTokenLength}");
                    continue;
                }
                var digest = digester.Digest("pending", token!);
                digests.Add(digest with { Id = $"{entry.Id}/{digest.Fingerprint}" });
            }
            leaks.Add(new LeakRule(entry.Id, action, digests));
        }

        return problems.Count > 0 ? (null, problems) : (new RuleSet(version, leaks), problems);
    }

    private sealed class Document
    {
        public List<Entry?>? Leaks { get; set; }
    }

    private sealed class Entry
    {
        public string? Id { get; set; }

        public string? Name { get; set; }

        public string? Description { get; set; }

        public string? Action { get; set; }

        public List<string?>? Tokens { get; set; }
    }
}
