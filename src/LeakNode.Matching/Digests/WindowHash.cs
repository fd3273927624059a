using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace LeakNode.Matching.Digests;

/// <summary>
/// The keyed 32-bit hash of one window (4 to 8 consecutive bytes) of a token. The node computes it for the
/// windows of the traffic it inspects; the cloud computes it for the windows of a token's anchor span.
/// </summary>
/// <remarks>
/// The NH hash of UMAC (RFC 4418): the two 32-bit halves of the window, each added to a key word, multiplied
/// into 64 bits; the high half of the product is the hash. NH is almost-universal (collision probability about
/// 2^-32 for unknown keys), it is one 64-bit multiply in scalar code, and it is four at once with one
/// <c>vpmuludq</c> on AVX2, which has no 64×64-bit multiply: that is why it was chosen over a 64-bit
/// multiply-fold. It is not a cryptographic hash and need not be: what it reveals is bounded by the span it
/// covers (docs/DESIGN.md, "Security model").
/// </remarks>
internal static class WindowHash
{
    /// <summary>Hashes a window read as a little-endian integer whose bytes past the window's width are zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Hash(ulong window, uint key0, uint key1)
    {
        ulong product = (ulong)((uint)window + key0) * ((uint)(window >> 32) + key1);
        return (uint)(product >> 32) ^ (uint)product;
    }

    /// <summary>The mask that keeps the low <paramref name="width"/> bytes of a 64-bit window read.</summary>
    public static ulong Mask(int width) => width == 8 ? ulong.MaxValue : (1UL << (8 * width)) - 1;

    /// <summary>Reads <paramref name="width"/> bytes as a little-endian integer, zero-extended. Slow path; the scanner reads 8 and masks.</summary>
    public static ulong Read(ReadOnlySpan<byte> bytes, int width)
    {
        if (bytes.Length >= 8)
        {
            return BinaryPrimitives.ReadUInt64LittleEndian(bytes) & Mask(width);
        }

        ulong value = 0;
        for (var i = width - 1; i >= 0; i--)
        {
            value = (value << 8) | bytes[i];
        }
        return value;
    }
}
