using System.IO.Compression;
using System.Text;
using LeakNode.Matching.Decoding;
using LeakNode.Matching.Rules;
using LeakNode.Matching.Tests.Support;

namespace LeakNode.Matching.Tests.Decoding;

/// <summary>
/// The decoders as the node uses them: decoded output fed to a real matcher finds a token hidden by each encoding an
/// upstream would undo, at the offset it has in the decoded stream.
/// </summary>
public sealed class DecodedScanTests
{
    // An AWS-style secret: its '/' and '+' are escaped by every encoding below.
    private const string Secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    private static readonly TokenMatcher Matcher = BuildMatcher();

    [Fact]
    public void TryDecodeBasicCredentials_TokenIsThePassword_MatcherFindsIt()
    {
        var header = Encoding.ASCII.GetBytes("Basic " + Convert.ToBase64String(Encoding.ASCII.GetBytes("deploy:" + Secret)));
        var output = new byte[Base64Decoder.GetMaxDecodedLength(header.Length)];

        Assert.True(Base64Decoder.TryDecodeBasicCredentials(header, output, out var written, out _));

        var match = Assert.Single(Matcher.FindAll(output.AsSpan(0, written)));
        Assert.Equal("deploy:".Length, match.Offset);
    }

    [Fact]
    public void DecodeChunk_FormBodyInOneByteChunks_MatcherFindsEscapedToken()
    {
        var body = Encoding.ASCII.GetBytes("user=deploy&secret=" + Uri.EscapeDataString(Secret).Replace("%20", "+", StringComparison.Ordinal) + "&x=1");
        var decoder = new PercentDecoder(plusAsSpace: true);
        var sink = new Scan.CollectingSink();
        using var scanner = Matcher.RentScanner();
        var destination = new byte[1 + PercentDecoder.MaxPendingBytes];

        for (var i = 0; i <= body.Length; i++)
        {
            var chunk = i < body.Length ? body.AsSpan(i, 1) : [];
            decoder.DecodeChunk(chunk, destination, out var written, isFinalBlock: i == body.Length);
            scanner.Write(destination.AsSpan(0, written), ref sink);
        }

        var match = Assert.Single(sink.Matches);
        Assert.Equal("user=deploy&secret=".Length, match.Offset);
    }

    [Fact]
    public void DecodeChunk_JsonBodyWithEscapedSlashAndLetters_MatcherFindsToken()
    {
        var escaped = Secret.Replace("/", "\\/", StringComparison.Ordinal).Replace("K", "\\u004B", StringComparison.Ordinal).Replace("+", "\\u002b", StringComparison.Ordinal);
        var body = Encoding.ASCII.GetBytes("{\"id\":1,\"aws\":{\"secret\":\"" + escaped + "\"}}");
        var decoder = default(JsonEscapeDecoder);
        var sink = new Scan.CollectingSink();
        using var scanner = Matcher.RentScanner();
        var destination = new byte[5 + JsonEscapeDecoder.MaxPendingBytes];

        for (var offset = 0; offset < body.Length; offset += 5)
        {
            var chunk = body.AsSpan(offset, Math.Min(5, body.Length - offset));
            decoder.DecodeChunk(chunk, destination, out var written, isFinalBlock: offset + 5 >= body.Length);
            scanner.Write(destination.AsSpan(0, written), ref sink);
        }

        var match = Assert.Single(sink.Matches);
        Assert.Equal("{\"id\":1,\"aws\":{\"secret\":\"".Length, match.Offset);
    }

    [Fact]
    public void Inflate_GzipTokenAcrossOutputChunks_MatcherFindsItOnceAtItsOffset()
    {
        // Place the token over the boundary between the first two output chunks.
        var offset = Inflater.OutputChunkSize - 10;
        var data = new byte[3 * Inflater.OutputChunkSize];
        new Random(5).NextBytes(data);
        Encoding.ASCII.GetBytes(Secret).CopyTo(data, offset);
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(data);
        }
        using var scanner = Matcher.RentScanner();
        var sink = new ScanningSink(scanner);

        var status = Inflater.Inflate(ContentCoding.Gzip, InflaterTests.Segmented(compressed.ToArray(), 1500), InflateLimits.Default, ref sink);

        Assert.Equal(DecodeStatus.Done, status);
        Assert.Equal(data.Length, scanner.Position);
        var match = Assert.Single(sink.Matches.Matches);
        Assert.Equal(offset, match.Offset);
    }

    private static TokenMatcher BuildMatcher()
    {
        var rules = new TestRules();
        rules.Put("aws", RuleAction.Block, Encoding.ASCII.GetBytes(Secret));
        return rules.Build();
    }

    /// <summary>Feeds inflated chunks to a scanner, as the node's body inspection will.</summary>
    private readonly struct ScanningSink(MatchScanner scanner) : IDecodedSink
    {
        public Scan.CollectingSink Matches { get; } = new();

        public void OnDecoded(ReadOnlySpan<byte> chunk)
        {
            var matches = Matches;
            scanner.Write(chunk, ref matches);
        }
    }
}
