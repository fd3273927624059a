using System.Buffers;
using System.Buffers.Text;

namespace LeakNode.Matching.Decoding;

/// <summary>
/// Base64 decoding for HTTP Basic credentials and blobs: the standard (RFC 4648 §4) or the URL-safe (§5) alphabet,
/// chosen by the input (a <c>-</c> or <c>_</c> means URL-safe), with or without padding, ASCII whitespace (MIME line
/// breaks) ignored. Allocation-free.
/// </summary>
/// <remarks>
/// The runtime's vectorised decoders (<see cref="Base64"/>, <see cref="Base64Url"/>) do the work for well-formed
/// input. When they refuse it (missing padding in the standard alphabet, an invalid character) a scalar loop decodes
/// the longest valid prefix, including a final partial quantum, so the matcher still sees every byte it can.
/// </remarks>
public static class Base64Decoder
{
    /// <summary>
    /// An output length that always suffices for <paramref name="encodedLength"/> input bytes: three bytes per four
    /// characters, rounded down (an unpadded tail of two or three characters gives one or two bytes).
    /// </summary>
    public static int GetMaxDecodedLength(int encodedLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(encodedLength);
        return (int)((long)encodedLength * 3 / 4);
    }

    /// <summary>Decodes base64 in either alphabet.</summary>
    /// <param name="input">The encoded characters (ASCII).</param>
    /// <param name="output">At least <see cref="GetMaxDecodedLength"/> bytes.</param>
    /// <param name="written">The number of decoded bytes.</param>
    /// <returns>
    /// <see cref="DecodeStatus.Done"/>; or <see cref="DecodeStatus.Malformed"/> when a character is outside the
    /// alphabet, a quantum is left with one character, or something follows the padding: the output is then the
    /// decoding of the longest valid prefix.
    /// </returns>
    /// <exception cref="ArgumentException"><paramref name="output"/> is too small.</exception>
    public static DecodeStatus Decode(ReadOnlySpan<byte> input, Span<byte> output, out int written)
    {
        var needed = GetMaxDecodedLength(input.Length);
        if (output.Length < needed)
        {
            ThrowHelper.DestinationTooSmall(nameof(output), needed);
        }

        if (Base64.DecodeFromUtf8(input, output, out var consumed, out written) == OperationStatus.Done)
        {
            return DecodeStatus.Done;
        }

        var url = input.IndexOfAny((byte)'-', (byte)'_') >= 0;
        if (url && Base64Url.DecodeFromUtf8(input, output, out consumed, out written) == OperationStatus.Done)
        {
            return DecodeStatus.Done;
        }

        // The runtime stops at the start of the quantum it could not decode, but with whitespace in the input its
        // consumed count may run past it. Resume after its output only when the counts prove that consumed is a
        // quantum boundary with no whitespace before it; otherwise decode again from the start.
        if (written % 3 != 0 || consumed != written / 3 * 4)
        {
            consumed = 0;
            written = 0;
        }
        return DecodeScalar(input[consumed..], output, ref written, url);
    }

    /// <summary>
    /// Decodes the credentials of an HTTP <c>Authorization</c> value in the Basic scheme (RFC 7617): from
    /// <c>Basic dXNlcjpwYXNz</c>, the bytes <c>user:pass</c>. The matcher scans them whole, so a token is found whether
    /// it is the user id, the password, or spans the colon.
    /// </summary>
    /// <param name="authorization">The whole header value, scheme included (matched case-insensitively).</param>
    /// <param name="output">At least <see cref="GetMaxDecodedLength"/>(<c>authorization.Length</c>) bytes.</param>
    /// <param name="written">The number of decoded bytes.</param>
    /// <param name="status">How decoding the credentials ended (see <see cref="Decode"/>).</param>
    /// <returns>False if the value is not in the Basic scheme: nothing was decoded.</returns>
    /// <exception cref="ArgumentException"><paramref name="output"/> is too small.</exception>
    public static bool TryDecodeBasicCredentials(ReadOnlySpan<byte> authorization, Span<byte> output, out int written, out DecodeStatus status)
    {
        var value = TrimOws(authorization);
        var scheme = "Basic"u8;
        if (value.Length <= scheme.Length
            || !System.Text.Ascii.EqualsIgnoreCase(value[..scheme.Length], scheme)
            || !AsciiBytes.IsOws(value[scheme.Length]))
        {
            written = 0;
            status = DecodeStatus.Done;
            return false;
        }
        status = Decode(TrimOws(value[scheme.Length..]), output, out written);
        return true;
    }

    private static DecodeStatus DecodeScalar(ReadOnlySpan<byte> input, Span<byte> output, ref int written, bool url)
    {
        var w = written;
        var quantum = 0u;
        var count = 0;
        var i = 0;
        for (; i < input.Length; i++)
        {
            var b = input[i];
            if (AsciiBytes.IsBase64Whitespace(b))
            {
                continue;
            }
            var value = SextetValue(b, url);
            if (value < 0)
            {
                break;
            }
            quantum = (quantum << 6) | (uint)value;
            if (++count == 4)
            {
                output[w++] = (byte)(quantum >> 16);
                output[w++] = (byte)(quantum >> 8);
                output[w++] = (byte)quantum;
                quantum = 0;
                count = 0;
            }
        }

        // A partial quantum of two or three characters carries one or two whole bytes; one character carries none.
        var malformed = count == 1;
        if (count == 2)
        {
            output[w++] = (byte)(quantum >> 4);
        }
        else if (count == 3)
        {
            output[w++] = (byte)(quantum >> 10);
            output[w++] = (byte)(quantum >> 2);
        }

        if (i < input.Length)
        {
            malformed |= !IsValidPadding(input[i..], count);
        }
        written = w;
        return malformed ? DecodeStatus.Malformed : DecodeStatus.Done;
    }

    /// <summary>Whether <paramref name="rest"/> (starting at the first byte outside the alphabet) is padding that ends the input.</summary>
    private static bool IsValidPadding(ReadOnlySpan<byte> rest, int count)
    {
        if (count < 2)
        {
            return false;
        }
        var pads = 0;
        foreach (var b in rest)
        {
            if (b == (byte)'=')
            {
                pads++;
            }
            else if (!AsciiBytes.IsBase64Whitespace(b))
            {
                return false;
            }
        }
        return pads <= 4 - count;
    }

    private static int SextetValue(byte b, bool url)
    {
        if ((uint)(b - 'A') <= 'Z' - 'A')
        {
            return b - 'A';
        }
        if ((uint)(b - 'a') <= 'z' - 'a')
        {
            return b - 'a' + 26;
        }
        if ((uint)(b - '0') <= 9)
        {
            return b - '0' + 52;
        }
        if (b == (url ? (byte)'-' : (byte)'+'))
        {
            return 62;
        }
        return b == (url ? (byte)'_' : (byte)'/') ? 63 : -1;
    }

    private static ReadOnlySpan<byte> TrimOws(ReadOnlySpan<byte> value)
    {
        var start = 0;
        var end = value.Length;
        while (start < end && AsciiBytes.IsOws(value[start]))
        {
            start++;
        }
        while (end > start && AsciiBytes.IsOws(value[end - 1]))
        {
            end--;
        }
        return value[start..end];
    }
}
