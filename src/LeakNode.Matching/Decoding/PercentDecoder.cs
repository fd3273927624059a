using System.Diagnostics;

namespace LeakNode.Matching.Decoding;

/// <summary>
/// Percent-decoding (RFC 3986 §2.1) of bytes given in chunks: <c>%XX</c> (hex digits of either case) becomes the
/// byte XX, and with <c>plusAsSpace</c> (<c>application/x-www-form-urlencoded</c> bodies, query values) <c>+</c>
/// becomes a space. Decoded bytes are raw bytes, not necessarily UTF-8, and are kept as they are.
/// </summary>
/// <remarks>
/// <para>
/// An invalid escape (<c>%zz</c>, a lone <c>%</c>, <c>%4</c> at the end) is copied literally, as ASP.NET Core's
/// and browsers' (WHATWG) URL decoders do, so the output is what the upstream sees; the call then reports
/// <see cref="DecodeStatus.Malformed"/>. After a failed escape decoding resumes at the byte that broke it, so
/// <c>%%41</c> decodes to <c>%A</c>.
/// </para>
/// <para>
/// A mutable struct that carries a <c>%</c> or <c>%4</c> split at a chunk end into the next call: keep it in a field or
/// a local and do not copy it in the middle of a stream. <c>default</c> is a decoder without <c>plusAsSpace</c>.
/// Decoding never expands: the whole output is never longer than the whole input.
/// </para>
/// </remarks>
public struct PercentDecoder
{
    /// <summary>The most input bytes a decoder holds between chunks: a <c>%</c> and one hex digit.</summary>
    public const int MaxPendingBytes = 2;

    private readonly bool _plusAsSpace;

    // 0: no escape in progress; 1: '%' seen; 2: '%' and one hex digit (_pendingDigit) seen.
    private int _pendingLength;
    private byte _pendingDigit;

    /// <summary>Creates a decoder for one stream.</summary>
    /// <param name="plusAsSpace">Decode <c>+</c> as a space (form bodies and query values); otherwise <c>+</c> is kept.</param>
    public PercentDecoder(bool plusAsSpace) => _plusAsSpace = plusAsSpace;

    /// <summary>Whether this decoder turns <c>+</c> into a space.</summary>
    public readonly bool PlusAsSpace => _plusAsSpace;

    /// <summary>
    /// Input bytes consumed by earlier calls but not yet output (at most <see cref="MaxPendingBytes"/>). The next call
    /// may output them, so its destination must hold its source length plus this many bytes.
    /// </summary>
    public readonly int PendingBytes => _pendingLength;

    /// <summary>
    /// Decodes percent-encoded bytes in one go (a header value, a query string): the whole input is the final block.
    /// The output may be the input span itself: decoding in place is safe, as the output never runs ahead of the input.
    /// </summary>
    /// <param name="input">The encoded bytes.</param>
    /// <param name="output">At least <c>input.Length</c> bytes.</param>
    /// <param name="written">The number of decoded bytes.</param>
    /// <param name="plusAsSpace">Decode <c>+</c> as a space.</param>
    /// <returns><see cref="DecodeStatus.Done"/>, or <see cref="DecodeStatus.Malformed"/> if an escape was invalid.</returns>
    /// <exception cref="ArgumentException"><paramref name="output"/> is shorter than <paramref name="input"/>.</exception>
    public static DecodeStatus Decode(ReadOnlySpan<byte> input, Span<byte> output, out int written, bool plusAsSpace = false)
    {
        var decoder = new PercentDecoder(plusAsSpace);
        return decoder.DecodeChunk(input, output, out written, isFinalBlock: true);
    }

    /// <summary>
    /// Decodes the next chunk of a stream. An escape cut by the end of <paramref name="source"/> is held and finished by
    /// the next call; with <paramref name="isFinalBlock"/> it is output literally instead (and reported malformed),
    /// after which the decoder is ready for a new stream.
    /// </summary>
    /// <param name="source">The next chunk; may be empty (to end a stream with <paramref name="isFinalBlock"/>).</param>
    /// <param name="destination">At least <c>source.Length + </c><see cref="PendingBytes"/> bytes; <c>source.Length + </c><see cref="MaxPendingBytes"/> always suffices.</param>
    /// <param name="written">The number of decoded bytes written to <paramref name="destination"/>.</param>
    /// <param name="isFinalBlock">Whether this is the last chunk of the stream.</param>
    /// <returns><see cref="DecodeStatus.Done"/>, or <see cref="DecodeStatus.Malformed"/> if this call met an invalid escape.</returns>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too small.</exception>
    public DecodeStatus DecodeChunk(ReadOnlySpan<byte> source, Span<byte> destination, out int written, bool isFinalBlock)
    {
        if (destination.Length < source.Length + _pendingLength)
        {
            ThrowHelper.DestinationTooSmall(nameof(destination), source.Length + _pendingLength);
        }

        var malformed = false;
        var w = 0;
        var i = 0;
        while (i < source.Length)
        {
            if (_pendingLength == 0)
            {
                // Copy the run of ordinary bytes up to the next '%' (or '+') in one vectorised step.
                var rest = source[i..];
                var run = _plusAsSpace ? rest.IndexOfAny((byte)'%', (byte)'+') : rest.IndexOf((byte)'%');
                if (run < 0)
                {
                    rest.CopyTo(destination[w..]);
                    w += rest.Length;
                    break;
                }
                rest[..run].CopyTo(destination[w..]);
                w += run;
                i += run + 1;
                if (rest[run] == (byte)'+')
                {
                    destination[w++] = (byte)' ';
                }
                else
                {
                    _pendingLength = 1;
                }
                continue;
            }

            var b = source[i];
            var value = AsciiBytes.HexValue(b);
            if (value < 0)
            {
                // Not an escape after all: output what was held and decode b afresh (it may start the next escape).
                w += FlushLiterally(destination[w..]);
                malformed = true;
                continue;
            }
            i++;
            if (_pendingLength == 1)
            {
                _pendingDigit = b;
                _pendingLength = 2;
            }
            else
            {
                destination[w++] = (byte)((AsciiBytes.HexValue(_pendingDigit) << 4) | value);
                _pendingLength = 0;
            }
        }

        if (isFinalBlock && _pendingLength > 0)
        {
            w += FlushLiterally(destination[w..]);
            malformed = true;
        }

        Debug.Assert(w <= destination.Length);
        written = w;
        return malformed ? DecodeStatus.Malformed : DecodeStatus.Done;
    }

    /// <summary>Abandons the current stream: forgets a held escape.</summary>
    public void Reset()
    {
        _pendingLength = 0;
        _pendingDigit = 0;
    }

    private int FlushLiterally(Span<byte> destination)
    {
        var length = _pendingLength;
        destination[0] = (byte)'%';
        if (length == 2)
        {
            // The digit is copied as it came (case kept): the upstream sees these bytes undecoded.
            destination[1] = _pendingDigit;
        }
        _pendingLength = 0;
        return length;
    }
}
