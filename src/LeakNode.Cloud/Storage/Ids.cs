using System.Security.Cryptography;

namespace LeakNode.Cloud.Storage;

/// <summary>Ids and secrets the cloud makes, and the clock format it stores.</summary>
internal static class Ids
{
    /// <summary>
    /// A new id: a prefix that says what it names (<c>lk_</c> leak, <c>tk_</c> token, …) and a version-7 GUID, whose
    /// time-ordered bits keep index inserts at the end of the b-tree and break ties in "newest first" order.
    /// </summary>
    public static string New(string prefix) => prefix + Guid.CreateVersion7().ToString("N");

    /// <summary>A high-entropy secret (256 bits) with a prefix that makes a leaked one easy to recognise.</summary>
    public static string NewSecret(string prefix) => prefix + Base64Url(RandomNumberGenerator.GetBytes(32));

    /// <summary>SHA-256 of a secret, hex: enough for a 256-bit random secret, which no dictionary can guess.</summary>
    public static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret)));

    /// <summary>Compares two hashes in time that does not depend on where they differ.</summary>
    public static bool HashEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(System.Text.Encoding.ASCII.GetBytes(a), System.Text.Encoding.ASCII.GetBytes(b));

    public static string Base64Url(ReadOnlySpan<byte> bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The bytes of a base64url string (padding optional).</summary>
    /// <exception cref="FormatException">It is not base64url.</exception>
    public static byte[] FromBase64Url(string text)
    {
        var padded = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(padded + new string('=', (4 - padded.Length % 4) % 4));
    }

    public static long Now(TimeProvider clock) => clock.GetUtcNow().ToUnixTimeMilliseconds();

    public static DateTimeOffset Time(long unixMilliseconds) => DateTimeOffset.FromUnixTimeMilliseconds(unixMilliseconds);
}
