using System.Text;

namespace LeakNode.Matching.Tests.Decoding;

/// <summary>
/// Test cases write bytes as strings, one char per byte (Latin-1): readable for ASCII, and <c>"\u00FF"</c> is the byte
/// FF. Strings keep the cases serializable, so each one is its own test.
/// </summary>
public static class ByteStrings
{
    public static byte[] ToBytes(string latin1) => Encoding.Latin1.GetBytes(latin1);

    public static string FromBytes(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);

    /// <summary>The UTF-8 encoding of <paramref name="text"/>, as a byte string.</summary>
    public static string Utf8(string text) => FromBytes(Encoding.UTF8.GetBytes(text));
}
