using System.Security.Cryptography;
using System.Text;
using LeakNode.Matching.Digests;
using LeakNode.Matching.Tests.Support;
using LeakNode.Testing;

namespace LeakNode.Matching.Tests.Digests;

/// <summary>The security model: what a digest discloses is at most half of its token.</summary>
public sealed class TokenDigesterTests
{
    public static TheoryData<int> Lengths => new(Enumerable.Range(WindowPlan.MinTokenLength, 300).Append(1024).Append(4096));

    [Theory]
    [MemberData(nameof(Lengths))]
    public void SpanLength_EveryLength_AtMostHalfTheToken(int length)
    {
        var span = WindowPlan.SpanLength(length);

        Assert.True(span <= length / 2, $"length {length}: span {span}");
        Assert.True(WindowPlan.DigestWindowCount(length) >= WindowPlan.Stride(length), "a digest carries at least one window per stride position");
        Assert.True(span <= WindowPlan.MaxDigestWindows + 7);
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Digest_EveryLength_WindowsAreHashesOfTheSpanOnly(int length)
    {
        var factory = new TokenFactory(length);
        var token = factory.Bytes(length, length);

        var digest = TestRules.Digester.Digest("t", token);

        Assert.Null(digest.Validate());
        Assert.Equal(length, digest.Length);
        // Changing any byte outside the span leaves every window hash unchanged: they depend on the span alone…
        var outside = Enumerable.Range(0, length).First(i => i < digest.SpanStart || i >= digest.SpanStart + WindowPlan.SpanLength(length));
        var changed = (byte[])token.Clone();
        changed[outside] ^= 0xFF;
        var other = TestRules.Digester.Digest("t", changed);
        Assert.Equal(digest.Windows, other.Windows);
        // …while the HMAC covers the whole token.
        Assert.NotEqual(digest.Hmac, other.Hmac);
    }

    [Fact]
    public void Digest_Hmac_IsTruncatedHmacSha256UnderDerivedKey()
    {
        var token = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"u8.ToArray();
        var master = Enumerable.Range(1, 32).Select(i => (byte)(i * 7)).ToArray();
        var subkey = HKDF.Expand(HashAlgorithmName.SHA256, master, 32, "leaknode/v1/token-hmac"u8.ToArray());

        var digest = TestRules.Digester.Digest("t", token);

        Assert.Equal(HMACSHA256.HashData(subkey, token)[..TokenDigest.HmacLength], digest.Hmac);
    }

    [Fact]
    public void Digest_SerialisedForm_HoldsNoEightByteRunOfTheToken()
    {
        var factory = new TokenFactory(99);
        for (var i = 0; i < 200; i++)
        {
            var token = factory.RealWorld();
            var digest = TestRules.Digester.Digest("id", token);
            var serialised = new List<byte>();
            serialised.AddRange(BitConverter.GetBytes(digest.Length));
            serialised.AddRange(BitConverter.GetBytes(digest.SpanStart));
            foreach (var window in digest.Windows)
            {
                serialised.AddRange(BitConverter.GetBytes(window));
            }
            serialised.AddRange(digest.Hmac);
            var bytes = serialised.ToArray();

            for (var at = 0; at + 8 <= token.Length; at++)
            {
                Assert.True(bytes.AsSpan().IndexOf(token.AsSpan(at, 8)) < 0, $"token bytes at {at} appear in the digest");
            }
        }
    }

    [Fact]
    public void Digest_DifferentKeys_ShareNothing()
    {
        var other = new TokenDigester(DigestKey.FromBytes(new byte[32]));
        var token = "sk_live_4eC39HqLyjWDarjtT1zdp7dc1234567890"u8.ToArray();

        var a = TestRules.Digester.Digest("t", token);
        var b = other.Digest("t", token);

        Assert.NotEqual(a.Hmac, b.Hmac);
        Assert.Empty(a.Windows.Intersect(b.Windows));
    }

    [Theory]
    [InlineData("sk_live_51HqLyjWDarjtT1zdp7dcAbCdEfGh", "sk_live_")]
    [InlineData("ghp_0123456789abcdefghijABCDEFGHIJ012345", "ghp_")]
    [InlineData("xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "xoxb-")]
    public void ChooseSpan_FormatPrefix_SpanAvoidsIt(string token, string prefix)
    {
        var bytes = Encoding.ASCII.GetBytes(token);

        var start = TokenDigester.ChooseSpan(bytes, WindowPlan.SpanLength(bytes.Length));

        Assert.True(start >= prefix.Length, $"span starts at {start}, inside '{prefix}'");
    }

    [Theory]
    [InlineData("ghp_0123456789abcdefghijABCDEFGHIJ019f3a", "ghp_…9f3a")]
    [InlineData("sk_live_51HqLyjWDarjtT1zdp7dcAbCdEfGh", "sk_live_…EfGh")]
    [InlineData("AKIAIOSFODNN7EXAMPLE", "AKIA…MPLE")]
    [InlineData("Zx9Qw2Er7Ty5Ui3Op1As4Df6Gh8Jk0Lz", "…Lz")]
    public void Preview_SpanAtEnd_ShowsPublicPrefixAndLastFour(string token, string expected)
    {
        var digest = TestRules.Digester.Digest("t", token);

        Assert.Equal(token.Length, digest.SpanStart + WindowPlan.SpanLength(token.Length));
        Assert.Equal(expected.Replace("…Lz", "…" + token[^4..], StringComparison.Ordinal), digest.Preview);
    }

    [Fact]
    public void Preview_SpanNotAtEnd_ShowsNoSuffix()
    {
        // A poor tail (one repeated byte) moves the span away from the end: the last four characters would then
        // disclose bytes outside it, so the preview leaves them out.
        var token = "Zx9Qw2Er7Ty5Ui3Op1As4Df6Gh8Jk0Lz" + new string('=', 20);

        var digest = TestRules.Digester.Digest("t", token);

        Assert.True(digest.SpanStart + WindowPlan.SpanLength(token.Length) < token.Length);
        Assert.Equal("…", digest.Preview);
    }

    [Fact]
    public void Fingerprint_IsFirstEightHmacBytesInHex_AndTheMatcherReportsItAndThePreview()
    {
        var rules = new TestRules();
        var token = "npm_abcdefghijklmnopqrstuvwxyz0123456789"u8.ToArray();
        var rule = rules.Put("leak", Rules.RuleAction.Block, token);
        var digest = rule.Tokens[0];
        var matcher = rules.Build();

        var match = Assert.Single(matcher.FindAll(token));

        Assert.Equal(Convert.ToHexStringLower(digest.Hmac.AsSpan(0, 8)), digest.Fingerprint);
        Assert.Equal(digest.Fingerprint, matcher.GetTokenFingerprint(match.Token));
        Assert.Equal("npm_…6789", matcher.GetTokenPreview(match.Token));
        Assert.Equal(digest.Preview, matcher.Compact().GetTokenPreview(0));
    }

    [Fact]
    public void DigestKey_WrongSize_Refused()
    {
        var error = Assert.Throws<ArgumentException>(() => DigestKey.FromBytes(new byte[16]));

        Assert.Contains("exactly 32 bytes; this one has 16", error.Message, StringComparison.Ordinal);
    }
}
