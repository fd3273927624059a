namespace LeakNode.Matching.Decoding;

/// <summary>
/// Caps on what <see cref="Inflater"/> outputs for one body. Reaching either stops decoding with
/// <see cref="DecodeStatus.LimitExceeded"/> after the output within the cap has been delivered.
/// </summary>
public sealed record InflateLimits
{
    /// <summary>The defaults: 8 MiB of output, at most 100 times the compressed size.</summary>
    public static InflateLimits Default { get; } = new();

    /// <summary>
    /// Most decoded bytes per body. Default 8 MiB, the node's <c>Inspection:MaxDecodedBytes</c>. Applies to every
    /// layer of a stacked coding, not only the last: a bomb can hide in an inner layer whose output the outer one
    /// turns into little (a deflate stream of empty blocks).
    /// </summary>
    public long MaxOutputBytes
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            field = value;
        }
    } = 8L << 20;

    /// <summary>
    /// Most decoded bytes per compressed byte. Default 100: real request bodies (JSON, forms, text) compress 3–10
    /// times and very repetitive ones rarely beyond 50, while a bomb reaches 1000 (deflate's limit) or far more
    /// (Brotli). At 100 a legitimate body keeps its headroom, and a small malicious body buys at most 100 times its
    /// size in decoding work, well before the absolute cap.
    /// </summary>
    public int MaxRatio
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            field = value;
        }
    } = 100;

    /// <summary>The output cap for a body of <paramref name="compressedLength"/> bytes: the lower of the two limits.</summary>
    public long OutputCap(long compressedLength) =>
        compressedLength > MaxOutputBytes / MaxRatio ? MaxOutputBytes : compressedLength * MaxRatio;
}
