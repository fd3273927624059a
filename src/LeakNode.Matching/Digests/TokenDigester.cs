using System.Security.Cryptography;

namespace LeakNode.Matching.Digests;

/// <summary>
/// Turns a plaintext token into its <see cref="TokenDigest"/>. Runs where plaintext may exist: the cloud,
/// a local rule file being loaded, an offline helper. The digest keeps nothing from which more than half of
/// the token can be read back.
/// </summary>
public sealed class TokenDigester
{
    private readonly DigestKey _key;

    public TokenDigester(DigestKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        _key = key;
    }

    /// <summary>The key digests are made with.</summary>
    public DigestKey Key => _key;

    // One HMAC context a thread, kept with the key it was made for: the one-shot HMACSHA256.HashData sets the key
    // up on every call (1.7 µs against 0.7 µs for a 40-byte token), which is most of a digest's cost.
    [ThreadStatic]
    private static (DigestKey Key, IncrementalHash Hmac)? t_hmac;

    /// <summary>Digests a token given as bytes.</summary>
    /// <exception cref="ArgumentException">The token is shorter than <see cref="WindowPlan.MinTokenLength"/> or longer than supported.</exception>
    public TokenDigest Digest(string id, ReadOnlySpan<byte> token)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        return Digest(id, null, token);
    }

    /// <summary>
    /// Digests a token whose id is <paramref name="idPrefix"/> followed by its fingerprint: an id that stays the same
    /// for the same token under the same key, whatever else changes around it (a rule file's order, say).
    /// </summary>
    public TokenDigest DigestNamedByFingerprint(string idPrefix, ReadOnlySpan<byte> token)
    {
        ArgumentNullException.ThrowIfNull(idPrefix);
        return Digest(null, idPrefix, token);
    }

    private TokenDigest Digest(string? id, string? idPrefix, ReadOnlySpan<byte> token)
    {
        var length = token.Length;
        if (length < WindowPlan.MinTokenLength || length > WindowPlan.MaxSupportedTokenLength)
        {
            throw new ArgumentException(
                $"Token '{id}' has {length} bytes; tokens are {WindowPlan.MinTokenLength} to {WindowPlan.MaxSupportedTokenLength} bytes.",
                nameof(token));
        }

        var width = WindowPlan.WindowWidth(length);
        var count = WindowPlan.DigestWindowCount(length);
        var spanStart = ChooseSpan(token, WindowPlan.SpanLength(length));

        var windows = new uint[count];
        for (var i = 0; i < count; i++)
        {
            var window = WindowHash.Read(token.Slice(spanStart + i, Math.Min(8, length - spanStart - i)), width);
            windows[i] = WindowHash.Hash(window, _key.WindowKey0, _key.WindowKey1);
        }

        var hmac = Hmac(token);
        id ??= idPrefix + TokenDigest.FormatFingerprint(System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(hmac));
        return new TokenDigest(id, length, spanStart, windows, hmac, TokenPreview.Of(token, spanStart));
    }

    /// <summary>Digests a token given as a string, encoded as UTF-8 (the bytes it travels as in HTTP).</summary>
    public TokenDigest Digest(string id, string token)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        return FromString(id, null, token);
    }

    /// <summary>Like <see cref="DigestNamedByFingerprint(string, ReadOnlySpan{byte})"/>, for a token given as a string.</summary>
    public TokenDigest DigestNamedByFingerprint(string idPrefix, string token)
    {
        ArgumentNullException.ThrowIfNull(idPrefix);
        return FromString(null, idPrefix, token);
    }

    private TokenDigest FromString(string? id, string? idPrefix, string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        var bytes = System.Buffers.ArrayPool<byte>.Shared.Rent(System.Text.Encoding.UTF8.GetMaxByteCount(token.Length));
        var length = System.Text.Encoding.UTF8.GetBytes(token, bytes);
        try
        {
            return Digest(id, idPrefix, bytes.AsSpan(0, length));
        }
        finally
        {
            // The plaintext does not outlive the digest in a buffer somebody else may rent next.
            CryptographicOperations.ZeroMemory(bytes.AsSpan(0, length));
            System.Buffers.ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    /// <summary>The truncated whole-token HMAC, as the matcher compares it.</summary>
    internal byte[] Hmac(ReadOnlySpan<byte> token)
    {
        var cached = t_hmac;
        if (cached is null || !ReferenceEquals(cached.Value.Key, _key))
        {
            cached?.Hmac.Dispose();
            cached = (_key, IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _key.HmacKey));
            t_hmac = cached;
        }
        Span<byte> full = stackalloc byte[32];
        cached.Value.Hmac.AppendData(token);
        cached.Value.Hmac.GetHashAndReset(full);
        return full[..TokenDigest.HmacLength].ToArray();
    }

    /// <summary>
    /// Picks where the anchor span sits: the last span whose count of distinct bytes is within an eighth of the
    /// best. Token formats put their fixed parts first (<c>sk_live_</c>, <c>ghp_</c>, <c>xoxb-</c>,
    /// <c>eyJhbGci</c>), and a span inside a fixed part would put many tokens of a set on the same windows; the
    /// random part usually ends the token, so the end wins unless it is clearly poorer (a fixed suffix such as
    /// <c>-prod-eu-west-1</c> or padding).
    /// </summary>
    internal static int ChooseSpan(ReadOnlySpan<byte> token, int spanLength)
    {
        var positions = token.Length - spanLength + 1;
        Span<int> distinctAt = positions <= 512 ? stackalloc int[positions] : new int[positions];
        Span<int> counts = stackalloc int[256];
        var distinct = 0;
        for (var i = 0; i < spanLength; i++)
        {
            if (counts[token[i]]++ == 0)
            {
                distinct++;
            }
        }
        distinctAt[0] = distinct;
        for (var start = 1; start < positions; start++)
        {
            if (--counts[token[start - 1]] == 0)
            {
                distinct--;
            }
            if (counts[token[start + spanLength - 1]]++ == 0)
            {
                distinct++;
            }
            distinctAt[start] = distinct;
        }

        var best = 0;
        foreach (var value in distinctAt)
        {
            best = Math.Max(best, value);
        }
        var good = best - Math.Max(1, spanLength / 8);
        for (var start = positions - 1; ; start--)
        {
            if (distinctAt[start] >= good)
            {
                return start;
            }
        }
    }
}
