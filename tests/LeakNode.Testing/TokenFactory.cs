using System.Text;

namespace LeakNode.Testing;

/// <summary>
/// Generates tokens shaped like the real formats a node will see (fixed prefixes, alphabets and lengths), and
/// arbitrary byte strings, from a seeded random source so that every failure reproduces.
/// </summary>
public sealed class TokenFactory(int seed)
{
    private const string Base62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    private const string Base64Url = Base62 + "-_";
    private const string Base64 = Base62 + "+/";
    private const string UpperDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    private const string Hex = "0123456789abcdef";

    public Random Random { get; } = new(seed);

    /// <summary>The formats, each a generator. Lengths span 8 to about 200, across all three stride groups.</summary>
    public IReadOnlyList<(string Name, Func<string> Make)> Formats =>
    [
        ("github-classic", () => "ghp_" + Chars(Base62, 36)),
        ("github-fine-grained", () => "github_pat_" + Chars(Base62, 22) + "_" + Chars(Base62, 59)),
        ("gitlab", () => "glpat-" + Chars(Base64Url, 20)),
        ("aws-key-id", () => "AKIA" + Chars(UpperDigits, 16)),
        ("aws-secret", () => Chars(Base64, 40)),
        ("slack-bot", () => $"xoxb-{Digits(12)}-{Digits(13)}-{Chars(Base62, 24)}"),
        ("stripe-live", () => "sk_live_" + Chars(Base62, Random.Next(24, 100))),
        ("google-api", () => "AIza" + Chars(Base64Url, 35)),
        ("openai", () => "sk-proj-" + Chars(Base64Url, 48)),
        ("npm", () => "npm_" + Chars(Base62, 36)),
        ("sendgrid", () => "SG." + Chars(Base64Url, 22) + "." + Chars(Base64Url, 43)),
        ("jwt", () => "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + Chars(Base64Url, Random.Next(40, 120)) + "." + Chars(Base64Url, 43)),
        ("hex-short", () => Chars(Hex, Random.Next(8, 18))),
        ("short-password", () => Chars(Base62, Random.Next(8, 30))),
    ];

    /// <summary>A token of a random format, as UTF-8 bytes.</summary>
    public byte[] RealWorld()
    {
        var format = Formats[Random.Next(Formats.Count)];
        return Encoding.UTF8.GetBytes(format.Make());
    }

    /// <summary>Arbitrary bytes (any value, not only text) of a random length in [min, max].</summary>
    public byte[] Bytes(int min, int max)
    {
        var bytes = new byte[Random.Next(min, max + 1)];
        Random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>A mix: mostly real-world formats, some arbitrary bytes of length 8 to 200.</summary>
    public byte[] Mixed() => Random.Next(4) == 0 ? Bytes(8, 200) : RealWorld();

    public string Chars(string alphabet, int count)
    {
        var chars = new char[count];
        for (var i = 0; i < count; i++)
        {
            chars[i] = alphabet[Random.Next(alphabet.Length)];
        }
        return new string(chars);
    }

    private string Digits(int count) => Chars("0123456789", count);
}
