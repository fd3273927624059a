using System.Buffers.Binary;
using System.Runtime.InteropServices;
using LeakNode.Matching.Digests;

namespace LeakNode.Cloud.Rules;

/// <summary>How a token digest is kept in portable text columns: windows as base64 of little-endian uint32s, the HMAC as base64.</summary>
internal static class DigestColumns
{
    public static string Windows(uint[] windows)
    {
        var bytes = new byte[windows.Length * 4];
        for (var i = 0; i < windows.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(i * 4), windows[i]);
        }
        return Convert.ToBase64String(bytes);
    }

    public static uint[] Windows(string text)
    {
        var bytes = Convert.FromBase64String(text);
        var windows = MemoryMarshal.Cast<byte, uint>(bytes).ToArray();
        if (!BitConverter.IsLittleEndian)
        {
            BinaryPrimitives.ReverseEndianness(windows, windows);
        }
        return windows;
    }

    /// <summary>A digest back from its row.</summary>
    public static TokenDigest Digest(string id, long length, long spanStart, string windows, string hmac, string? preview) =>
        new(id, (int)length, (int)spanStart, Windows(windows), Convert.FromBase64String(hmac), preview);
}
