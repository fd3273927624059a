namespace LeakNode.Matching.Decoding;

/// <summary>A content coding (RFC 9110 §8.4.1) that <see cref="Inflater"/> can undo.</summary>
public enum ContentCoding
{
    /// <summary><c>identity</c>: no transformation; the bytes pass through.</summary>
    Identity,

    /// <summary><c>gzip</c> (and its alias <c>x-gzip</c>): RFC 1952.</summary>
    Gzip,

    /// <summary>
    /// <c>deflate</c>: by RFC 9110 the zlib format (RFC 1950), but some clients send a raw deflate stream (RFC 1951);
    /// both are accepted, told apart by the zlib header.
    /// </summary>
    Deflate,

    /// <summary><c>br</c>: Brotli, RFC 7932.</summary>
    Brotli,
}
