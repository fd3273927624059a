using System.Text;
using LeakNode.Matching.Digests;
using LeakNode.Matching.Rules;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace LeakNode.Node.Rules;

/// <summary>
/// The local rule file of a standalone node (<c>Rules:File</c>): <c>leaks: [{id, name, description?, action?,
/// tokens: [..]}]</c>. Its tokens are plaintext; <see cref="Read"/> reduces each to its digest as it goes and keeps
/// nothing else of it.
/// </summary>
/// <remarks>
/// The file is read as a stream of YAML events, not deserialised into objects, and tokens are digested in batches
/// on every core: a million tokens took 11.5 s with YamlDotNet's object deserialiser and the digests made one at a
/// time, and held every plaintext token in memory until the end.
/// </remarks>
internal static class RuleFile
{
    /// <summary>Tokens digested together, in parallel.</summary>
    private const int BatchSize = 16 * 1024;

    private static readonly string[] LeakKeys = ["id", "name", "description", "action", "tokens"];

    /// <summary>Reads and digests a rule file. Problems name leaks by id or position and tokens by position, never by value.</summary>
    public static (RuleSet? Rules, IReadOnlyList<string> Problems) Read(string path, TokenDigester digester, long version)
    {
        var problems = new List<string>();
        var leaks = new List<LeakRule>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var batch = new Batch(digester);
        try
        {
            using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, new FileStreamOptions { BufferSize = 1 << 16 });
            var parser = new Parser(reader);
            parser.Consume<StreamStart>();
            if (parser.TryConsume<DocumentStart>(out _) && parser.TryConsume<MappingStart>(out _))
            {
                while (!parser.TryConsume<MappingEnd>(out _))
                {
                    var key = parser.Consume<Scalar>().Value;
                    if (key == "leaks" && parser.TryConsume<SequenceStart>(out _))
                    {
                        for (var index = 0; !parser.TryConsume<SequenceEnd>(out _); index++)
                        {
                            ReadLeak(parser, path, index, leaks, ids, batch, problems);
                        }
                    }
                    else
                    {
                        parser.SkipThisAndNestedEvents();
                    }
                }
            }
        }
        catch (YamlException error)
        {
            // The parser's message may quote the text at fault, which may be a token: only its position is kept.
            return (null, [$"{path}: not valid YAML, or not the rule-file shape (line {error.Start.Line}, column {error.Start.Column})"]);
        }
        catch (IOException error)
        {
            return (null, [$"{path}: cannot be read ({error.Message})"]);
        }

        batch.Flush();
        if (leaks.Count == 0 && problems.Count == 0)
        {
            problems.Add($"{path}: no leaks (expected 'leaks: [{{id, name, tokens: [..]}}]')");
        }
        return problems.Count > 0 ? (null, problems) : (new RuleSet(version, leaks), problems);
    }

    private static void ReadLeak(IParser parser, string path, int index, List<LeakRule> leaks, HashSet<string> ids, Batch batch, List<string> problems)
    {
        if (!parser.TryConsume<MappingStart>(out _))
        {
            problems.Add($"{path}: leaks[{index}]: not a mapping (expected id, name, tokens)");
            parser.SkipThisAndNestedEvents();
            return;
        }

        string? id = null;
        string? action = null;
        List<string?>? tokens = null;
        while (!parser.TryConsume<MappingEnd>(out _))
        {
            var key = parser.Consume<Scalar>().Value;
            switch (key)
            {
                case "id":
                    id = ScalarOrSkip(parser);
                    break;
                case "action":
                    action = ScalarOrSkip(parser);
                    break;
                case "tokens" when parser.TryConsume<SequenceStart>(out _):
                    tokens = [];
                    while (!parser.TryConsume<SequenceEnd>(out _))
                    {
                        tokens.Add(ScalarOrSkip(parser));
                    }
                    break;
                default:
                    if (!LeakKeys.Contains(key))
                    {
                        problems.Add($"{path}: leaks[{index}]: unknown key '{key}' (a leak has {string.Join(", ", LeakKeys)})");
                    }
                    parser.SkipThisAndNestedEvents();
                    break;
            }
        }

        if (string.IsNullOrWhiteSpace(id))
        {
            problems.Add($"{path}: leaks[{index}]: has no id");
            return;
        }
        var at = $"{path}: leak '{id}'";
        if (!ids.Add(id))
        {
            problems.Add($"{at}: the id is used twice");
        }
        var rule = RuleAction.Block;
        if (action is not null && !Enum.TryParse(action, ignoreCase: true, out rule))
        {
            problems.Add($"{at}: action '{action}' is neither block nor monitor");
        }
        if (tokens is null || tokens.Count == 0)
        {
            problems.Add($"{at}: has no tokens");
            return;
        }

        var digests = new TokenDigest[tokens.Count];
        for (var t = 0; t < tokens.Count; t++)
        {
            var length = tokens[t] is { } token ? Encoding.UTF8.GetByteCount(token) : 0;
            if (length < WindowPlan.MinTokenLength)
            {
                problems.Add($"{at}: tokens[{t}] has {length} bytes; a token has at least {WindowPlan.MinTokenLength}");
                tokens[t] = null;
            }
        }
        if (tokens.Contains(null))
        {
            return;
        }
        leaks.Add(new LeakRule(id, rule, digests));
        batch.Add(id + "/", tokens, digests);
    }

    private static string? ScalarOrSkip(IParser parser)
    {
        if (parser.TryConsume<Scalar>(out var scalar))
        {
            return scalar.Value;
        }
        parser.SkipThisAndNestedEvents();
        return null;
    }

    /// <summary>Tokens waiting to be digested, with the arrays their digests go to.</summary>
    private sealed class Batch(TokenDigester digester)
    {
        private readonly List<(string Prefix, string Token, TokenDigest[] Into, int At)> _pending = new(BatchSize);

        public void Add(string idPrefix, List<string?> tokens, TokenDigest[] into)
        {
            for (var i = 0; i < tokens.Count; i++)
            {
                _pending.Add((idPrefix, tokens[i]!, into, i));
            }
            if (_pending.Count >= BatchSize)
            {
                Flush();
            }
        }

        public void Flush()
        {
            Parallel.For(0, _pending.Count, i =>
            {
                var (prefix, token, into, at) = _pending[i];
                into[at] = digester.DigestNamedByFingerprint(prefix, token);
            });
            _pending.Clear();
        }
    }
}
