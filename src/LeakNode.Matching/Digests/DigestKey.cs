using System.Buffers.Binary;
using System.Security.Cryptography;

namespace LeakNode.Matching.Digests;

/// <summary>
/// The deployment key: 32 secret bytes shared by the cloud and its nodes, from which every keyed digest
/// of a token is derived. Two subkeys are expanded with HKDF-SHA256 so that the whole-token HMAC and the
/// window hashes never share a key (domain separation): a window hash can never be replayed as an HMAC.
/// </summary>
public sealed class DigestKey
{
    /// <summary>The key size: 32 bytes, the HMAC-SHA256 block-size-safe choice and the width of SHA-256.</summary>
    public const int Size = 32;

    private static readonly byte[] HmacInfo = "leaknode/v1/token-hmac"u8.ToArray();
    private static readonly byte[] WindowInfo = "leaknode/v1/window-hash"u8.ToArray();

    private readonly byte[] _hmacKey;

    private DigestKey(ReadOnlySpan<byte> key)
    {
        if (key.Length != Size)
        {
            throw new ArgumentException($"A deployment key is exactly {Size} bytes; this one has {key.Length}.", nameof(key));
        }

        _hmacKey = new byte[Size];
        HKDF.Expand(HashAlgorithmName.SHA256, key, _hmacKey, HmacInfo);

        Span<byte> window = stackalloc byte[8];
        HKDF.Expand(HashAlgorithmName.SHA256, key, window, WindowInfo);
        WindowKey0 = BinaryPrimitives.ReadUInt32LittleEndian(window);
        WindowKey1 = BinaryPrimitives.ReadUInt32LittleEndian(window[4..]);
    }

    /// <summary>The NH key word added to the low half of every window.</summary>
    internal uint WindowKey0 { get; }

    /// <summary>The NH key word added to the high half of every window.</summary>
    internal uint WindowKey1 { get; }

    /// <summary>The subkey of the whole-token HMAC.</summary>
    internal ReadOnlySpan<byte> HmacKey => _hmacKey;

    /// <summary>Uses the given 32 bytes as the deployment key.</summary>
    public static DigestKey FromBytes(ReadOnlySpan<byte> key) => new(key);

    /// <summary>Generates a new random deployment key and returns its bytes, for the caller to store.</summary>
    public static byte[] GenerateBytes() => RandomNumberGenerator.GetBytes(Size);
}
