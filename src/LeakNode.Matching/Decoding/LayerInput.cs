using System.Diagnostics;

namespace LeakNode.Matching.Decoding;

/// <summary>
/// The bytes one decoding layer reads: the compressed body, or the output of the layer below. Counts them, caps them,
/// keeps the last four (a gzip trailer ends with the output length), and notes whether the decoder asked for more
/// after the end, which is how a truncated deflate stream shows (see <see cref="Inflater"/>).
/// </summary>
internal sealed class LayerInput(Stream source, long limit) : ReadOnlyStream
{
    private readonly Stream _source = source;
    private readonly long _limit = limit;
    private long _count;
    private bool _ended;
    // Bytes read ahead by Peek, returned by the next reads.
    private int _peekedCount;
    private int _peekedOffset;
    private ushort _peeked;

    /// <summary>Bytes delivered to the decoder so far.</summary>
    public long Count => _count;

    /// <summary>The last four bytes delivered, little-endian (the last byte is the most significant).</summary>
    public uint LastFour { get; private set; }

    /// <summary>The decoder asked for more bytes after the source had ended.</summary>
    public bool ReadPastEnd { get; private set; }

    /// <summary>The source had more bytes than the limit allows; the decoder was told the input ended at the limit.</summary>
    public bool LimitHit { get; private set; }

    /// <summary>Reads up to two bytes ahead, without delivering them. Only before the first read.</summary>
    public ReadOnlySpan<byte> PeekTwo(Span<byte> destination)
    {
        Debug.Assert(_count == 0 && _peekedCount == 0 && destination.Length >= 2);
        while (_peekedCount < 2)
        {
            var n = _source.Read(destination.Slice(_peekedCount, 2 - _peekedCount));
            if (n == 0)
            {
                break;
            }
            _peekedCount += n;
        }
        _peeked = (ushort)(destination[0] | (destination[1] << 8));
        return destination[.._peekedCount];
    }

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty || _ended)
        {
            return 0;
        }

        var allowed = _limit - _count;
        var n = 0;
        while (_peekedCount > 0 && n < buffer.Length)
        {
            buffer[n++] = (byte)(_peeked >> (8 * _peekedOffset++));
            _peekedCount--;
        }

        if (n > allowed)
        {
            LimitHit = true;
            _ended = true;
            n = (int)allowed;
        }
        else if (n < buffer.Length)
        {
            // Ask for one byte more than the limit allows: receiving it proves the source is longer than the limit.
            var remaining = allowed - n;
            var room = remaining < buffer.Length - n ? (int)remaining + 1 : buffer.Length - n;
            var got = _source.Read(buffer.Slice(n, room));
            if (got == 0 && n == 0)
            {
                ReadPastEnd = true;
                return 0;
            }
            if (got > remaining)
            {
                LimitHit = true;
                _ended = true;
                got = (int)remaining;
            }
            n += got;
        }

        _count += n;
        foreach (var b in buffer[Math.Max(0, n - 4)..n])
        {
            LastFour = (LastFour >> 8) | ((uint)b << 24);
        }
        return n;
    }
}
