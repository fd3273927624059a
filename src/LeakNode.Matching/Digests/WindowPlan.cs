namespace LeakNode.Matching.Digests;

/// <summary>
/// How a token of a given length is anchored: the width of its windows, the stride at which the scanner
/// probes the traffic for it, and how many window hashes its digest carries. A pure function of the length,
/// shared by the cloud (which writes digests) and the node (which reads them): changing it is a change of
/// <see cref="TokenDigest.Scheme"/>.
/// </summary>
/// <remarks>
/// A token of length L is found by probing every s-th position of the traffic, if it has s consecutive
/// anchored windows: whatever its offset, exactly one of them starts on a probed position. The anchors must
/// lie in at most half of the token (the security model), so s + W − 1 ≤ ⌊L/2⌋. Fewer probes per byte is
/// what makes the scan fast, so each length gets the widest stride its half allows, from a short ladder
/// (each rung is one pass over the traffic, so few rungs):
/// <list type="table">
/// <item><term>L ≥ 30</term><description>W = 8, s = 8: one probe per 8 bytes. Almost every real token format (GitHub 40, Stripe ≥ 32, Slack ≥ 50, AWS secret 40, Google 39, JWTs).</description></item>
/// <item><term>18 ≤ L ≤ 29</term><description>W = 6, s = 4: AWS access key ids (20). Six bytes of a random token still make a window that ordinary traffic almost never repeats.</description></item>
/// <item><term>8 ≤ L ≤ 17</term><description>W = 4, s = 1: short tokens; every position is probed, but this group is small in practice.</description></item>
/// </list>
/// The constants are measured, not guessed: see bench/README.md.
/// </remarks>
public static class WindowPlan
{
    /// <summary>The shortest token the matcher accepts.</summary>
    public const int MinTokenLength = 8;

    /// <summary>The longest token any digest scheme supports (anchor offsets are 16-bit).</summary>
    public const int MaxSupportedTokenLength = ushort.MaxValue;

    /// <summary>
    /// At most this many window hashes per digest: enough choice to dodge windows that many tokens of the set
    /// share, while a long token (a JWT, a private key) discloses at most 15 + 8 = 23 bytes of its span.
    /// </summary>
    public const int MaxDigestWindows = 16;

    /// <summary>The number of stride groups, one pass over the traffic each.</summary>
    internal const int GroupCount = 3;

    private static readonly (int MinLength, int Width, int Stride)[] Ladder =
    [
        (30, 8, 8),
        (18, 6, 4),
        (MinTokenLength, 4, 1),
    ];

    /// <summary>The stride group of a token length (0 = widest stride).</summary>
    internal static int GroupOf(int length)
    {
        for (var g = 0; g < Ladder.Length; g++)
        {
            if (length >= Ladder[g].MinLength)
            {
                return g;
            }
        }
        throw new ArgumentOutOfRangeException(nameof(length), length, $"Tokens are at least {MinTokenLength} bytes.");
    }

    /// <summary>The window width (bytes) of a stride group.</summary>
    internal static int WidthOfGroup(int group) => Ladder[group].Width;

    /// <summary>The probe stride of a stride group.</summary>
    internal static int StrideOfGroup(int group) => Ladder[group].Stride;

    /// <summary>The window width used for tokens of this length.</summary>
    public static int WindowWidth(int length) => Ladder[GroupOf(length)].Width;

    /// <summary>The probe stride used for tokens of this length.</summary>
    public static int Stride(int length) => Ladder[GroupOf(length)].Stride;

    /// <summary>How many window hashes a digest of a token of this length carries.</summary>
    public static int DigestWindowCount(int length)
    {
        var width = WindowWidth(length);
        return Math.Min(MaxDigestWindows, (length / 2) - width + 1);
    }

    /// <summary>The number of token bytes the digest's windows cover: never more than half the token.</summary>
    public static int SpanLength(int length) => DigestWindowCount(length) + WindowWidth(length) - 1;
}
