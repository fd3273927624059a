using System.Buffers;

namespace LeakNode.Node.Inspection;

/// <summary>
/// A request body held while it is inspected: a chain of 16 KiB blocks from the array pool (not one growing
/// array, not a <see cref="MemoryStream"/>, never a file), readable as a <see cref="ReadOnlySequence{T}"/> and,
/// once inspected, as the stream the upstream receives. Disposing returns the blocks.
/// </summary>
internal sealed class BodyBuffer : IDisposable
{
    private const int BlockSize = 16 * 1024;

    private readonly List<byte[]> _blocks = [];
    private long _length;

    public long Length => _length;

    public void Append(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            var offset = (int)(_length % BlockSize);
            if (offset == 0 && _length / BlockSize == _blocks.Count)
            {
                _blocks.Add(ArrayPool<byte>.Shared.Rent(BlockSize));
            }
            var block = _blocks[^1];
            var take = Math.Min(bytes.Length, BlockSize - offset);
            bytes[..take].CopyTo(block.AsSpan(offset));
            _length += take;
            bytes = bytes[take..];
        }
    }

    /// <summary>The held bytes from <paramref name="start"/> to the end of the block they are in, at most <paramref name="count"/>.</summary>
    public ReadOnlySpan<byte> Contiguous(long start, long count)
    {
        var offset = (int)(start % BlockSize);
        var length = (int)Math.Min(Math.Min(count, BlockSize - offset), _length - start);
        return _blocks[(int)(start / BlockSize)].AsSpan(offset, length);
    }

    /// <summary>The bytes held, as one sequence over the blocks (no copy).</summary>
    public ReadOnlySequence<byte> AsSequence()
    {
        if (_length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }
        Segment? first = null;
        Segment? last = null;
        long running = 0;
        for (var i = 0; i < _blocks.Count; i++)
        {
            var count = (int)Math.Min(BlockSize, _length - running);
            var segment = new Segment(_blocks[i].AsMemory(0, count), running);
            if (last is null)
            {
                first = segment;
            }
            else
            {
                last.Next = segment;
            }
            last = segment;
            running += count;
        }
        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    public void Dispose()
    {
        foreach (var block in _blocks)
        {
            ArrayPool<byte>.Shared.Return(block);
        }
        _blocks.Clear();
        _length = 0;
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public new Segment? Next
        {
            get => (Segment?)base.Next;
            set => base.Next = value;
        }
    }
}

/// <summary>
/// What the upstream reads as the request body after inspection: the held bytes, then (for
/// <c>BodyTooLarge: prefix</c>) the rest of the client's body as it arrives. The same bytes the client sent.
/// </summary>
internal sealed class InspectedBodyStream(ReadOnlySequence<byte> held, Stream? rest) : Stream
{
    private ReadOnlySequence<byte> _held = held;

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
        if (!_held.IsEmpty)
        {
            return Take(buffer);
        }
        return rest?.Read(buffer) ?? 0;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (!_held.IsEmpty)
        {
            return ValueTask.FromResult(Take(buffer.Span));
        }
        return rest?.ReadAsync(buffer, cancellationToken) ?? ValueTask.FromResult(0);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private int Take(Span<byte> buffer)
    {
        var take = (int)Math.Min(buffer.Length, _held.Length);
        var slice = _held.Slice(0, take);
        slice.CopyTo(buffer);
        _held = _held.Slice(slice.End);
        return take;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
