using System.Runtime.CompilerServices;

namespace LeakNode.Matching.Decoding;

/// <summary>Byte-level character tests shared by the decoders (no culture, no UTF-16 round trip).</summary>
internal static class AsciiBytes
{
    /// <summary>The value of a hexadecimal digit of either case, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int HexValue(byte b)
    {
        var digit = (uint)(b - '0');
        if (digit <= 9)
        {
            return (int)digit;
        }
        // Setting bit 5 maps 'A'..'F' onto 'a'..'f' and leaves no other byte in that range.
        var letter = (uint)((b | 0x20) - 'a');
        return letter <= 5 ? (int)letter + 10 : -1;
    }

    /// <summary>The whitespace base64 decoders skip: the same four bytes as <see cref="System.Buffers.Text.Base64"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsBase64Whitespace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n';

    /// <summary>Optional whitespace in HTTP field values (RFC 9110 §5.6.3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsOws(int c) => c is ' ' or '\t';
}
