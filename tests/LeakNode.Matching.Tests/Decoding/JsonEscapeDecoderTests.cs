using System.Text;
using System.Text.Json;
using LeakNode.Matching.Decoding;
using static LeakNode.Matching.Tests.Decoding.ByteStrings;

namespace LeakNode.Matching.Tests.Decoding;

/// <summary>
/// JSON unescaping: a table of cases by group, every chunking of each case against the one-shot result, random
/// strings escaped at random against their own UTF-8 (checked with System.Text.Json), and malformed noise.
/// </summary>
public sealed class JsonEscapeDecoderTests
{
    private const DecodeStatus Done = DecodeStatus.Done;
    private const DecodeStatus Malformed = DecodeStatus.Malformed;
    private const string Replacement = "\u00EF\u00BF\u00BD";

    // (name, input, expected, status); inputs are verbatim strings so that a backslash is one byte.
    public static TheoryData<string, string, string, DecodeStatus> Ordinary => new()
    {
        { "ordinary: empty", "", "", Done },
        { "ordinary: document without escapes", """{"a":1,"b":[true,null,"x"]}""", """{"a":1,"b":[true,null,"x"]}""", Done },
        { "ordinary: raw UTF-8 passes", Utf8("""{"name":"café 😀"}"""), Utf8("""{"name":"café 😀"}"""), Done },
        { "ordinary: invalid UTF-8 passes", "\u00FF\u00C3(", "\u00FF\u00C3(", Done },
    };

    public static TheoryData<string, string, string, DecodeStatus> Escapes => new()
    {
        { "escapes: quote", @"\""", "\"", Done },
        { "escapes: backslash", @"\\", "\\", Done },
        { "escapes: slash", @"\/", "/", Done },
        { "escapes: controls", @"\b\f\n\r\t", "\b\f\n\r\t", Done },
        { "escapes: all short escapes in a string", @"""a\""b\\c\/d\be\ff\ng\rh\ti""", "\"a\"b\\c/d\be\ff\ng\rh\ti\"", Done },
        { "escapes: token with an escaped slash", @"{""token"":""abc\/def""}", """{"token":"abc/def"}""", Done },
        { "escapes: token of escaped letters", @"""\u0067\u0068\u0070_\u0041bc""", "\"ghp_Abc\"", Done },
        { "escapes: mixed case hex", @"\u004a\u004B\u00aB", "JK" + Utf8("\u00AB"), Done },
        { "escapes: NUL", @"\u0000", "\0", Done },
        { "escapes: escaped slash by code", @"\u002F", "/", Done },
        { "escapes: decoded backslash starts no escape", @"\u005Cn", "\\n", Done },
        { "escapes: escaped backslash before u", @"\\u0041", @"\u0041", Done },
    };

    public static TheoryData<string, string, string, DecodeStatus> Unicode => new()
    {
        { "unicode: two-byte", @"caf\u00e9", Utf8("café"), Done },
        { "unicode: three-byte", @"\u20AC", Utf8("€"), Done },
        { "unicode: last one-byte", @"\u007F", "\u007F", Done },
        { "unicode: first two-byte", @"\u0080", "\u00C2\u0080", Done },
        { "unicode: last two-byte", @"\u07FF", "\u00DF\u00BF", Done },
        { "unicode: first three-byte", @"\u0800", "\u00E0\u00A0\u0080", Done },
        { "unicode: last BMP", @"\uFFFF", "\u00EF\u00BF\u00BF", Done },
    };

    public static TheoryData<string, string, string, DecodeStatus> Surrogates => new()
    {
        { "surrogates: pair", @"\uD83D\uDE00", Utf8("😀"), Done },
        { "surrogates: pair in lower case", @"\ud83d\ude00", Utf8("😀"), Done },
        { "surrogates: first astral", @"\uD800\uDC00", "\u00F0\u0090\u0080\u0080", Done },
        { "surrogates: last astral", @"\uDBFF\uDFFF", "\u00F4\u008F\u00BF\u00BF", Done },
        { "surrogates: two pairs", @"\uD83D\uDE00\uD83D\uDE01", Utf8("😀😁"), Done },
        { "surrogates: lone high at end of string", @"""\uD83D""", "\"" + Replacement + "\"", Malformed },
        { "surrogates: lone high before text", @"\uD83Dabc", Replacement + "abc", Malformed },
        { "surrogates: lone low", @"\uDE00", Replacement, Malformed },
        { "surrogates: reversed pair", @"\uDE00\uD83D", Replacement + Replacement, Malformed },
        { "surrogates: high before a short escape", @"\uD83D\n", Replacement + "\n", Malformed },
        { "surrogates: high before a BMP escape", @"\uD83D\u0041", Replacement + "A", Malformed },
        { "surrogates: high, high, low", @"\uD83D\uD83D\uDE00", Replacement + Utf8("😀"), Malformed },
        { "surrogates: high before an invalid escape", @"\uD83D\u12G4", Replacement + @"\u12G4", Malformed },
        { "surrogates: high before an escaped backslash", @"\uD83D\\", Replacement + "\\", Malformed },
    };

    public static TheoryData<string, string, string, DecodeStatus> Invalid => new()
    {
        { "invalid: unknown escape", @"a\xb", @"a\xb", Malformed },
        { "invalid: non-hex digit", @"\u12G4", @"\u12G4", Malformed },
        { "invalid: no digits", @"\uZ", @"\uZ", Malformed },
        { "invalid: upper-case U", @"\U0041", @"\U0041", Malformed },
        { "invalid: backslash before space", @"\ a", @"\ a", Malformed },
        { "invalid: single quote", @"\'", @"\'", Malformed },
        { "invalid: short \\u before an escape", @"\u12\n", "\\u12\n", Malformed },
        { "invalid: short \\u before \\u", @"\u1\u0041", @"\u1" + "A", Malformed },
        { "invalid: valid escapes around", @"\u0041\q\u0042", @"A\qB", Malformed },
    };

    public static TheoryData<string, string, string, DecodeStatus> Truncated => new()
    {
        { "truncated: backslash at end", @"abc\", @"abc\", Malformed },
        { "truncated: \\u at end", @"abc\u", @"abc\u", Malformed },
        { "truncated: two digits at end", @"\u00", @"\u00", Malformed },
        { "truncated: three digits at end", @"\u004", @"\u004", Malformed },
        { "truncated: high and partial low", @"\uD83D\uDE0", Replacement + @"\uDE0", Malformed },
        { "truncated: high and backslash", @"\uD83D\", Replacement + @"\", Malformed },
        { "truncated: high at end", @"\uD83D", Replacement, Malformed },
    };

    // Cases that once failed, or guard an edge a rewrite could break. Add to it; never remove.
    public static TheoryData<string, string, string, DecodeStatus> Regression => new()
    {
        { "regression: escaped backslash then quote", @"\\\""", "\\\"", Done },
        { "regression: two decoded backslashes", @"\u005C\u005C", @"\\", Done },
        { "regression: lone high then raw UTF-8", @"\uD83D" + Utf8("é"), Replacement + Utf8("é"), Malformed },
    };

    public static TheoryData<string, string, string, DecodeStatus> All =>
        new(Ordinary.Concat(Escapes).Concat(Unicode).Concat(Surrogates).Concat(Invalid).Concat(Truncated).Concat(Regression));

    [Theory]
    [MemberData(nameof(Ordinary))]
    [MemberData(nameof(Escapes))]
    [MemberData(nameof(Unicode))]
    [MemberData(nameof(Surrogates))]
    [MemberData(nameof(Invalid))]
    [MemberData(nameof(Truncated))]
    [MemberData(nameof(Regression))]
    public void Decode_Case_MatchesExpected(string name, string input, string expected, DecodeStatus status)
    {
        var bytes = ToBytes(input);
        var output = new byte[bytes.Length];

        var actual = JsonEscapeDecoder.Decode(bytes, output, out var written);

        Assert.True(expected == FromBytes(output.AsSpan(0, written)), $"{name}: got {FromBytes(output.AsSpan(0, written))}");
        Assert.Equal(status, actual);
    }

    [Theory]
    [MemberData(nameof(All))]
    public void DecodeChunk_EveryTwoChunksAndOneByteChunks_EqualsOneShot(string name, string input, string expected, DecodeStatus status)
    {
        var bytes = ToBytes(input);
        foreach (var cuts in ChunkedDecoding.TwoChunks(bytes.Length).Append(ChunkedDecoding.OneByteChunks(bytes.Length)))
        {
            var (output, actual) = Chunked(bytes, cuts);

            Assert.True(expected == FromBytes(output), $"{name}, cut at [{string.Join(", ", cuts)}]");
            Assert.Equal(status, actual);
        }
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Decode_InPlace_EqualsSeparateOutput(string name, string input, string expected, DecodeStatus status)
    {
        var buffer = ToBytes(input);

        var actual = JsonEscapeDecoder.Decode(buffer, buffer, out var written);

        Assert.True(expected == FromBytes(buffer.AsSpan(0, written)), name);
        Assert.Equal(status, actual);
    }

    [Fact]
    public void Decode_EveryBmpCodeUnitEscaped_EqualsUtf8()
    {
        var text = new StringBuilder();
        var escaped = new StringBuilder();
        for (var c = 0; c <= 0xFFFF; c++)
        {
            if (!char.IsSurrogate((char)c))
            {
                text.Append((char)c);
                escaped.Append(c % 2 == 0 ? $"\\u{c:X4}" : $"\\u{c:x4}");
            }
        }
        var input = Encoding.ASCII.GetBytes(escaped.ToString());
        var output = new byte[input.Length];

        Assert.Equal(DecodeStatus.Done, JsonEscapeDecoder.Decode(input, output, out var written));
        Assert.Equal(Encoding.UTF8.GetBytes(text.ToString()), output.AsSpan(0, written).ToArray());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Decode_RandomStringsEscapedAtRandom_EqualsUtf8OfString(int seed)
    {
        var random = new Random(seed);
        for (var n = 0; n < 100; n++)
        {
            var text = RandomText(random, random.Next(0, 30), allowLoneSurrogates: n % 4 == 3);
            var json = RandomJsonLiteral(random, text);
            var wellFormed = !HasLoneSurrogate(text);
            if (wellFormed)
            {
                // The generator writes JSON that System.Text.Json reads back as the same string.
                Assert.Equal(text, JsonSerializer.Deserialize<string>(json));
            }

            var output = new byte[json.Length];
            var status = JsonEscapeDecoder.Decode(json, output, out var written);

            // UTF8Encoding replaces a lone surrogate with U+FFFD, as the decoder must.
            var expected = Encoding.UTF8.GetBytes("\"" + text + "\"");
            Assert.Equal(expected, output.AsSpan(0, written).ToArray());
            Assert.Equal(wellFormed ? DecodeStatus.Done : DecodeStatus.Malformed, status);
            var chunked = Chunked(json, ChunkedDecoding.RandomCuts(random, json.Length, 7));
            Assert.Equal(expected, chunked.Output);
            Assert.Equal(status, chunked.Status);
        }
    }

    [Fact]
    public void Decode_SystemTextJsonOutput_EqualsUtf8OfValue()
    {
        var random = new Random(7);
        for (var n = 0; n < 50; n++)
        {
            var text = RandomText(random, random.Next(0, 40), allowLoneSurrogates: false);
            var json = JsonSerializer.SerializeToUtf8Bytes(new { token = text, list = new[] { text, "x/y" } });
            var output = new byte[json.Length];

            Assert.Equal(DecodeStatus.Done, JsonEscapeDecoder.Decode(json, output, out var written));

            // Outside strings nothing changes; inside them every escape is undone.
            var expected = Encoding.UTF8.GetBytes($"{{\"token\":\"{text}\",\"list\":[\"{text}\",\"x/y\"]}}");
            Assert.Equal(expected, output.AsSpan(0, written).ToArray());
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Decode_MalformedNoise_NeverThrowsNorExpandsAndChunkingAgrees(int seed)
    {
        // Noise dense in backslashes, 'u', hex digits and surrogate prefixes.
        var random = new Random(seed);
        var alphabet = ToBytes(@"\\\\\uuuuDdEe089aAfF""/bnx ");
        for (var n = 0; n < 200; n++)
        {
            var input = new byte[random.Next(0, 48)];
            for (var k = 0; k < input.Length; k++)
            {
                input[k] = random.Next(10) == 0 ? (byte)random.Next(256) : alphabet[random.Next(alphabet.Length)];
            }

            var output = new byte[input.Length];
            var status = JsonEscapeDecoder.Decode(input, output, out var written);

            Assert.InRange(written, 0, input.Length);
            var chunked = Chunked(input, ChunkedDecoding.RandomCuts(random, input.Length, 4));
            Assert.Equal(output.AsSpan(0, written).ToArray(), chunked.Output);
            Assert.Equal(status, chunked.Status);
            var bytewise = Chunked(input, ChunkedDecoding.OneByteChunks(input.Length));
            Assert.Equal(chunked.Output, bytewise.Output);
        }
    }

    [Fact]
    public void DecodeChunk_HeldSurrogateAndEscape_NeedsRoomForThem()
    {
        var decoder = default(JsonEscapeDecoder);
        var output = new byte[32];
        decoder.DecodeChunk(@"\uD83D\uDE0"u8, output, out var written, isFinalBlock: false);
        Assert.Equal(0, written);
        Assert.Equal(JsonEscapeDecoder.MaxPendingBytes, decoder.PendingBytes);

        Assert.Throws<ArgumentException>(() => decoder.DecodeChunk("x"u8, output.AsSpan(0, JsonEscapeDecoder.MaxPendingBytes), out _, isFinalBlock: true));
        var status = decoder.DecodeChunk("x"u8, output.AsSpan(0, 1 + JsonEscapeDecoder.MaxPendingBytes), out written, isFinalBlock: true);

        Assert.Equal(DecodeStatus.Malformed, status);
        Assert.Equal(Replacement + @"\uDE0x", FromBytes(output.AsSpan(0, written)));
    }

    [Fact]
    public void Reset_AfterHeldSurrogate_StartsAFreshDocument()
    {
        var decoder = default(JsonEscapeDecoder);
        var output = new byte[32];
        decoder.DecodeChunk(@"\uD83D\u"u8, output, out _, isFinalBlock: false);

        decoder.Reset();
        var status = decoder.DecodeChunk(@"\u0041"u8, output, out var written, isFinalBlock: true);

        Assert.Equal(DecodeStatus.Done, status);
        Assert.Equal("A", FromBytes(output.AsSpan(0, written)));
        Assert.Equal(0, decoder.PendingBytes);
    }

    [Fact]
    public void Decode_SteadyState_AllocatesNothing()
    {
        var input = Encoding.UTF8.GetBytes(@"{""t"":""abc\/def\u0041\uD83D\uDE00\uD83D\q\u12"",""é"":1}\uD83D\uDE");
        var output = new byte[input.Length + JsonEscapeDecoder.MaxPendingBytes];
        var decoder = default(JsonEscapeDecoder);
        decoder.DecodeChunk(input, output, out _, isFinalBlock: true);
        JsonEscapeDecoder.Decode(input, output, out _);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            decoder.DecodeChunk(input, output, out _, isFinalBlock: i % 10 == 9);
            JsonEscapeDecoder.Decode(input, output, out _);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static (byte[] Output, DecodeStatus Status) Chunked(byte[] input, IEnumerable<int> cuts)
    {
        var decoder = default(JsonEscapeDecoder);
        return ChunkedDecoding.Run(
            (source, destination, out written, isFinalBlock) => decoder.DecodeChunk(source, destination, out written, isFinalBlock),
            () => decoder.PendingBytes,
            JsonEscapeDecoder.MaxPendingBytes,
            input,
            cuts);
    }

    private static string RandomText(Random random, int length, bool allowLoneSurrogates)
    {
        string[] pieces = ["a", "Z", "0", "_", "-", " ", "\"", "\\", "/", "\n", "\t", "\u0001", "\u001F", "é", "€", "中", "\uFFFD", "😀", "𝄞"];
        var text = new StringBuilder();
        while (text.Length < length)
        {
            if (allowLoneSurrogates && random.Next(6) == 0)
            {
                text.Append(random.Next(2) == 0 ? (char)random.Next(0xD800, 0xDC00) : (char)random.Next(0xDC00, 0xE000));
                continue;
            }
            text.Append(pieces[random.Next(pieces.Length)]);
        }
        return text.ToString();
    }

    /// <summary>A JSON string literal for <paramref name="text"/>, each character escaped or not at random.</summary>
    private static byte[] RandomJsonLiteral(Random random, string text)
    {
        var json = new StringBuilder("\"");
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            var pair = char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]);
            var mustEscape = c is '"' or '\\' or < ' ' || (char.IsSurrogate(c) && !pair);
            if (!mustEscape && random.Next(2) == 0)
            {
                json.Append(pair ? text.AsSpan(i++, 2) : text.AsSpan(i, 1));
                continue;
            }
            var shortEscape = c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '/' => "\\/",
                '\b' => "\\b",
                '\f' => "\\f",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ => null,
            };
            if (shortEscape is not null && random.Next(2) == 0)
            {
                json.Append(shortEscape);
                continue;
            }
            json.Append(random.Next(2) == 0 ? $"\\u{(int)c:X4}" : $"\\u{(int)c:x4}");
        }
        json.Append('"');
        return Encoding.UTF8.GetBytes(json.ToString());
    }

    private static bool HasLoneSurrogate(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return true;
            }
        }
        return false;
    }
}
