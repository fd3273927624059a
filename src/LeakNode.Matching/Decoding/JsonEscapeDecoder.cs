using System.Diagnostics;
using System.Text;

namespace LeakNode.Matching.Decoding;

/// <summary>
/// Undoes JSON string escapes (RFC 8259 §7) over a whole JSON document given in chunks: <c>\"</c> <c>\\</c>
/// <c>\/</c> <c>\b</c> <c>\f</c> <c>\n</c> <c>\r</c> <c>\t</c>, and <c>\uXXXX</c> to UTF-8, a surrogate pair
/// (<c>\uD83D\uDE00</c>) to one 4-byte UTF-8 sequence. Every other byte is copied unchanged.
/// </summary>
/// <remarks>
/// <para>
/// Works on bytes, not on parsed JSON: outside strings, valid JSON has no backslash, so transforming the whole
/// document finds a token in every string value and key without a parser (and without failing on invalid JSON,
/// which an upstream may still accept in part).
/// </para>
/// <para>
/// A lone surrogate becomes U+FFFD (<c>EF BF BD</c>): UTF-8 cannot encode it, and lenient parsers that keep it (a
/// browser's <c>JSON.parse</c>) end up with U+FFFD once the string is encoded, as .NET's <c>UTF8Encoding</c> and the
/// WHATWG <c>TextEncoder</c> substitute it (System.Text.Json refuses such a document). An invalid escape
/// (<c>\x</c>, <c>\u12G4</c>, an escape cut by the end of the document) is copied literally. Both are reported as
/// <see cref="DecodeStatus.Malformed"/>. After a failed <c>\u</c> escape decoding resumes at the byte that broke it.
/// </para>
/// <para>
/// A mutable struct that carries escapes split across chunks (a <c>\</c>, a partial <c>\u00</c>, a high surrogate
/// waiting for its low half) into the next call: keep it in a field or a local, do not copy it in the middle of a
/// stream. Decoding never expands: six input bytes give at most three UTF-8 bytes, twelve give four.
/// </para>
/// </remarks>
public struct JsonEscapeDecoder
{
    /// <summary>
    /// The most input bytes a decoder holds between chunks: a high surrogate escape (6) and all but the last byte of
    /// the escape after it (5).
    /// </summary>
    public const int MaxPendingBytes = 11;

    private const int SurrogateEscapeLength = 6;

    // Bytes of the escape in progress: 0 none; 1 "\"; 2 "\u"; 3..5 "\u" and 1..3 hex digits.
    private int _escapeLength;
    // The hex digits seen so far, as they came (first digit in the low byte), to copy them back if the escape fails.
    private uint _escapeDigits;
    private int _escapeValue;
    // A high surrogate (D800..DBFF) decoded but not yet output, or 0.
    private int _highSurrogate;

    /// <summary>
    /// Input bytes consumed by earlier calls but not yet output (at most <see cref="MaxPendingBytes"/>). The next call
    /// may output up to this many bytes for them, so its destination must hold its source length plus this many bytes.
    /// </summary>
    public readonly int PendingBytes => _escapeLength + (_highSurrogate != 0 ? SurrogateEscapeLength : 0);

    /// <summary>
    /// Unescapes a whole document or value in one go: the input is the final block. The output may be the input span
    /// itself: decoding in place is safe, as the output never runs ahead of the input.
    /// </summary>
    /// <param name="input">JSON text (UTF-8).</param>
    /// <param name="output">At least <c>input.Length</c> bytes.</param>
    /// <param name="written">The number of bytes written.</param>
    /// <returns><see cref="DecodeStatus.Done"/>, or <see cref="DecodeStatus.Malformed"/> for an invalid escape or a lone surrogate.</returns>
    /// <exception cref="ArgumentException"><paramref name="output"/> is shorter than <paramref name="input"/>.</exception>
    public static DecodeStatus Decode(ReadOnlySpan<byte> input, Span<byte> output, out int written)
    {
        var decoder = default(JsonEscapeDecoder);
        return decoder.DecodeChunk(input, output, out written, isFinalBlock: true);
    }

    /// <summary>
    /// Unescapes the next chunk of a document. An escape cut by the end of <paramref name="source"/> is held and
    /// finished by the next call; with <paramref name="isFinalBlock"/> it is resolved instead (copied literally, or a
    /// waiting high surrogate replaced by U+FFFD), after which the decoder is ready for a new document.
    /// </summary>
    /// <param name="source">The next chunk; may be empty (to end a document with <paramref name="isFinalBlock"/>).</param>
    /// <param name="destination">At least <c>source.Length + </c><see cref="PendingBytes"/> bytes; <c>source.Length + </c><see cref="MaxPendingBytes"/> always suffices.</param>
    /// <param name="written">The number of bytes written to <paramref name="destination"/>.</param>
    /// <param name="isFinalBlock">Whether this is the last chunk of the document.</param>
    /// <returns><see cref="DecodeStatus.Done"/>, or <see cref="DecodeStatus.Malformed"/> if this call met an invalid escape or a lone surrogate.</returns>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too small.</exception>
    public DecodeStatus DecodeChunk(ReadOnlySpan<byte> source, Span<byte> destination, out int written, bool isFinalBlock)
    {
        var pending = PendingBytes;
        if (destination.Length < source.Length + pending)
        {
            ThrowHelper.DestinationTooSmall(nameof(destination), source.Length + pending);
        }

        var malformed = false;
        var w = 0;
        var i = 0;
        while (i < source.Length)
        {
            if (_escapeLength == 0)
            {
                // Copy the run of ordinary bytes up to the next backslash in one vectorised step.
                var rest = source[i..];
                var run = rest.IndexOf((byte)'\\');
                if (run != 0 && _highSurrogate != 0)
                {
                    // A high surrogate followed by anything but an escape is alone.
                    w += ReplaceHighSurrogate(destination[w..]);
                    malformed = true;
                }
                if (run < 0)
                {
                    rest.CopyTo(destination[w..]);
                    w += rest.Length;
                    break;
                }
                rest[..run].CopyTo(destination[w..]);
                w += run;
                i += run + 1;
                _escapeLength = 1;
                continue;
            }

            var b = source[i];
            if (_escapeLength == 1)
            {
                if (b == (byte)'u')
                {
                    _escapeLength = 2;
                    _escapeDigits = 0;
                    _escapeValue = 0;
                    i++;
                    continue;
                }

                var unescaped = SimpleEscape(b);
                if (_highSurrogate != 0)
                {
                    w += ReplaceHighSurrogate(destination[w..]);
                    malformed = true;
                }
                _escapeLength = 0;
                if (unescaped < 0)
                {
                    // Copy the backslash and decode b afresh; it is never a backslash (that is a valid escape).
                    destination[w++] = (byte)'\\';
                    malformed = true;
                    continue;
                }
                destination[w++] = (byte)unescaped;
                i++;
                continue;
            }

            var value = AsciiBytes.HexValue(b);
            if (value < 0)
            {
                // "\u" and fewer than four hex digits: copy them and decode b afresh (it may start the next escape).
                if (_highSurrogate != 0)
                {
                    w += ReplaceHighSurrogate(destination[w..]);
                }
                w += FlushEscapeLiterally(destination[w..]);
                malformed = true;
                continue;
            }
            i++;
            _escapeDigits |= (uint)b << (8 * (_escapeLength - 2));
            _escapeValue = (_escapeValue << 4) | value;
            if (++_escapeLength == SurrogateEscapeLength)
            {
                _escapeLength = 0;
                w += OnCodeUnit(_escapeValue, destination[w..], ref malformed);
            }
        }

        if (isFinalBlock)
        {
            if (_highSurrogate != 0)
            {
                w += ReplaceHighSurrogate(destination[w..]);
                malformed = true;
            }
            if (_escapeLength > 0)
            {
                w += FlushEscapeLiterally(destination[w..]);
                malformed = true;
            }
        }

        Debug.Assert(w <= source.Length + pending);
        written = w;
        return malformed ? DecodeStatus.Malformed : DecodeStatus.Done;
    }

    /// <summary>Abandons the current document: forgets a held escape or surrogate.</summary>
    public void Reset() => this = default;

    private static int SimpleEscape(byte b) => b switch
    {
        (byte)'"' or (byte)'\\' or (byte)'/' => b,
        (byte)'b' => '\b',
        (byte)'f' => '\f',
        (byte)'n' => '\n',
        (byte)'r' => '\r',
        (byte)'t' => '\t',
        _ => -1,
    };

    private int OnCodeUnit(int codeUnit, Span<byte> destination, ref bool malformed)
    {
        var w = 0;
        if (_highSurrogate != 0)
        {
            if (char.IsLowSurrogate((char)codeUnit))
            {
                var pair = new Rune((char)_highSurrogate, (char)codeUnit);
                _highSurrogate = 0;
                return pair.EncodeToUtf8(destination);
            }
            w += ReplaceHighSurrogate(destination);
            malformed = true;
        }

        if (char.IsHighSurrogate((char)codeUnit))
        {
            _highSurrogate = codeUnit;
            return w;
        }
        if (char.IsLowSurrogate((char)codeUnit))
        {
            malformed = true;
            return w + Rune.ReplacementChar.EncodeToUtf8(destination[w..]);
        }
        return w + new Rune(codeUnit).EncodeToUtf8(destination[w..]);
    }

    private int ReplaceHighSurrogate(Span<byte> destination)
    {
        _highSurrogate = 0;
        return Rune.ReplacementChar.EncodeToUtf8(destination);
    }

    private int FlushEscapeLiterally(Span<byte> destination)
    {
        var length = _escapeLength;
        destination[0] = (byte)'\\';
        if (length >= 2)
        {
            destination[1] = (byte)'u';
            for (var k = 2; k < length; k++)
            {
                destination[k] = (byte)(_escapeDigits >> (8 * (k - 2)));
            }
        }
        _escapeLength = 0;
        return length;
    }
}
