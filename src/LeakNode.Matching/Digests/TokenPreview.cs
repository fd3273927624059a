using System.Text;

namespace LeakNode.Matching.Digests;

/// <summary>
/// The masked preview of a token that events, logs, the API and the console show (<c>ghp_…9f3a</c>): the token's
/// format prefix when it is a well-known public one, an ellipsis, and its last four characters when they lie in
/// the digest's span (which a node can learn anyway), so that a preview never discloses more than the digest does.
/// </summary>
public static class TokenPreview
{
    /// <summary>The characters shown from the token's end.</summary>
    public const int SuffixLength = 4;

    /// <summary>
    /// Prefixes that name a token format and are public by definition (they are in every vendor's documentation):
    /// showing them reveals nothing about the token, and tells a reader what kind of credential leaked.
    /// </summary>
    private static readonly string[] PublicPrefixText =
    [
        "github_pat_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "glpat-", "gldt-", "glrt-",
        "xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxe-", "xapp-",
        "sk_live_", "sk_test_", "rk_live_", "rk_test_", "pk_live_", "pk_test_", "whsec_",
        "AKIA", "ASIA", "AIza", "sk-proj-", "sk-ant-", "sk-", "npm_", "pypi-", "SG.", "dop_v1_", "doo_v1_",
        "hf_", "dapi", "PMAK-", "shpat_", "shpss_", "lin_api_", "dp.pt.", "NRAK-", "ATATT", "sq0atp-", "sq0csp-",
        "EAAA", "eyJ",
    ];

    private static readonly byte[][] PublicPrefixes = [.. PublicPrefixText.Select(p => Encoding.ASCII.GetBytes(p))];

    /// <summary>The preview of a token whose digest span starts at <paramref name="spanStart"/>.</summary>
    public static string Of(ReadOnlySpan<byte> token, int spanStart)
    {
        Span<char> text = stackalloc char[32];
        var written = 0;
        foreach (var prefix in PublicPrefixes)
        {
            if (token.Length > prefix.Length * 2 && token.StartsWith(prefix))
            {
                written = Encoding.ASCII.GetChars(prefix, text);
                break;
            }
        }
        text[written++] = '…';

        // The last characters only when the span covers them: otherwise they would add to what a node can learn.
        var spanEnd = spanStart + WindowPlan.SpanLength(token.Length);
        var suffix = token[^SuffixLength..];
        if (spanEnd == token.Length && IsPrintableAscii(suffix))
        {
            written += Encoding.ASCII.GetChars(suffix, text[written..]);
        }
        return new string(text[..written]);
    }

    /// <summary>
    /// Whether <paramref name="preview"/> has the shape <see cref="Of"/> gives a preview: one of the public format
    /// prefixes or nothing, an ellipsis, then at most <see cref="SuffixLength"/> printable ASCII characters. A digest
    /// made elsewhere (an offline helper) brings its own preview; this check keeps such a preview from carrying more
    /// of a token than one made here would.
    /// </summary>
    public static bool IsWellFormed(string? preview)
    {
        if (preview is null)
        {
            return false;
        }
        var ellipsis = preview.IndexOf('…', StringComparison.Ordinal);
        if (ellipsis < 0)
        {
            return false;
        }
        var prefix = preview[..ellipsis];
        var suffix = preview[(ellipsis + 1)..];
        return (prefix.Length == 0 || PublicPrefixText.Contains(prefix, StringComparer.Ordinal))
            && suffix.Length <= SuffixLength
            && suffix.All(c => c is > (char)0x20 and < (char)0x7F);
    }

    private static bool IsPrintableAscii(ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
        {
            if (b is < 0x21 or > 0x7E)
            {
                return false;
            }
        }
        return true;
    }
}
