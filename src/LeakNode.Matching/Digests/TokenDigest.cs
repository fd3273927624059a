namespace LeakNode.Matching.Digests;

/// <summary>
/// A token in the only form a node ever holds: its length, the keyed 32-bit hashes of the windows of one
/// anchor span (at most half of the token), and the first 16 bytes of the keyed HMAC-SHA256 of the whole token.
/// </summary>
/// <remarks>
/// What a holder of a digest and of the deployment key can learn: the token's length, and the bytes of its
/// anchor span (<see cref="WindowPlan.SpanLength"/> bytes, never more than ⌊L/2⌋, by brute-forcing the window
/// hashes). The other half of the token can only be found by brute-forcing it against <see cref="Hmac"/>.
/// See docs/DESIGN.md, "Security model".
/// </remarks>
/// <param name="Id">The token's id, reported with every match.</param>
/// <param name="Length">The token's length in bytes.</param>
/// <param name="SpanStart">Offset in the token of the first window of <paramref name="Windows"/>.</param>
/// <param name="Windows">The keyed hashes of <see cref="WindowPlan.DigestWindowCount"/> consecutive windows from <paramref name="SpanStart"/>.</param>
/// <param name="Hmac">The first <see cref="HmacLength"/> bytes of HMAC-SHA256 of the whole token under the deployment key.</param>
/// <param name="Preview">A masked preview (<see cref="TokenPreview"/>) that discloses nothing beyond the span, or null.</param>
public sealed record TokenDigest(string Id, int Length, int SpanStart, uint[] Windows, byte[] Hmac, string? Preview = null)
{
    /// <summary>The digest scheme this type describes; a different window plan or hash is a different scheme.</summary>
    public const int Scheme = 1;

    /// <summary>
    /// HMAC-SHA256 truncated to 128 bits (as RFC 4868 does for IPsec): a false confirmation has probability
    /// 2^-128, and 16 bytes a token keep the per-token memory small.
    /// </summary>
    public const int HmacLength = 16;

    /// <summary>The longest token id, in UTF-8 bytes.</summary>
    public const int MaxIdBytes = 255;

    /// <summary>The longest preview, in UTF-8 bytes.</summary>
    public const int MaxPreviewBytes = 64;

    /// <summary>16 hex digits of the HMAC: how events, logs and the API name a token besides its id.</summary>
    public string Fingerprint => FormatFingerprint(System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(Hmac));

    internal static string FormatFingerprint(ulong hmac0) =>
        System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(hmac0).ToString("x16", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Checks the digest's shape against the window plan. Returns null when it is well formed, else a message
    /// that names the token by id (never by value).
    /// </summary>
    public string? Validate()
    {
        if (string.IsNullOrEmpty(Id))
        {
            return "a token has an empty id";
        }
        if (System.Text.Encoding.UTF8.GetByteCount(Id) > MaxIdBytes)
        {
            return $"token id '{Truncate(Id)}' is longer than {MaxIdBytes} UTF-8 bytes";
        }
        if (Length < WindowPlan.MinTokenLength || Length > WindowPlan.MaxSupportedTokenLength)
        {
            return $"token '{Id}' has length {Length}; tokens are {WindowPlan.MinTokenLength} to {WindowPlan.MaxSupportedTokenLength} bytes";
        }
        var expected = WindowPlan.DigestWindowCount(Length);
        if (Windows is null || Windows.Length != expected)
        {
            return $"token '{Id}' carries {Windows?.Length ?? 0} window hashes; a token of length {Length} needs {expected}";
        }
        if (SpanStart < 0 || SpanStart + WindowPlan.SpanLength(Length) > Length)
        {
            return $"token '{Id}' has span start {SpanStart}, outside a token of length {Length}";
        }
        if (Hmac is null || Hmac.Length != HmacLength)
        {
            return $"token '{Id}' has an HMAC of {Hmac?.Length ?? 0} bytes; {HmacLength} are needed";
        }
        if (Preview is not null && System.Text.Encoding.UTF8.GetByteCount(Preview) > MaxPreviewBytes)
        {
            return $"token '{Id}' has a preview longer than {MaxPreviewBytes} bytes";
        }
        return null;
    }

    private static string Truncate(string id) => id.Length <= 40 ? id : id[..40] + "…";
}
