using System.Text;

namespace LeakNode.Testing;

/// <summary>Random inspected data: HTTP-ish text, base64 blobs, binary noise, with tokens planted where asked.</summary>
public static class Haystacks
{
    private static readonly string[] Words =
    [
        "GET /api/v1/orders?limit=50 HTTP/1.1\r\n", "Host: api.example.com\r\n", "Authorization: Bearer ",
        "Content-Type: application/json\r\n", "{\"name\":\"", "\",\"token\":\"", "\"}", "sk_live_", "ghp_", "xoxb-",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.", "AKIA", "&api_key=", "\r\n\r\n", " ", "=", ":", "\"",
    ];

    /// <summary>Noise of about <paramref name="length"/> bytes in which format prefixes recur often.</summary>
    public static byte[] Noise(Random random, int length)
    {
        var output = new List<byte>(length + 64);
        var factory = new TokenFactory(random.Next());
        while (output.Count < length)
        {
            switch (random.Next(6))
            {
                case 0:
                    output.AddRange(Encoding.ASCII.GetBytes(Words[random.Next(Words.Length)]));
                    break;
                case 1:
                    output.AddRange(Encoding.ASCII.GetBytes(Convert.ToBase64String(factory.Bytes(3, 60))));
                    break;
                case 2:
                    output.AddRange(factory.Bytes(1, 24));
                    break;
                case 3:
                    output.AddRange(factory.RealWorld());
                    break;
                default:
                    output.AddRange(Encoding.ASCII.GetBytes(factory.Chars("abcdefghijklmnopqrstuvwxyz0123456789_-", random.Next(1, 30))));
                    break;
            }
        }
        return [.. output.Take(length)];
    }

    /// <summary>Plants copies of tokens (whole, and sometimes a prefix or with one byte changed) at random offsets.</summary>
    public static byte[] Plant(Random random, byte[] noise, IReadOnlyList<byte[]> tokens, int copies)
    {
        var data = (byte[])noise.Clone();
        if (tokens.Count == 0)
        {
            return data;
        }
        for (var c = 0; c < copies; c++)
        {
            var token = tokens[random.Next(tokens.Count)];
            if (token.Length > data.Length)
            {
                continue;
            }
            var at = random.Next(data.Length - token.Length + 1);
            token.CopyTo(data, at);
            switch (random.Next(8))
            {
                case 0:
                    // A near miss: the same token with one byte changed must not match (unless it also occurs elsewhere).
                    data[at + random.Next(token.Length)] ^= (byte)(1 + random.Next(255));
                    break;
                case 1:
                    // A truncated copy: the last byte is cut.
                    data[at + token.Length - 1] ^= 0x5A;
                    break;
            }
        }
        return data;
    }
}
