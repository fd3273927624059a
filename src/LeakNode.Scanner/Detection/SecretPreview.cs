using System.Security.Cryptography;
using System.Text;

namespace LeakNode.Scanner.Detection;

/// <summary>Masked previews and fingerprints: the only forms in which a finding's secret leaves the scanner by default.</summary>
public static class SecretPreview
{
    /// <summary>The characters shown from the secret's end, as <see cref="Matching.Digests.TokenPreview"/> does.</summary>
    public const int SuffixLength = 4;

    /// <summary>Secrets shorter than this show no suffix: four characters of a ten-character password are too many.</summary>
    public const int MinLengthForSuffix = 16;

    /// <summary>
    /// The masked preview: the format's public prefix, an ellipsis and the last four characters; for a PEM block,
    /// its BEGIN line (which says what kind of key it is and nothing of the key).
    /// </summary>
    public static string Of(string secret, string? publicPrefix)
    {
        ArgumentNullException.ThrowIfNull(secret);
        if (secret.StartsWith("-----BEGIN", StringComparison.Ordinal))
        {
            var end = secret.IndexOfAny(['\r', '\n']);
            return (end < 0 ? secret : secret[..end]) + "…";
        }
        var prefix = publicPrefix is not null && secret.StartsWith(publicPrefix, StringComparison.Ordinal) && secret.Length > publicPrefix.Length * 2
            ? publicPrefix
            : "";
        return secret.Length >= MinLengthForSuffix ? prefix + "…" + secret[^SuffixLength..] : prefix + "…";
    }

    /// <summary>
    /// The finding's fingerprint: 32 hex digits of SHA-256 over the rule id, the path and the SHA-256 of the secret.
    /// The same secret at the same place under the same rule always has the same fingerprint; the secret cannot be
    /// read back from it.
    /// </summary>
    public static string Fingerprint(string ruleId, string path, string secret)
    {
        var secretHash = SHA256.HashData(Encoding.UTF8.GetBytes(secret));
        var input = Encoding.UTF8.GetBytes($"leaknode-finding/v1\n{ruleId}\n{path}\n{Convert.ToHexStringLower(secretHash)}");
        return Convert.ToHexStringLower(SHA256.HashData(input))[..32];
    }
}
