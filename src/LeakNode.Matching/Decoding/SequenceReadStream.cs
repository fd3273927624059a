using System.Buffers;

namespace LeakNode.Matching.Decoding;

/// <summary>
/// A forward-only read stream over a <see cref="ReadOnlySequence{T}"/>, so that the runtime's decompressing streams
/// can read a body held in pooled segments without copying it into one array. The runtime has no public one.
/// </summary>
internal sealed class SequenceReadStream(ReadOnlySequence<byte> sequence) : ReadOnlyStream
{
    private ReadOnlySequence<byte> _remaining = sequence;

    public override int Read(Span<byte> buffer)
    {
        var take = (int)Math.Min(buffer.Length, _remaining.Length);
        if (take == 0)
        {
            return 0;
        }
        var slice = _remaining.Slice(0, take);
        slice.CopyTo(buffer);
        _remaining = _remaining.Slice(slice.End);
        return take;
    }
}
