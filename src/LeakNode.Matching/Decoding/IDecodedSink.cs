namespace LeakNode.Matching.Decoding;

/// <summary>
/// Receives decoded output chunk by chunk, in order. Implement it on a struct (or a ref struct holding a
/// <see cref="MatchScanner"/>) to keep the call direct.
/// </summary>
public interface IDecodedSink
{
    /// <summary>
    /// The next decoded bytes. The span is only valid during the call: its buffer is reused for the next chunk.
    /// </summary>
    void OnDecoded(ReadOnlySpan<byte> chunk);
}
