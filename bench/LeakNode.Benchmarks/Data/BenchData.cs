using System.Text;
using LeakNode.Matching.Digests;
using LeakNode.Matching.Rules;
using LeakNode.Testing;

namespace LeakNode.Benchmarks.Data;

/// <summary>
/// The data every benchmark shares, generated from fixed seeds so that each run and each engine sees the same
/// bytes: token sets of N tokens of real formats, and an HTTP request corpus with some of them planted.
/// </summary>
internal static class BenchData
{
    /// <summary>The corpus size: 8 MiB, so a scan takes long enough to time and every engine reads the same bytes.</summary>
    public const int CorpusBytes = 8 << 20;

    /// <summary>Tokens a leak holds in the benchmark sets (real leaks hold one to a few dozen).</summary>
    public const int TokensPerLeak = 4;

    public static readonly DigestKey Key = DigestKey.FromBytes(Enumerable.Range(0, 32).Select(i => (byte)(i * 13 + 1)).ToArray());

    /// <summary>
    /// "long": formats of 30 bytes and more (GitHub, Stripe, Slack, AWS secret keys, Google, OpenAI, npm,
    /// SendGrid, JWTs) — the widest stride. "mixed": those plus GitLab tokens (26) and AWS key ids (20), one in
    /// ten, which add a second pass at stride 4.
    /// </summary>
    public static readonly string[] Mixes = ["long", "mixed"];

    private static readonly string[] LongFormats =
        ["github-classic", "github-fine-grained", "aws-secret", "slack-bot", "stripe-live", "google-api", "openai", "npm", "sendgrid", "jwt"];

    private static readonly string[] ShortFormats = ["gitlab", "aws-key-id"];

    public static List<byte[]> Tokens(int n, string mix)
    {
        var factory = new TokenFactory(n * 31 + mix.Length);
        var formats = factory.Formats.ToDictionary(f => f.Name, f => f.Make);
        var tokens = new List<byte[]>(n);
        for (var i = 0; i < n; i++)
        {
            var names = mix == "mixed" && i % 10 == 0 ? ShortFormats : LongFormats;
            tokens.Add(Encoding.ASCII.GetBytes(formats[names[factory.Random.Next(names.Length)]]()));
        }
        return tokens;
    }

    public static RuleSet RuleSet(IReadOnlyList<byte[]> tokens)
    {
        var digester = new TokenDigester(Key);
        var digests = new TokenDigest[tokens.Count];
        Parallel.For(0, tokens.Count, i => digests[i] = digester.Digest($"tok_{i:x8}", tokens[i]));
        var leaks = new List<LeakRule>((tokens.Count / TokensPerLeak) + 1);
        for (var i = 0; i < digests.Length; i += TokensPerLeak)
        {
            leaks.Add(new LeakRule($"leak_{i / TokensPerLeak:x8}", RuleAction.Block, digests[i..Math.Min(i + TokensPerLeak, digests.Length)]));
        }
        return new RuleSet(1, leaks);
    }

    /// <summary>The corpus with one leaked token planted about every 64 KiB (about 128 in all).</summary>
    public static HttpCorpus.Result Corpus(IReadOnlyList<byte[]> tokens)
    {
        var plantable = Enumerable.Range(0, 256).Select(i => tokens[(int)((long)i * tokens.Count / 256)]).ToList();
        return HttpCorpus.Generate(seed: 2026, CorpusBytes, plantable);
    }

    /// <summary>How many times the planted tokens occur in the corpus: what every engine must count.</summary>
    public static int Expected(HttpCorpus.Result corpus)
    {
        var count = 0;
        foreach (var token in corpus.Planted.Distinct(ByteArrayComparer.Instance))
        {
            var rest = corpus.Data.AsSpan();
            for (int at; (at = rest.IndexOf(token)) >= 0; rest = rest[(at + 1)..])
            {
                count++;
            }
        }
        return count;
    }

    private sealed class ByteArrayComparer : IEqualityComparer<byte[]>
    {
        public static readonly ByteArrayComparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj)
        {
            var hash = default(HashCode);
            hash.AddBytes(obj);
            return hash.ToHashCode();
        }
    }
}
