using System.Text;
using LeakNode.Matching.Rules;
using LeakNode.Matching.Tests.Support;
using LeakNode.Testing;

namespace LeakNode.Matching.Tests;

/// <summary>
/// The matcher against the naive oracle: random token sets of real formats and arbitrary bytes, random
/// haystacks with planted copies and near misses, every chunking. Any difference is a bug: a missing match is a
/// false negative, an extra one a false positive.
/// </summary>
public sealed class TokenMatcherDifferentialTests
{
    public static TheoryData<int> Seeds => new(Enumerable.Range(1, 24));

    [Theory]
    [MemberData(nameof(Seeds))]
    public void FindAll_RandomSetsAndHaystacks_EqualsOracle(int seed)
    {
        var random = new Random(seed);
        var factory = new TokenFactory(seed);
        var rules = new TestRules();
        var tokenCount = random.Next(1, 200);
        var leakIndex = 0;
        var planted = new List<byte[]>();
        for (var made = 0; made < tokenCount; leakIndex++)
        {
            var size = Math.Min(tokenCount - made, random.Next(1, 6));
            var tokens = Enumerable.Range(0, size).Select(_ => factory.Mixed()).ToArray();
            rules.Put($"leak-{leakIndex}", random.Next(2) == 0 ? RuleAction.Block : RuleAction.Monitor, tokens);
            planted.AddRange(tokens);
            made += size;
        }

        var matcher = rules.Build();
        var noise = Haystacks.Noise(random, random.Next(1, 20_000));
        var data = Haystacks.Plant(random, noise, planted, random.Next(0, 60));
        var expected = Oracle.Find(data, rules.Tokens);

        Assert.Equal(expected, Scan.Found(matcher, data, Scan.Whole()));
        Assert.Equal(expected, Scan.Found(matcher, data, Scan.RandomSizes(random, 64)));
        Assert.Equal(expected, Scan.Found(matcher, data, Scan.RandomSizes(random, 4096)));
        Assert.Equal(expected, Scan.Found(matcher, data, Scan.Fixed(random.Next(1, 17))));
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void FindAll_OneByteChunks_EqualsOracle(int seed)
    {
        var random = new Random(seed + 1000);
        var factory = new TokenFactory(seed + 1000);
        var rules = new TestRules();
        var tokens = Enumerable.Range(0, random.Next(1, 30)).Select(_ => factory.Mixed()).ToArray();
        rules.Put("leak", RuleAction.Block, tokens);
        var matcher = rules.Build();
        var data = Haystacks.Plant(random, Haystacks.Noise(random, 3000), tokens, 12);

        Assert.Equal(Oracle.Find(data, rules.Tokens), Scan.Found(matcher, data, Scan.Fixed(1)));
    }

    [Theory]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(12)]
    [InlineData(17)]
    [InlineData(18)]
    [InlineData(20)]
    [InlineData(29)]
    [InlineData(30)]
    [InlineData(31)]
    [InlineData(40)]
    [InlineData(64)]
    [InlineData(200)]
    public void FindAll_TokenAtEveryOffsetAndEverySplit_FoundOnce(int length)
    {
        var factory = new TokenFactory(length);
        var token = factory.Bytes(length, length);
        var rules = new TestRules();
        rules.Put("leak", RuleAction.Block, token);
        var matcher = rules.Build();

        // Every offset within two strides of every group, against noise of random bytes.
        for (var offset = 0; offset < 24; offset++)
        {
            var data = factory.Bytes(offset + length + 17, offset + length + 17);
            token.CopyTo(data, offset);
            var expected = Oracle.Find(data, rules.Tokens);

            Assert.Equal(expected, Scan.Found(matcher, data, Scan.Whole()));
            // Every split point of two chunks, including splits inside the token and inside its anchor windows.
            for (var split = 1; split < data.Length; split++)
            {
                Assert.Equal(expected, Scan.Found(matcher, data, [split, int.MaxValue]));
            }
        }
    }

    [Fact]
    public void FindAll_TokenIsWholeStream_Found()
    {
        var rules = new TestRules();
        var token = "ghp_0123456789abcdefghijABCDEFGHIJ012345"u8.ToArray();
        rules.Put("leak", RuleAction.Block, token);
        var matcher = rules.Build();

        var matches = matcher.FindAll(token);

        var match = Assert.Single(matches);
        Assert.Equal(0, match.Offset);
        Assert.Equal(token.Length, match.Length);
        Assert.Equal(RuleAction.Block, match.Action);
        Assert.Equal("leak", matcher.GetLeakId(match.Leak));
    }

    [Fact]
    public void FindAll_TokenMissingLastByteAtEndOfStream_NotFound()
    {
        var rules = new TestRules();
        var token = "sk_live_51HqLyjWDarjtT1zdp7dcXYZ0123"u8.ToArray();
        rules.Put("leak", RuleAction.Block, token);
        var matcher = rules.Build();

        Assert.Empty(matcher.FindAll(token.AsSpan(0, token.Length - 1)));
        Assert.Empty(Scan.Found(matcher, token.AsSpan(0, token.Length - 1), Scan.Fixed(1)));
    }

    [Fact]
    public void FindAll_OverlappingAndNestedTokens_EachOccurrenceReported()
    {
        var rules = new TestRules();
        var outer = "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"u8.ToArray();
        var inner = outer.AsSpan(5, 26).ToArray();           // nested inside outer
        var suffix = outer.AsSpan(20).ToArray();             // overlaps outer's end
        var periodic = Encoding.ASCII.GetBytes(new string('a', 40));  // overlaps itself
        rules.Put("outer", RuleAction.Block, outer);
        rules.Put("inner", RuleAction.Monitor, inner);
        rules.Put("suffix", RuleAction.Block, suffix);
        rules.Put("periodic", RuleAction.Block, periodic);
        var matcher = rules.Build();

        var data = Encoding.ASCII.GetBytes("head " + Encoding.ASCII.GetString(outer) + Encoding.ASCII.GetString(outer[20..]) + " " + new string('a', 47) + " tail");
        var expected = Oracle.Find(data, rules.Tokens);

        Assert.Equal(8 /* aaaa: 47 − 40 + 1 */ + 4, expected.Count);
        Assert.Equal(expected, Scan.Found(matcher, data, Scan.Whole()));
        Assert.Equal(expected, Scan.Found(matcher, data, Scan.Fixed(1)));
        Assert.Equal(expected, Scan.Found(matcher, data, Scan.Fixed(7)));
    }

    [Fact]
    public void FindAll_SameTokenInSeveralLeaks_ReportedForEach()
    {
        var rules = new TestRules();
        var token = "AIzaSyA-1234567890abcdefghijklmnopqrstu"u8.ToArray();
        for (var i = 0; i < 50; i++)
        {
            rules.Put($"leak-{i}", i % 2 == 0 ? RuleAction.Block : RuleAction.Monitor, token);
        }
        var matcher = rules.Build();
        var data = Encoding.ASCII.GetBytes("key=" + Encoding.ASCII.GetString(token) + "&x=1");

        var matches = matcher.FindAll(data);

        Assert.Equal(50, matches.Count);
        Assert.Equal(50, matches.Select(m => m.Leak).Distinct().Count());
        Assert.All(matches, m => Assert.Equal(4, m.Offset));
    }

    [Fact]
    public void FindAll_ManyTokensSharingTheirWholeSpan_AllFound()
    {
        // 3000 tokens identical but for their first byte: every window of every anchor span is shared by all of
        // them, which piles their table entries onto the same hashes (the overflow path).
        var rules = new TestRules();
        var tail = new TokenFactory(7).Chars("abcdefghijklmnopqrstuvwxyz", 39);
        var tokens = Enumerable.Range(0, 3000).Select(i => Encoding.UTF8.GetBytes(((char)(0x100 + i)) + tail)).ToArray();
        rules.Put("family", RuleAction.Block, tokens);
        var matcher = rules.Build();

        var data = Encoding.UTF8.GetBytes("x" + ((char)(0x100 + 1234)) + tail + "y" + ((char)0x99) + tail);
        var found = Scan.Found(matcher, data, Scan.Whole());

        Assert.Equal(Oracle.Find(data, rules.Tokens), found);
        Assert.Single(found);
    }

    [Fact]
    public void FindAll_MatchCarriesLeakAction()
    {
        var rules = new TestRules();
        var blocked = "npm_abcdefghijklmnopqrstuvwxyz0123456789"u8.ToArray();
        var watched = "glpat-ABCDEFGHIJKLMNOPQRST"u8.ToArray();
        rules.Put("blocked", RuleAction.Block, blocked);
        rules.Put("watched", RuleAction.Monitor, watched);
        var matcher = rules.Build();

        var matches = matcher.FindAll([.. blocked, (byte)' ', .. watched]);

        Assert.Equal(2, matches.Count);
        Assert.Equal(RuleAction.Block, matches.Single(m => matcher.GetLeakId(m.Leak) == "blocked").Action);
        Assert.Equal(RuleAction.Monitor, matches.Single(m => matcher.GetLeakId(m.Leak) == "watched").Action);
    }
}
