namespace LeakNode.Matching.Decoding;

/// <summary>Reads a <c>Content-Encoding</c> header value into the codings to undo, in the order to undo them.</summary>
public static class ContentEncodingHeader
{
    /// <summary>
    /// The most codings a body may stack. Real clients send one; each layer costs the node a decompressor's state
    /// (tens of KiB for zlib, up to the 16 MiB window for Brotli), so a long list is refused rather than decoded.
    /// </summary>
    public const int MaxCodings = 4;

    /// <summary>
    /// Parses a <c>Content-Encoding</c> value such as <c>gzip, br</c>. Codings are listed in the order they were
    /// applied, so they are returned reversed: <c>gzip, br</c> gives <see cref="ContentCoding.Brotli"/> then
    /// <see cref="ContentCoding.Gzip"/>. Names match case-insensitively, <c>x-gzip</c> is <c>gzip</c>, and
    /// <c>identity</c> and empty list elements are skipped. For a header sent on several lines, pass the lines joined
    /// with commas (what <c>StringValues.ToString()</c> gives).
    /// </summary>
    /// <param name="value">The header value.</param>
    /// <param name="decodeOrder">Receives the codings to undo, first to undo first; <see cref="MaxCodings"/> entries suffice.</param>
    /// <param name="count">The number of codings written to <paramref name="decodeOrder"/>.</param>
    /// <returns>
    /// False if a coding is not one the node can undo (<c>zstd</c>, <c>compress</c>, an unknown or malformed name) or
    /// the list is longer than <paramref name="decodeOrder"/> or <see cref="MaxCodings"/>: the body cannot be decoded,
    /// and only its raw bytes can be inspected. <paramref name="count"/> is then 0.
    /// </returns>
    public static bool TryParse(ReadOnlySpan<char> value, Span<ContentCoding> decodeOrder, out int count)
    {
        var capacity = Math.Min(decodeOrder.Length, MaxCodings);
        count = 0;
        foreach (var range in value.Split(','))
        {
            var name = value[range].Trim(" \t");
            if (name.IsEmpty || name.Equals("identity", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            if (count == capacity || !TryGetCoding(name, out var coding))
            {
                count = 0;
                return false;
            }
            decodeOrder[count++] = coding;
        }
        decodeOrder[..count].Reverse();
        return true;
    }

    private static bool TryGetCoding(ReadOnlySpan<char> name, out ContentCoding coding)
    {
        if (name.Equals("gzip", StringComparison.OrdinalIgnoreCase) || name.Equals("x-gzip", StringComparison.OrdinalIgnoreCase))
        {
            coding = ContentCoding.Gzip;
            return true;
        }
        if (name.Equals("deflate", StringComparison.OrdinalIgnoreCase))
        {
            coding = ContentCoding.Deflate;
            return true;
        }
        if (name.Equals("br", StringComparison.OrdinalIgnoreCase))
        {
            coding = ContentCoding.Brotli;
            return true;
        }
        coding = default;
        return false;
    }
}
