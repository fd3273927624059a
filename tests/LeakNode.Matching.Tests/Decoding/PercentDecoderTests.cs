using System.Net;
using System.Text;
using LeakNode.Matching.Decoding;
using static LeakNode.Matching.Tests.Decoding.ByteStrings;

namespace LeakNode.Matching.Tests.Decoding;

/// <summary>
/// Percent-decoding: a table of cases by group, every chunking of each case against the one-shot result, and random
/// inputs against <see cref="WebUtility.UrlDecodeToBytes(byte[], int, int)"/> (the WHATWG algorithm, which is what
/// upstreams and browsers apply) as the oracle.
/// </summary>
public sealed class PercentDecoderTests
{
    private const DecodeStatus Done = DecodeStatus.Done;
    private const DecodeStatus Malformed = DecodeStatus.Malformed;

    // (name, input, plusAsSpace, expected, status); inputs and outputs are byte strings (see ByteStrings).
    public static TheoryData<string, string, bool, string, DecodeStatus> Ordinary => new()
    {
        { "ordinary: empty", "", false, "", Done },
        { "ordinary: no escapes", "hello world", false, "hello world", Done },
        { "ordinary: query with a token", "limit=50&api_key=ghp_0123456789abcdefghij", false, "limit=50&api_key=ghp_0123456789abcdefghij", Done },
        { "ordinary: raw UTF-8 passes", Utf8("café=thé"), false, Utf8("café=thé"), Done },
    };

    public static TheoryData<string, string, bool, string, DecodeStatus> Escapes => new()
    {
        { "escapes: upper hex", "%41%42%43", false, "ABC", Done },
        { "escapes: lower hex", "%6a%6b", false, "jk", Done },
        { "escapes: mixed case hex", "%4a%4B%aB%Cd", false, "JK\u00AB\u00CD", Done },
        { "escapes: percent sign", "100%25", false, "100%", Done },
        { "escapes: decoded once, not twice", "%2541", false, "%41", Done },
        { "escapes: slash inside a token", "abc%2Fdef", false, "abc/def", Done },
        { "escapes: token with escaped underscore", "key=ghp%5F0123456789", false, "key=ghp_0123456789", Done },
        { "escapes: every letter escaped", "%73%6B%5F%6C%69%76%65", false, "sk_live", Done },
        { "escapes: NUL and FF", "%00%ff", false, "\0\u00FF", Done },
        { "escapes: escape at start and end", "%41bc%44", false, "AbcD", Done },
    };

    public static TheoryData<string, string, bool, string, DecodeStatus> Plus => new()
    {
        { "plus: kept without plusAsSpace", "a+b", false, "a+b", Done },
        { "plus: space with plusAsSpace", "a+b", true, "a b", Done },
        { "plus: escaped plus stays plus", "a%2Bb", true, "a+b", Done },
        { "plus: escaped space", "a%20b", false, "a b", Done },
        { "plus: runs of plus", "++a++", true, "  a  ", Done },
        { "plus: next to escapes", "+%41+", true, " A ", Done },
        { "plus: form body", "user=alice&token=abc+def%2B%2F", true, "user=alice&token=abc def+/", Done },
    };

    public static TheoryData<string, string, bool, string, DecodeStatus> Invalid => new()
    {
        { "invalid: lone percent", "a%b", false, "a%b", Malformed },
        { "invalid: non-hex digits", "%zz", false, "%zz", Malformed },
        { "invalid: one digit then non-hex", "%4z", false, "%4z", Malformed },
        { "invalid: percent before an escape", "%%41", false, "%A", Malformed },
        { "invalid: digit then an escape", "%4%41", false, "%4A", Malformed },
        { "invalid: plus after percent", "%+", true, "% ", Malformed },
        { "invalid: IIS %u is not decoded", "%u0041", false, "%u0041", Malformed },
        { "invalid: space inside an escape", "% 41", false, "% 41", Malformed },
        { "invalid: valid escapes around an invalid one", "%41%g1%42", false, "A%g1B", Malformed },
    };

    public static TheoryData<string, string, bool, string, DecodeStatus> Truncated => new()
    {
        { "truncated: percent at end", "abc%", false, "abc%", Malformed },
        { "truncated: one digit at end", "abc%4", false, "abc%4", Malformed },
        { "truncated: one lower digit at end", "abc%a", false, "abc%a", Malformed },
        { "truncated: only a percent", "%", false, "%", Malformed },
    };

    public static TheoryData<string, string, bool, string, DecodeStatus> Utf8Bytes => new()
    {
        { "utf-8: two-byte sequence", "caf%C3%A9", false, Utf8("café"), Done },
        { "utf-8: three-byte sequence", "%E2%82%AC", false, Utf8("€"), Done },
        { "utf-8: four-byte sequence", "%F0%9F%98%80", false, Utf8("😀"), Done },
        { "utf-8: invalid sequence kept as bytes", "%C3%28%FF", false, "\u00C3(\u00FF", Done },
    };

    // Cases that once failed, or guard an edge a rewrite could break. Add to it; never remove.
    public static TheoryData<string, string, bool, string, DecodeStatus> Regression => new()
    {
        { "regression: two percents at end", "%%", false, "%%", Malformed },
        { "regression: digit then percent at end", "%4%", false, "%4%", Malformed },
        { "regression: held digit kept in its case", "%a%", false, "%a%", Malformed },
    };

    public static TheoryData<string, string, bool, string, DecodeStatus> All =>
        new(Ordinary.Concat(Escapes).Concat(Plus).Concat(Invalid).Concat(Truncated).Concat(Utf8Bytes).Concat(Regression));

    [Theory]
    [MemberData(nameof(Ordinary))]
    [MemberData(nameof(Escapes))]
    [MemberData(nameof(Plus))]
    [MemberData(nameof(Invalid))]
    [MemberData(nameof(Truncated))]
    [MemberData(nameof(Utf8Bytes))]
    [MemberData(nameof(Regression))]
    public void Decode_Case_MatchesExpected(string name, string input, bool plusAsSpace, string expected, DecodeStatus status)
    {
        var bytes = ToBytes(input);
        var output = new byte[bytes.Length];

        var actual = PercentDecoder.Decode(bytes, output, out var written, plusAsSpace);

        Assert.True(expected == FromBytes(output.AsSpan(0, written)), name);
        Assert.Equal(status, actual);
    }

    [Theory]
    [MemberData(nameof(All))]
    public void DecodeChunk_EveryTwoChunksAndOneByteChunks_EqualsOneShot(string name, string input, bool plusAsSpace, string expected, DecodeStatus status)
    {
        var bytes = ToBytes(input);
        foreach (var cuts in ChunkedDecoding.TwoChunks(bytes.Length).Append(ChunkedDecoding.OneByteChunks(bytes.Length)))
        {
            var (output, actual) = Chunked(bytes, plusAsSpace, cuts);

            Assert.True(expected == FromBytes(output), $"{name}, cut at [{string.Join(", ", cuts)}]");
            Assert.Equal(status, actual);
        }
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Decode_InPlace_EqualsSeparateOutput(string name, string input, bool plusAsSpace, string expected, DecodeStatus status)
    {
        var buffer = ToBytes(input);

        var actual = PercentDecoder.Decode(buffer, buffer, out var written, plusAsSpace);

        Assert.True(expected == FromBytes(buffer.AsSpan(0, written)), name);
        Assert.Equal(status, actual);
    }

    [Fact]
    public void Decode_EveryByteEscapedInEitherCase_RoundTrips()
    {
        var all = Enumerable.Range(0, 256).Select(b => (byte)b).ToArray();
        var upper = Encoding.ASCII.GetBytes(string.Concat(all.Select(b => $"%{b:X2}")));
        var lower = Encoding.ASCII.GetBytes(string.Concat(all.Select(b => $"%{b:x2}")));

        foreach (var input in new[] { upper, lower })
        {
            var output = new byte[input.Length];
            Assert.Equal(DecodeStatus.Done, PercentDecoder.Decode(input, output, out var written));
            Assert.Equal(all, output.AsSpan(0, written).ToArray());
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Decode_RandomInputs_EqualsWebUtilityAtEveryChunking(int seed)
    {
        // Inputs are dense in '%', '+' and hex digits, so that escapes, broken escapes and cuts inside them abound.
        var random = new Random(seed);
        var alphabet = ToBytes("%%%%++0123456789abcdefABCDEFgGz/ \u00FF\u0000");
        for (var n = 0; n < 150; n++)
        {
            var input = new byte[random.Next(0, 40)];
            for (var k = 0; k < input.Length; k++)
            {
                input[k] = random.Next(8) == 0 ? (byte)random.Next(256) : alphabet[random.Next(alphabet.Length)];
            }
            var plusAsSpace = random.Next(2) == 0;

            var output = new byte[input.Length];
            var status = PercentDecoder.Decode(input, output, out var written, plusAsSpace);

            var expected = Reference(input, plusAsSpace);
            Assert.Equal(expected, output.AsSpan(0, written).ToArray());
            Assert.Equal(HasInvalidEscape(input), status == DecodeStatus.Malformed);
            var chunked = Chunked(input, plusAsSpace, ChunkedDecoding.RandomCuts(random, input.Length, 5));
            Assert.Equal(expected, chunked.Output);
            Assert.Equal(status, chunked.Status);
        }
    }

    [Fact]
    public void Decode_OutputShorterThanInput_Throws()
    {
        var output = new byte[2];

        Assert.Throws<ArgumentException>(() => PercentDecoder.Decode("abc"u8, output, out _));
    }

    [Fact]
    public void DecodeChunk_NoRoomForHeldEscape_Throws()
    {
        var decoder = new PercentDecoder(plusAsSpace: false);
        var output = new byte[8];
        decoder.DecodeChunk("ab%4"u8, output, out _, isFinalBlock: false);
        Assert.Equal(2, decoder.PendingBytes);

        Assert.Throws<ArgumentException>(() => decoder.DecodeChunk("zz"u8, output.AsSpan(0, 3), out _, isFinalBlock: true));
    }

    [Fact]
    public void Reset_AfterHeldEscape_StartsAFreshStream()
    {
        var decoder = new PercentDecoder(plusAsSpace: true);
        var output = new byte[16];
        decoder.DecodeChunk("a%4"u8, output, out _, isFinalBlock: false);

        decoder.Reset();
        var status = decoder.DecodeChunk("1+b"u8, output, out var written, isFinalBlock: true);

        Assert.Equal(DecodeStatus.Done, status);
        Assert.Equal("1 b", Encoding.ASCII.GetString(output, 0, written));
        Assert.True(decoder.PlusAsSpace);
    }

    [Fact]
    public void Decode_SteadyState_AllocatesNothing()
    {
        var input = "user=alice&token=ghp%5F0123+4567%2F%zz%4"u8.ToArray();
        var output = new byte[input.Length + PercentDecoder.MaxPendingBytes];
        var decoder = new PercentDecoder(plusAsSpace: true);
        decoder.DecodeChunk(input, output, out _, isFinalBlock: true);
        PercentDecoder.Decode(input, output, out _, plusAsSpace: false);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            decoder.DecodeChunk(input, output, out _, isFinalBlock: i % 10 == 9);
            PercentDecoder.Decode(input, output, out _, plusAsSpace: i % 2 == 0);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static (byte[] Output, DecodeStatus Status) Chunked(byte[] input, bool plusAsSpace, IEnumerable<int> cuts)
    {
        var decoder = new PercentDecoder(plusAsSpace);
        return ChunkedDecoding.Run(
            (source, destination, out written, isFinalBlock) => decoder.DecodeChunk(source, destination, out written, isFinalBlock),
            () => decoder.PendingBytes,
            PercentDecoder.MaxPendingBytes,
            input,
            cuts);
    }

    /// <summary>WebUtility decodes '+' as a space always; without plusAsSpace a '+' is hidden from it as "%2B".</summary>
    private static byte[] Reference(byte[] input, bool plusAsSpace)
    {
        var prepared = plusAsSpace ? input : [.. input.SelectMany(b => b == (byte)'+' ? "%2B"u8.ToArray() : [b])];
        return WebUtility.UrlDecodeToBytes(prepared, 0, prepared.Length)!;
    }

    private static bool HasInvalidEscape(byte[] input)
    {
        for (var i = 0; i < input.Length; i++)
        {
            if (input[i] == (byte)'%' && (i + 2 >= input.Length || !Uri.IsHexDigit((char)input[i + 1]) || !Uri.IsHexDigit((char)input[i + 2])))
            {
                return true;
            }
        }
        return false;
    }
}
