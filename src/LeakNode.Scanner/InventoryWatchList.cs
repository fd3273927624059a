using System.Text;
using LeakNode.Matching;
using LeakNode.Matching.Digests;
using LeakNode.Matching.Rules;
using LeakNode.Scanner.Detection;

namespace LeakNode.Scanner;

/// <summary>
/// The organisation's own issued tokens, in digest form, found exactly by the node's matcher: a hit is a certain
/// leak of a live token (kind <c>inventory</c>, severity critical). The scanner never needs the plaintext.
/// </summary>
public sealed class InventoryWatchList
{
    /// <summary>The rule id and kind of inventory findings.</summary>
    public const string RuleId = "inventory";

    private readonly TokenMatcher _matcher;

    /// <summary>Watches for the tokens of every leak of <paramref name="rules"/>.</summary>
    /// <exception cref="RuleSetRejectedException">The digests are malformed.</exception>
    public InventoryWatchList(DigestKey key, RuleSet rules)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(rules);
        _matcher = TokenMatcher.Build(key, rules);
    }

    /// <summary>Watches for the given token digests (one watch-list entry each).</summary>
    public InventoryWatchList(DigestKey key, IEnumerable<TokenDigest> tokens)
        : this(key, new RuleSet(1, [new LeakRule(RuleId, RuleAction.Monitor, [.. tokens])]))
    {
    }

    /// <summary>Tokens watched.</summary>
    public int TokenCount => _matcher.TokenCount;

    /// <summary>Every watched token in <paramref name="content"/>, as findings.</summary>
    internal List<Finding> Scan(ReadOnlySpan<byte> content, DocumentOrigin origin)
    {
        var findings = new List<Finding>();
        if (_matcher.TokenCount == 0)
        {
            return findings;
        }
        foreach (var match in _matcher.FindAll(content))
        {
            var offset = (int)match.Offset;
            var secret = Encoding.UTF8.GetString(content.Slice(offset, match.Length));
            var before = content[..offset];
            var lineStart = before.LastIndexOf((byte)'\n') + 1;
            var line = before.Count((byte)'\n') + 1;
            var column = Encoding.UTF8.GetCharCount(before[lineStart..]) + 1;
            var tokenId = _matcher.GetTokenId(match.Token);
            findings.Add(new Finding
            {
                RuleId = RuleId,
                Kind = RuleId,
                Description = "A token of the organisation's inventory",
                Severity = Severity.Critical,
                Secret = secret,
                Preview = _matcher.GetTokenPreview(match.Token) ?? SecretPreview.Of(secret, null),
                Path = origin.Path,
                StartLine = line,
                StartColumn = column,
                EndLine = line,
                EndColumn = column + secret.Length - 1,
                Commit = origin.Commit,
                Author = origin.Author,
                Email = origin.Email,
                Date = origin.Date,
                Message = origin.Message,
                Entropy = Math.Round(ShannonEntropy.Of(secret), 3),
                TokenId = tokenId,
                Tags = ["inventory"],
                Fingerprint = SecretPreview.Fingerprint(RuleId, origin.Path, secret),
            });
        }
        return findings;
    }
}
