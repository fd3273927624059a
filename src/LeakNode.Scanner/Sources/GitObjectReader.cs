using System.Buffers.Text;
using System.Diagnostics;

namespace LeakNode.Scanner.Sources;

/// <summary>
/// Reads the output of <c>git cat-file --batch</c>: for each requested object a header
/// (<c>&lt;id&gt; &lt;type&gt; &lt;size&gt;\n</c>, or <c>&lt;id&gt; missing\n</c>), its bytes, and a newline.
/// Synchronous, through one 64 KiB buffer: it runs on a thread of its own, and one read call then serves many small
/// blobs (reading the header a byte at a time, as a plain stream would, cost more than the blob).
/// </summary>
internal sealed class GitObjectReader(Stream output)
{
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    /// <summary>The next object's size, or -1 when git answered that it is missing (or not of a type it can print).</summary>
    public long ReadHeader()
    {
        var line = ReadLine();
        // The size is the last field; "missing" and "ambiguous" answers have two fields, the second not a number.
        var space = line.LastIndexOf((byte)' ');
        if (space < 0 || !Utf8Parser.TryParse(line[(space + 1)..], out long size, out var consumed) || consumed != line.Length - space - 1)
        {
            return -1;
        }
        return size;
    }

    /// <summary>Reads the object's <paramref name="size"/> bytes and the newline after them.</summary>
    public byte[] ReadContent(long size)
    {
        Debug.Assert(size <= Array.MaxLength, "the caller checks the size against its limit first");
        var content = GC.AllocateUninitializedArray<byte>((int)size);
        var filled = 0;
        var buffered = Math.Min(_end - _start, content.Length);
        _buffer.AsSpan(_start, buffered).CopyTo(content);
        _start += buffered;
        filled += buffered;
        while (filled < content.Length)
        {
            // Large remainders go straight into the blob's array, past our buffer.
            var read = output.Read(content, filled, content.Length - filled);
            if (read == 0)
            {
                throw Truncated();
            }
            filled += read;
        }
        Skip(1);
        return content;
    }

    /// <summary>Reads past <paramref name="count"/> bytes (a blob over the size limit, and its newline).</summary>
    public void Skip(long count)
    {
        while (count > 0)
        {
            if (_start == _end && Fill() == 0)
            {
                throw Truncated();
            }
            var step = (int)Math.Min(count, _end - _start);
            _start += step;
            count -= step;
        }
    }

    private ReadOnlySpan<byte> ReadLine()
    {
        var searched = 0;
        while (true)
        {
            var newline = _buffer.AsSpan(_start + searched, _end - _start - searched).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                var line = _buffer.AsSpan(_start, searched + newline);
                _start += searched + newline + 1;
                return line;
            }
            searched = _end - _start;
            if (_start > 0)
            {
                // Move the partial line to the front so the buffer can take the rest.
                _buffer.AsSpan(_start, searched).CopyTo(_buffer);
                _end = searched;
                _start = 0;
            }
            if (_end == _buffer.Length)
            {
                throw new ScanException("git cat-file printed a header line longer than " + _buffer.Length + " bytes");
            }
            if (Fill() == 0)
            {
                throw Truncated();
            }
        }
    }

    private int Fill()
    {
        if (_start == _end)
        {
            _start = _end = 0;
        }
        var read = output.Read(_buffer, _end, _buffer.Length - _end);
        _end += read;
        return read;
    }

    private static ScanException Truncated() => new("git cat-file ended before the object was read whole");
}
