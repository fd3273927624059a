using System.IO.Hashing;
using System.Text;

namespace LeakNode.Scanner.Detection;

/// <summary>
/// Checksums that token formats carry, so that a random string of the right shape is not taken for a token.
/// </summary>
public static class TokenChecksums
{
    /// <summary>Base62 in the order GitHub's tokens use: digits, upper case, lower case.</summary>
    public const string Base62Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    private const int ChecksumLength = 6;

    /// <summary>
    /// True when a GitHub classic token (<c>ghp_</c>, <c>gho_</c>, <c>ghu_</c>, <c>ghs_</c>, <c>ghr_</c>) or an npm
    /// token (<c>npm_</c>) carries a valid checksum: its last six characters are the CRC-32 (IEEE, as zlib computes it)
    /// of the 30 random characters between the prefix and the checksum, written in base62 and left-padded with '0'.
    /// </summary>
    /// <remarks>
    /// The format is GitHub's own ("Behind GitHub's new authentication token formats", 2021), applied by npm to its
    /// tokens in the same year; open scanners (Samsung CredSweeper's <c>ValueGitHubCheck</c>) check it the same way:
    /// <c>crc32(token[4:-6]) == base62_decode(token[-6:])</c>.
    /// </remarks>
    public static bool IsValidGitHubStyle(ReadOnlySpan<char> token)
    {
        // prefix (4) + random (30) + checksum (6)
        if (token.Length != 40 || token[3] != '_')
        {
            return false;
        }
        var random = token[4..^ChecksumLength];
        Span<byte> bytes = stackalloc byte[random.Length];
        if (Encoding.ASCII.GetBytes(random, bytes) != random.Length)
        {
            return false;
        }
        return Base62Crc32(bytes).AsSpan().SequenceEqual(token[^ChecksumLength..]);
    }

    /// <summary>The six-character base62 CRC-32 GitHub appends to a token's random part.</summary>
    public static string Base62Crc32(ReadOnlySpan<byte> randomPart)
    {
        var crc = Crc32.HashToUInt32(randomPart);
        Span<char> digits = stackalloc char[ChecksumLength];
        digits.Fill('0');
        for (var i = ChecksumLength - 1; i >= 0 && crc > 0; i--)
        {
            digits[i] = Base62Alphabet[(int)(crc % 62)];
            crc /= 62;
        }
        return new string(digits);
    }
}
