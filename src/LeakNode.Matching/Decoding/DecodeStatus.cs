namespace LeakNode.Matching.Decoding;

/// <summary>
/// How a decoder ended. Decoders never throw for bad data: they say so here, and the caller decides what to inspect.
/// </summary>
public enum DecodeStatus
{
    /// <summary>The input was well formed and all of it was decoded.</summary>
    Done,

    /// <summary>
    /// The input was not well formed (an invalid escape, a lone surrogate, a corrupt or truncated stream). The output
    /// is a best effort: what an upstream's lenient decoder would see, or the prefix decoded before the damage. The
    /// caller must also scan the raw bytes, since an upstream may decode them differently.
    /// </summary>
    Malformed,

    /// <summary>
    /// The output stopped at a cap (<see cref="InflateLimits"/>). What was output is a correct prefix of the decoded
    /// data; the rest was not decoded.
    /// </summary>
    LimitExceeded,
}
