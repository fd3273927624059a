using System.Buffers;
using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using LeakNode.Matching.Decoding;

namespace LeakNode.Matching.Tests.Decoding;

/// <summary>
/// Inflation of real data made here with the runtime's compressors: every coding over whole and segmented bodies,
/// stacked codings, bombs against both caps, truncated and corrupted streams, and seeded garbage that must never
/// make the inflater throw.
/// </summary>
public sealed class InflaterTests
{
    public enum Format
    {
        Gzip,
        Zlib,
        RawDeflate,
        Brotli,
    }

    private static readonly byte[] Document = MakeDocument(1500);

    public static TheoryData<Format, int> FormatsAndSegments => new(
        from format in Enum.GetValues<Format>()
        from segment in new[] { int.MaxValue, 4096, 7 }
        select (format, segment));

    public static TheoryData<Format> Formats => new(Enum.GetValues<Format>());

    [Theory]
    [MemberData(nameof(FormatsAndSegments))]
    public void Inflate_RealData_DoneAndEqual(Format format, int segmentSize)
    {
        var body = Segmented(Compress(format, Document), segmentSize);
        var sink = new CollectingSink();

        var status = Inflater.Inflate(CodingOf(format), body, InflateLimits.Default, ref sink);

        Assert.Equal(DecodeStatus.Done, status);
        Assert.Equal(Document, sink.Bytes);
        Assert.InRange(sink.LargestChunk, 1, Inflater.OutputChunkSize);
    }

    [Theory]
    [InlineData("gzip, br")]
    [InlineData("br, gzip")]
    [InlineData("deflate, deflate")]
    [InlineData("gzip, identity, deflate")]
    [InlineData("br, gzip, br, deflate")]
    public void Inflate_StackedCodings_DoneAndEqual(string contentEncoding)
    {
        // Apply the codings in the order listed, as a client does.
        var body = Document;
        foreach (var name in contentEncoding.Split(',', StringSplitOptions.TrimEntries))
        {
            body = name switch
            {
                "gzip" => Compress(Format.Gzip, body),
                "deflate" => Compress(Format.Zlib, body),
                "br" => Compress(Format.Brotli, body),
                _ => body,
            };
        }
        var codings = new ContentCoding[ContentEncodingHeader.MaxCodings];
        Assert.True(ContentEncodingHeader.TryParse(contentEncoding, codings, out var count));
        var sink = new CollectingSink();

        var status = Inflater.Inflate(codings.AsSpan(0, count), Segmented(body, 1000), InflateLimits.Default, ref sink);

        Assert.Equal(DecodeStatus.Done, status);
        Assert.Equal(Document, sink.Bytes);
    }

    [Fact]
    public void Inflate_Identity_PassesBytesThrough()
    {
        var sink = new CollectingSink();

        var status = Inflater.Inflate(ContentCoding.Identity, Segmented(Document, 100), InflateLimits.Default, ref sink);

        Assert.Equal(DecodeStatus.Done, status);
        Assert.Equal(Document, sink.Bytes);
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void Inflate_EmptyBody_DoneWithoutOutput(Format format)
    {
        var sink = new CollectingSink();

        var status = Inflater.Inflate(CodingOf(format), ReadOnlySequence<byte>.Empty, InflateLimits.Default, ref sink);

        Assert.Equal(DecodeStatus.Done, status);
        Assert.Equal(0, sink.Chunks);
    }

    [Theory]
    [InlineData(Format.Gzip)]
    [InlineData(Format.Zlib)]
    [InlineData(Format.Brotli)]
    public void Inflate_100MBOfZeros_StopsAtMaxOutputBytesWithBoundedMemory(Format format)
    {
        var bomb = Compress(format, zeros: 100 << 20);
        var limits = new InflateLimits { MaxRatio = int.MaxValue };
        var sink = new CountingSink();
        var clock = Stopwatch.StartNew();
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();

        var status = Inflater.Inflate(CodingOf(format), new ReadOnlySequence<byte>(bomb), limits, ref sink);

        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        Assert.Equal(DecodeStatus.LimitExceeded, status);
        Assert.Equal(limits.MaxOutputBytes, sink.Total);
        Assert.True(sink.AllZero);
        // The 8 MiB output is never held: what the call allocates is the decompressor and a few small objects.
        Assert.InRange(allocated, 0, 256 * 1024);
        Assert.InRange(clock.ElapsedMilliseconds, 0, 5_000);
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void Inflate_1MBOfZeros_StopsAtMaxRatio(Format format)
    {
        var bomb = Compress(format, zeros: 1 << 20);
        Assert.True(bomb.Length * 100L < 1 << 20, "the test needs a ratio above 100");
        var sink = new CountingSink();

        var status = Inflater.Inflate(CodingOf(format), new ReadOnlySequence<byte>(bomb), InflateLimits.Default, ref sink);

        Assert.Equal(DecodeStatus.LimitExceeded, status);
        Assert.Equal(bomb.Length * 100L, sink.Total);
        Assert.True(sink.AllZero);
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void Inflate_OutputExactlyAtCap_Done(Format format)
    {
        var body = new ReadOnlySequence<byte>(Compress(format, Document));
        var sink = new CollectingSink();

        var status = Inflater.Inflate(CodingOf(format), body, new InflateLimits { MaxOutputBytes = Document.Length }, ref sink);

        Assert.Equal(DecodeStatus.Done, status);
        Assert.Equal(Document, sink.Bytes);
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void Inflate_OutputOneByteOverCap_LimitExceededWithPrefix(Format format)
    {
        var body = new ReadOnlySequence<byte>(Compress(format, Document));
        var sink = new CollectingSink();

        var status = Inflater.Inflate(CodingOf(format), body, new InflateLimits { MaxOutputBytes = Document.Length - 1 }, ref sink);

        Assert.Equal(DecodeStatus.LimitExceeded, status);
        Assert.Equal(Document[..^1], sink.Bytes);
    }

    [Fact]
    public void Inflate_BombInInnerLayer_LimitExceeded()
    {
        // A raw deflate stream of a million empty stored blocks: 5 MB that inflate to nothing, then brotli'd to a
        // few hundred bytes. Only the cap on the inner layer's output stops it.
        var emptyBlocks = new byte[(5 * 1_000_000) + 2];
        for (var i = 0; i < 1_000_000; i++)
        {
            emptyBlocks[(5 * i) + 3] = 0xFF;
            emptyBlocks[(5 * i) + 4] = 0xFF;
        }
        emptyBlocks[^2] = 0x03;
        var body = new ReadOnlySequence<byte>(Compress(Format.Brotli, emptyBlocks));
        var sink = new CountingSink();

        var status = Inflater.Inflate([ContentCoding.Brotli, ContentCoding.Deflate], body, new InflateLimits { MaxRatio = int.MaxValue, MaxOutputBytes = 1 << 20 }, ref sink);

        Assert.Equal(DecodeStatus.LimitExceeded, status);
        Assert.Equal(0, sink.Total);
    }

    [Fact]
    public void Inflate_EmptyStoredBlocksWithinCap_Done()
    {
        // The same stream, short: the inner layer ends properly, so the stack is done.
        var emptyBlocks = new byte[] { 0x00, 0x00, 0x00, 0xFF, 0xFF, 0x03, 0x00 };
        var body = new ReadOnlySequence<byte>(Compress(Format.Brotli, emptyBlocks));
        var sink = new CountingSink();

        var status = Inflater.Inflate([ContentCoding.Brotli, ContentCoding.Deflate], body, InflateLimits.Default, ref sink);

        Assert.Equal(DecodeStatus.Done, status);
        Assert.Equal(0, sink.Total);
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void Inflate_TruncatedAnywhere_MalformedWithPrefix(Format format)
    {
        var data = Document.AsSpan(0, 3000).ToArray();
        var compressed = Compress(format, data);
        for (var length = 1; length < compressed.Length; length++)
        {
            var sink = new CollectingSink();

            var status = Inflater.Inflate(CodingOf(format), Segmented(compressed[..length], 64), InflateLimits.Default, ref sink);

            Assert.True(status == DecodeStatus.Malformed, $"{format} cut to {length} of {compressed.Length}: {status}");
            Assert.Equal(data.AsSpan(0, sink.Bytes.Length).ToArray(), sink.Bytes);
        }
    }

    public static TheoryData<string, Format, int, byte> Corruptions => new()
    {
        // (name, format, offset from the start or, if negative, from the end, new value of that byte)
        { "gzip: CRC", Format.Gzip, -8, 0x5A },
        { "gzip: length", Format.Gzip, -1, 0x5A },
        { "gzip: magic", Format.Gzip, 0, 0x1E },
        { "gzip: method", Format.Gzip, 2, 0x07 },
        { "zlib: Adler-32", Format.Zlib, -1, 0x5A },
        { "zlib: preset dictionary flag", Format.Zlib, 1, 0x20 },
        { "raw deflate: reserved block type", Format.RawDeflate, 0, 0x07 },
        { "brotli: reserved window size", Format.Brotli, 0, 0x11 },
    };

    [Theory]
    [MemberData(nameof(Corruptions))]
    public void Inflate_Corrupted_MalformedWithoutThrowing(string name, Format format, int offset, byte value)
    {
        var compressed = Compress(format, Document);
        compressed[offset >= 0 ? offset : compressed.Length + offset] = value;
        var sink = new CollectingSink();

        var status = Inflater.Inflate(CodingOf(format), new ReadOnlySequence<byte>(compressed), InflateLimits.Default, ref sink);

        Assert.True(status == DecodeStatus.Malformed, $"{name}: {status}");
    }

    [Fact]
    public void Inflate_TwoGzipMembers_DecodesBothButReportsMalformed()
    {
        // A known limit of the trailer check (see Inflater): the output is whole, the status errs to malformed.
        var first = Compress(Format.Gzip, Document[..1000]);
        var second = Compress(Format.Gzip, Document[1000..]);
        var sink = new CollectingSink();

        var status = Inflater.Inflate(ContentCoding.Gzip, new ReadOnlySequence<byte>([.. first, .. second]), InflateLimits.Default, ref sink);

        Assert.Equal(Document, sink.Bytes);
        Assert.Equal(DecodeStatus.Malformed, status);
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void Inflate_TrailingBytesAfterStream_DoneAndIgnored(Format format)
    {
        // Upstreams on these decoders stop at the end of the stream too.
        var body = new ReadOnlySequence<byte>([.. Compress(format, Document), .. "trailing"u8]);
        var sink = new CollectingSink();

        var status = Inflater.Inflate(CodingOf(format), body, InflateLimits.Default, ref sink);

        Assert.Equal(Document, sink.Bytes);
        Assert.Equal(DecodeStatus.Done, status);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Inflate_RandomGarbage_NeverThrows(int seed)
    {
        var random = new Random(seed);
        var limits = new InflateLimits { MaxOutputBytes = 1 << 20 };
        byte[][] prefixes = [[], [0x1F, 0x8B, 0x08], [0x78, 0x9C], [0x78, 0x01], [0x0B], [0x8B]];
        foreach (var coding in Enum.GetValues<ContentCoding>())
        {
            for (var n = 0; n < 150; n++)
            {
                var garbage = new byte[random.Next(0, 200)];
                random.NextBytes(garbage);
                var prefix = prefixes[random.Next(prefixes.Length)];
                byte[] body = [.. prefix, .. garbage];
                var sink = new CountingSink();

                Inflater.Inflate(coding, Segmented(body, random.Next(1, 64)), limits, ref sink);

                Assert.InRange(sink.Total, 0, limits.OutputCap(body.Length));
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Inflate_BitFlipsOfValidStreams_NeverThrow(int seed)
    {
        var random = new Random(seed);
        var data = Document.AsSpan(0, 4000).ToArray();
        foreach (var format in Enum.GetValues<Format>())
        {
            var valid = Compress(format, data);
            for (var n = 0; n < 60; n++)
            {
                var flipped = (byte[])valid.Clone();
                for (var flips = random.Next(1, 4); flips > 0; flips--)
                {
                    flipped[random.Next(flipped.Length)] ^= (byte)(1 << random.Next(8));
                }
                var sink = new CountingSink();

                var status = Inflater.Inflate(CodingOf(format), Segmented(flipped, 128), InflateLimits.Default, ref sink);

                Assert.InRange(sink.Total, 0, InflateLimits.Default.OutputCap(flipped.Length));
                if (format is Format.Gzip or Format.Zlib && status == DecodeStatus.Done)
                {
                    // A checksum guards these: done means the data came through unchanged, or only a header field
                    // outside the checksum (gzip's time, flags, OS) was hit.
                    Assert.Equal(data.Length, sink.Total);
                }
            }
        }
    }

    [Fact]
    public void Inflate_BadArguments_Throw()
    {
        var sink = new CountingSink();
        var body = new ReadOnlySequence<byte>([1, 2, 3]);

        Assert.Throws<ArgumentOutOfRangeException>(() => Inflater.Inflate(new ContentCoding[5], body, InflateLimits.Default, ref sink));
        Assert.Throws<ArgumentException>(() => Inflater.Inflate((ContentCoding)42, body, InflateLimits.Default, ref sink));
        Assert.Throws<ArgumentNullException>(() => Inflater.Inflate(ContentCoding.Gzip, body, null!, ref sink));
    }

    [Fact]
    public void InflateLimits_NonPositive_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new InflateLimits { MaxOutputBytes = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new InflateLimits { MaxRatio = -1 });
    }

    [Theory]
    [InlineData(1, 100)]
    [InlineData(1000, 100_000)]
    [InlineData(83_886, 8_388_600)]
    [InlineData(83_887, 8L << 20)]
    [InlineData(long.MaxValue, 8L << 20)]
    public void OutputCap_DefaultLimits_IsLowerOfRatioAndMaximum(long compressedLength, long expected)
    {
        Assert.Equal(expected, InflateLimits.Default.OutputCap(compressedLength));
    }

    private static ContentCoding CodingOf(Format format) => format switch
    {
        Format.Gzip => ContentCoding.Gzip,
        Format.Brotli => ContentCoding.Brotli,
        _ => ContentCoding.Deflate,
    };

    private static byte[] Compress(Format format, byte[] data, CompressionLevel level = CompressionLevel.Optimal)
    {
        using var output = new MemoryStream();
        using (var compressor = Compressor(format, output, level))
        {
            compressor.Write(data);
        }
        return output.ToArray();
    }

    /// <summary>
    /// A bomb: that many zeros, compressed. Brotli at its fastest level, which still reaches a ratio of thousands:
    /// its smallest-size level spends seconds on 100 MB.
    /// </summary>
    private static byte[] Compress(Format format, int zeros)
    {
        var level = format == Format.Brotli ? CompressionLevel.Fastest : CompressionLevel.Optimal;
        var block = new byte[1 << 20];
        using var output = new MemoryStream();
        using (var compressor = Compressor(format, output, level))
        {
            for (var written = 0; written < zeros; written += block.Length)
            {
                compressor.Write(block, 0, Math.Min(block.Length, zeros - written));
            }
        }
        return output.ToArray();
    }

    private static Stream Compressor(Format format, Stream output, CompressionLevel level) => format switch
    {
        Format.Gzip => new GZipStream(output, level, leaveOpen: true),
        Format.Zlib => new ZLibStream(output, level, leaveOpen: true),
        Format.RawDeflate => new DeflateStream(output, level, leaveOpen: true),
        _ => new BrotliStream(output, level, leaveOpen: true),
    };

    /// <summary>A JSON body of records carrying token-like strings: compresses about 5:1, like real traffic.</summary>
    private static byte[] MakeDocument(int records)
    {
        var random = new Random(11);
        var json = new StringBuilder("[");
        for (var i = 0; i < records; i++)
        {
            var token = string.Concat(Enumerable.Range(0, 36).Select(_ => "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[random.Next(62)]));
            json.Append(i == 0 ? "" : ",").Append($"{{\"id\":{i},\"user\":\"user{random.Next(100)}\",\"token\":\"ghp_{token}\",\"ok\":true}}");
        }
        return Encoding.UTF8.GetBytes(json.Append(']').ToString());
    }

    /// <summary>The body as the node holds it: a chain of pooled segments of the given size.</summary>
    internal static ReadOnlySequence<byte> Segmented(byte[] data, int segmentSize)
    {
        if (data.Length <= segmentSize)
        {
            return new ReadOnlySequence<byte>(data);
        }
        var first = new Segment(data.AsMemory(0, segmentSize), 0);
        var last = first;
        for (var offset = segmentSize; offset < data.Length; offset += segmentSize)
        {
            last = last.Append(data.AsMemory(offset, Math.Min(segmentSize, data.Length - offset)));
        }
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }

    private struct CollectingSink() : IDecodedSink
    {
        private readonly List<byte> _output = [];

        public int Chunks { get; private set; }

        public int LargestChunk { get; private set; }

        public readonly byte[] Bytes => [.. _output];

        public void OnDecoded(ReadOnlySpan<byte> chunk)
        {
            Assert.False(chunk.IsEmpty);
            _output.AddRange(chunk);
            Chunks++;
            LargestChunk = Math.Max(LargestChunk, chunk.Length);
        }
    }

    private struct CountingSink() : IDecodedSink
    {
        public long Total { get; private set; }

        public bool AllZero { get; private set; } = true;

        public void OnDecoded(ReadOnlySpan<byte> chunk)
        {
            Total += chunk.Length;
            AllZero &= !chunk.ContainsAnyExcept((byte)0);
        }
    }
}
