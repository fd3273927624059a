using System.Buffers;
using System.Text;
using LeakNode.Matching;

namespace LeakNode.Node.Inspection;

/// <summary>
/// Short request parts (target pieces, header values, cookies) laid end to end in one buffer and scanned in one
/// pass, each remembered as a segment with its location, so that a match's offset names where it was found.
/// One scan of a few hundred bytes costs far less than a scan per header.
/// </summary>
/// <remarks>
/// Segments are separated by <c>\r\n</c>, as header lines are on the wire: no token found in an HTTP header can
/// contain those bytes, and a token that spans two segments would have to.
/// </remarks>
internal sealed class ScanBlock
{
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(4096);
    private readonly List<Segment> _segments = [];
    private int _length;

    public int Length => _length;

    public void Clear()
    {
        _length = 0;
        _segments.Clear();
    }

    /// <summary>Adds a part. Its location is <paramref name="kind"/>, or <c>kind:name</c> when a name is given.</summary>
    public void Add(ReadOnlySpan<byte> bytes, string kind, string? name = null, bool generic = false)
    {
        var start = Reserve(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(start));
        _segments.Add(new Segment(start, bytes.Length, kind, name, -1, 0, generic));
    }

    public void Add(string text, string kind, string? name = null, bool generic = false)
    {
        var start = Reserve(Encoding.UTF8.GetMaxByteCount(text.Length));
        var written = Encoding.UTF8.GetBytes(text, _buffer.AsSpan(start));
        _length = start + written + 2;
        _buffer[start + written] = (byte)'\r';
        _buffer[start + written + 1] = (byte)'\n';
        _segments.Add(new Segment(start, written, kind, name, -1, 0, generic));
    }

    /// <summary>Adds a part named by bytes of an earlier part (a query parameter's name), decoded only if a match needs it.</summary>
    public void AddNamedBy(ReadOnlySpan<byte> bytes, string kind, int nameStart, int nameLength)
    {
        var start = Reserve(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(start));
        _segments.Add(new Segment(start, bytes.Length, kind, null, nameStart, nameLength, false));
    }

    /// <summary>Room for <paramref name="count"/> bytes at the end; returns where they go. Call <see cref="Commit"/> with what was written.</summary>
    public Span<byte> Open(int count, out int start)
    {
        start = Reserve(count);
        return _buffer.AsSpan(start, count);
    }

    public void Commit(int start, int written, string kind, string? name = null, bool generic = false)
    {
        _length = start + written + 2;
        _buffer[start + written] = (byte)'\r';
        _buffer[start + written + 1] = (byte)'\n';
        _segments.Add(new Segment(start, written, kind, name, -1, 0, generic));
    }

    /// <summary>Like <see cref="Commit"/>, for a part named by bytes of an earlier part.</summary>
    public void CommitNamedBy(int start, int written, string kind, int nameStart, int nameLength)
    {
        _length = start + written + 2;
        _buffer[start + written] = (byte)'\r';
        _buffer[start + written + 1] = (byte)'\n';
        _segments.Add(new Segment(start, written, kind, null, nameStart, nameLength, false));
    }

    /// <summary>Bytes of a part already added (to name a later part by).</summary>
    public ReadOnlySpan<byte> Bytes(int start, int length) => _buffer.AsSpan(start, length);

    /// <summary>Scans every part and records each match under its part's location.</summary>
    public void Scan(MatchScanner scanner, Detections detections)
    {
        if (_length == 0)
        {
            return;
        }
        var sink = new Sink(this, detections);
        scanner.Reset();
        scanner.Write(_buffer.AsSpan(0, _length), ref sink);
    }

    public void Return()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }

    private int Reserve(int count)
    {
        var start = _length;
        var needed = start + count + 2;
        if (needed > _buffer.Length)
        {
            var grown = ArrayPool<byte>.Shared.Rent(Math.Max(needed, _buffer.Length * 2));
            _buffer.AsSpan(0, _length).CopyTo(grown);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = grown;
        }
        _length = start + count + 2;
        _buffer[start + count] = (byte)'\r';
        _buffer[start + count + 1] = (byte)'\n';
        return start;
    }

    private string LocationOf(long offset, out bool generic)
    {
        // Segments are in offset order: the last one that starts at or before the match holds its first byte.
        var low = 0;
        var high = _segments.Count - 1;
        while (low < high)
        {
            var mid = (low + high + 1) / 2;
            if (_segments[mid].Start <= offset)
            {
                low = mid;
            }
            else
            {
                high = mid - 1;
            }
        }
        var segment = _segments[low];
        generic = segment.Generic;
        var name = segment.Name ?? (segment.NameLength > 0 ? Encoding.UTF8.GetString(_buffer, segment.NameStart, segment.NameLength) : null);
        return name is null ? segment.Kind : $"{segment.Kind}:{name}";
    }

    private readonly record struct Segment(int Start, int Length, string Kind, string? Name, int NameStart, int NameLength, bool Generic);

    private readonly struct Sink(ScanBlock block, Detections detections) : IMatchSink
    {
        public void OnMatch(in TokenMatch match)
        {
            var location = block.LocationOf(match.Offset, out var generic);
            detections.Add(match, location, generic);
        }
    }
}
