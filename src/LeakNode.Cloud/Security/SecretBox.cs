using System.Security.Cryptography;
using System.Text;

namespace LeakNode.Cloud.Security;

/// <summary>
/// Seals secrets at rest with AES-256-GCM under the master key. A sealed value is base64 of
/// <c>version(1) ‖ nonce(12) ‖ ciphertext ‖ tag(16)</c>; the caller's context (a token's id, say) is bound in as
/// associated data, so a sealed value copied onto another row does not open there.
/// </summary>
internal sealed class SecretBox : IDisposable
{
    private const byte Version = 1;
    private const int NonceSize = 12;
    private const int TagSize = 16;

    // The key, not an AesGcm: an AesGcm instance must not be used by two threads at once (OpenSSL fails the
    // second call), and requests seal tokens concurrently. A context per call costs about a microsecond.
    private readonly byte[] _key;

    public SecretBox(ReadOnlySpan<byte> masterKey)
    {
        if (masterKey.Length != MasterKey.Size)
        {
            throw new ArgumentException($"The master key is {MasterKey.Size} bytes; this one has {masterKey.Length}.", nameof(masterKey));
        }
        _key = masterKey.ToArray();
    }

    /// <summary>Seals <paramref name="plaintext"/>, bound to <paramref name="context"/>. A random nonce per value: 2^32 values under one key stay far from GCM's collision bound.</summary>
    public string Seal(ReadOnlySpan<byte> plaintext, string context)
    {
        var output = new byte[1 + NonceSize + plaintext.Length + TagSize];
        output[0] = Version;
        var nonce = output.AsSpan(1, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, plaintext, output.AsSpan(1 + NonceSize, plaintext.Length), output.AsSpan(1 + NonceSize + plaintext.Length), Encoding.UTF8.GetBytes(context));
        return Convert.ToBase64String(output);
    }

    /// <summary>Seals a string as UTF-8, wiping the intermediate bytes.</summary>
    public string Seal(string plaintext, string context)
    {
        var bytes = Encoding.UTF8.GetBytes(plaintext);
        try
        {
            return Seal(bytes, context);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary>Opens a sealed value.</summary>
    /// <exception cref="CryptographicException">The value was sealed under another key or context, or was altered.</exception>
    public byte[] Open(string sealedValue, string context)
    {
        byte[] input;
        try
        {
            input = Convert.FromBase64String(sealedValue);
        }
        catch (FormatException error)
        {
            throw new CryptographicException("The sealed value is not base64.", error);
        }
        if (input.Length < 1 + NonceSize + TagSize || input[0] != Version)
        {
            throw new CryptographicException("The sealed value has an unknown format.");
        }
        var length = input.Length - 1 - NonceSize - TagSize;
        var plaintext = new byte[length];
        using var aes = new AesGcm(_key, TagSize);
        aes.Decrypt(input.AsSpan(1, NonceSize), input.AsSpan(1 + NonceSize, length), input.AsSpan(1 + NonceSize + length), plaintext, Encoding.UTF8.GetBytes(context));
        return plaintext;
    }

    public void Dispose() => CryptographicOperations.ZeroMemory(_key);
}
