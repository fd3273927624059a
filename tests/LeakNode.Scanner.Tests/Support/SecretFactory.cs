using System.Text;
using LeakNode.Scanner.Detection;

namespace LeakNode.Scanner.Tests.Support;

/// <summary>
/// Makes tokens of every built-in format at run time, from a seeded random source, with valid checksums where the
/// format has one. No token is ever written into the repository: prefixes are public, the rest is random here.
/// </summary>
public sealed class SecretFactory(int seed)
{
    private const string Upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    private const string Lower = "abcdefghijklmnopqrstuvwxyz";
    private const string Digits = "0123456789";
    private const string Alnum = Upper + Lower + Digits;
    private const string Base64Url = Alnum + "-_";
    private const string Hex = "0123456789abcdef";

    public Random Random { get; } = new(seed);

    /// <summary>For every built-in detector id: a token generator, and the text that puts it in a file.</summary>
    public IReadOnlyDictionary<string, Func<string>> Tokens => new Dictionary<string, Func<string>>
    {
        ["github-pat"] = () => GitHubStyle("gh" + "p_"),
        ["github-oauth"] = () => GitHubStyle("gh" + "o_"),
        ["github-app-token"] = () => GitHubStyle(Random.Next(2) == 0 ? "gh" + "u_" : "gh" + "s_"),
        ["github-refresh-token"] = () => GitHubStyle("gh" + "r_"),
        ["github-fine-grained-pat"] = () => "github" + "_pat_" + Chars(Alnum, 22) + "_" + Chars(Alnum, 59),
        ["gitlab-pat"] = () => "gl" + "pat-" + Chars(Alnum, 20),
        ["aws-access-token"] = () => "AK" + "IA" + Chars(Upper + "234567", 16),
        ["aws-secret-access-key"] = () => Chars(Alnum + "+/", 40),
        ["slack-bot-token"] = () => "xo" + "xb-" + Chars(Digits, 12) + "-" + Chars(Digits, 13) + "-" + Chars(Alnum, 24),
        ["slack-user-token"] = () => "xo" + "xp-" + Chars(Digits, 12) + "-" + Chars(Digits, 12) + "-" + Chars(Digits, 13) + "-" + Chars(Alnum, 32),
        ["slack-app-token"] = () => "xa" + "pp-1-A" + Chars(Upper + Digits, 10) + "-" + Chars(Digits, 13) + "-" + Chars(Lower + Digits, 64),
        ["slack-webhook-url"] = () => "https://hooks.slack.com/services/T" + Chars(Upper + Digits, 8) + "/B" + Chars(Upper + Digits, 10) + "/" + Chars(Alnum, 24),
        ["stripe-live-secret-key"] = () => "sk" + "_live_" + Chars(Alnum, Random.Next(24, 100)),
        ["stripe-test-secret-key"] = () => "sk" + "_test_" + Chars(Alnum, Random.Next(24, 100)),
        ["stripe-restricted-key"] = () => "rk" + "_live_" + Chars(Alnum, Random.Next(24, 100)),
        ["gcp-api-key"] = () => "AI" + "za" + Chars(Alnum, 1) + Chars(Base64Url, 33) + Chars(Alnum, 1),
        ["openai-api-key"] = () => "sk-" + "proj-" + Chars(Alnum, 1) + Chars(Base64Url, 38) + Chars(Alnum, 1) + "T3Blbk" + "FJ" + Chars(Alnum, 40),
        ["anthropic-api-key"] = () => "sk-" + "ant-api03-" + Chars(Alnum, 1) + Chars(Base64Url, 92) + "AA",
        ["npm-access-token"] = () => GitHubStyle("np" + "m_"),
        ["pypi-upload-token"] = () => "pypi-" + "AgEIcHlwaS5vcmc" + Chars(Alnum, 70),
        ["sendgrid-api-token"] = () => "S" + "G." + Chars(Alnum, 22) + "." + Chars(Alnum, 43),
        ["twilio-api-key"] = () => "S" + "K" + Chars(Hex, 32),
        ["shopify-access-token"] = () => "shp" + "at_" + Chars(Hex, 32),
        ["digitalocean-token"] = () => "do" + "p_v1_" + Chars(Hex, 64),
        ["huggingface-access-token"] = () => "h" + "f_" + Chars(Upper + Lower, 34),
        ["databricks-api-token"] = () => "da" + "pi" + Chars(Hex, 32),
        ["postman-api-token"] = () => "PM" + "AK-" + Chars(Hex, 24) + "-" + Chars(Hex, 34),
        ["azure-ad-client-secret"] = () => Chars(Alnum, 3) + Chars(Digits, 1) + "Q" + "~" + Chars(Alnum, 34),
        ["square-access-token"] = () => "sq0" + "atp-" + Chars(Alnum, 22),
        ["atlassian-api-token"] = () => "ATA" + "TT3" + Chars(Alnum, 186),
        ["new-relic-user-api-key"] = () => "NR" + "AK-" + Chars(Upper + Digits, 27),
        ["linear-api-key"] = () => "lin" + "_api_" + Chars(Alnum, 40),
        ["doppler-api-token"] = () => "dp" + ".pt." + Chars(Alnum, 43),
        ["jwt"] = Jwt,
        ["private-key"] = PrivateKey,
        [BuiltInDetectors.GenericId] = Generic,
    };

    /// <summary>
    /// A generic secret: letters and digits, random, and high-entropy as the generic detector defines it (above its
    /// 3.5 bits a character); a random draw that happens to repeat itself below that is drawn again.
    /// </summary>
    public string Generic()
    {
        while (true)
        {
            var token = Chars(Upper, 2) + Chars(Digits, 2) + Chars(Alnum, 14);
            if (ShannonEntropy.Of(token) >= 3.6)
            {
                return token;
            }
        }
    }

    /// <summary>A token with GitHub's CRC-32 checksum: prefix, 30 random base62 characters, 6 checksum characters.</summary>
    public string GitHubStyle(string prefix)
    {
        var random = Chars(Alnum, 30);
        return prefix + random + TokenChecksums.Base62Crc32(Encoding.ASCII.GetBytes(random));
    }

    /// <summary>The same shape with a wrong checksum: what a look-alike (a test fixture, a typo) looks like.</summary>
    public string GitHubStyleBadChecksum(string prefix)
    {
        var token = GitHubStyle(prefix);
        var last = token[^1] == 'A' ? 'B' : 'A';
        return token[..^1] + last;
    }

    public string Jwt()
    {
        static string Encode(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var header = Encode("{\"alg\":\"HS256\",\"typ\":\"JWT\"}");
        var payload = Encode($"{{\"sub\":\"{Chars(Alnum, 12)}\",\"iat\":{Random.Next(1_500_000_000, 1_900_000_000)}}}");
        return header + "." + payload + "." + Chars(Alnum, 43);
    }

    public string PrivateKey()
    {
        var body = new StringBuilder();
        for (var i = 0; i < 12; i++)
        {
            body.Append(Chars(Alnum + "+/", 64)).Append('\n');
        }
        var label = "RSA PRIV" + "ATE KEY";
        return $"-----BEGIN {label}-----\n{body}-----END {label}-----";
    }

    public string Chars(string alphabet, int count)
    {
        var chars = new char[count];
        for (var i = 0; i < count; i++)
        {
            chars[i] = alphabet[Random.Next(alphabet.Length)];
        }
        return new string(chars);
    }

    public string HexString(int count) => Chars(Hex, count);

    /// <summary>The line that holds a token of <paramref name="kind"/> in a file, as people write it.</summary>
    public string Line(string kind, string token, int style)
    {
        var name = kind switch
        {
            "aws-secret-access-key" => "aws_secret_access_key",
            BuiltInDetectors.GenericId => Random.Next(3) switch
            {
                0 => "db_password",
                1 => "client_secret",
                _ => "apiKey",
            },
            _ => "value_" + Random.Next(100),
        };
        return (style % 5) switch
        {
            0 => $"{name.ToUpperInvariant()}={token}",
            1 => $"{name} = \"{token}\"",
            2 => $"  {name}: '{token}'",
            3 => $"    \"{name}\": \"{token}\",",
            _ => $"const {name} = `{token}`;",
        };
    }
}
