using System.Buffers;

namespace LeakNode.Matching.Decoding;

/// <summary>
/// A forward-only read stream over a <see cref="ReadOnlySequence{T}"/>, so that the runtime's decompressing streams
/// can read a body held in pooled segments without copying it into one array. The runtime has no public one.
/// </summary>
internal sealed class SequenceReadStream(ReadOnlySequence<byte> sequence) : Stream
{
    private ReadOnlySequence<byte> _remaining = sequence;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

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

    public override int Read(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        return Read(buffer.AsSpan(offset, count));
    }

    public override int ReadByte()
    {
        Span<byte> one = stackalloc byte[1];
        return Read(one) == 1 ? one[0] : -1;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
