using System.Buffers;
using System.Diagnostics;
using System.IO.Compression;
using System.Runtime.CompilerServices;

namespace LeakNode.Matching.Decoding;

/// <summary>
/// Undoes <c>Content-Encoding</c> (gzip, deflate, br, stacked) of a body held in memory, and pushes the decoded
/// bytes to a sink in chunks: the decoded body is never held whole. Output is capped (<see cref="InflateLimits"/>);
/// corrupt, truncated or bomb-like input ends with a status, never an exception.
/// </summary>
/// <remarks>
/// <para>
/// Each layer is a runtime decompressor reading the layer below: <see cref="GZipStream"/>, <see cref="ZLibStream"/>,
/// <see cref="DeflateStream"/>, and <see cref="BrotliDecoder"/> (through <see cref="BrotliReadStream"/>), over a
/// stream on the body's segments. Per call this allocates the decompressors and a few small wrappers (the runtime
/// gives no reusable zlib decompressor); the output chunk buffer comes from the array pool.
/// </para>
/// <para>
/// Truncation. In .NET 10 the zlib-based streams end quietly on a truncated input unless the process sets the
/// <c>System.IO.Compression.UseStrictValidation</c> switch, so the layer input watches the decompressor instead: a
/// finished raw or zlib stream stops reading, while an unfinished one asks for more after the input has ended. A
/// gzip stream always asks once more (for a further member), so it passes only if its input ends with the gzip
/// trailer's length field equal to its output length modulo 2^32 (zlib has already checked the CRC of a member it
/// finished). Two rare cases are misread, neither at the cost of a missed token, since the decoded output is scanned
/// either way: several gzip members that end the body are reported malformed (a needless scan of the raw bytes), and
/// a truncated gzip stream whose last four bytes equal its output length by chance (1 in 2^32) is reported done.
/// </para>
/// <para>
/// Bytes after the end of a stream are ignored, as the upstream's decompressor (the same runtime streams, in ASP.NET
/// Core's request decompression) ignores them.
/// </para>
/// </remarks>
public static class Inflater
{
    /// <summary>
    /// Size of the output chunks pushed to the sink: large enough that the scanner's per-chunk work (carry, pending
    /// candidates) is amortised over many bytes, small enough to stay in L2 while the scanner reads it.
    /// </summary>
    public const int OutputChunkSize = 16 * 1024;

    // Smallest gzip member: a 10-byte header and an 8-byte trailer (the deflate body takes at least 2 more).
    private const int GzipFrameLength = 18;

    /// <summary>Decodes a body in one content coding and pushes the output to <paramref name="sink"/>.</summary>
    /// <param name="coding">The coding to undo.</param>
    /// <param name="compressed">The body as received, possibly truncated.</param>
    /// <param name="limits">The output caps.</param>
    /// <param name="sink">Receives the decoded bytes in order.</param>
    /// <returns>As for the stacked overload, <see cref="Inflate{TSink}(ReadOnlySpan{ContentCoding}, in ReadOnlySequence{byte}, InflateLimits, ref TSink)"/>.</returns>
    public static DecodeStatus Inflate<TSink>(ContentCoding coding, in ReadOnlySequence<byte> compressed, InflateLimits limits, ref TSink sink)
        where TSink : IDecodedSink, allows ref struct =>
        Inflate(new ReadOnlySpan<ContentCoding>(in coding), compressed, limits, ref sink);

    /// <summary>
    /// Decodes a body in stacked content codings, given in decode order (what
    /// <see cref="ContentEncodingHeader.TryParse"/> returns), and pushes the output to <paramref name="sink"/>.
    /// </summary>
    /// <param name="decodeOrder">The codings to undo, first to undo first; at most <see cref="ContentEncodingHeader.MaxCodings"/>.</param>
    /// <param name="compressed">The body as received, possibly truncated.</param>
    /// <param name="limits">The output caps; they apply to every layer.</param>
    /// <param name="sink">Receives the decoded bytes in order.</param>
    /// <returns>
    /// <see cref="DecodeStatus.Done"/> when every layer ended properly (an empty body is done: it decodes to nothing);
    /// <see cref="DecodeStatus.LimitExceeded"/> when a cap stopped decoding (the output within it was pushed);
    /// <see cref="DecodeStatus.Malformed"/> when a layer was corrupt or truncated (what decoded before was pushed).
    /// </returns>
    /// <exception cref="ArgumentException">More codings than <see cref="ContentEncodingHeader.MaxCodings"/>, or a value outside <see cref="ContentCoding"/>.</exception>
    public static DecodeStatus Inflate<TSink>(scoped ReadOnlySpan<ContentCoding> decodeOrder, in ReadOnlySequence<byte> compressed, InflateLimits limits, ref TSink sink)
        where TSink : IDecodedSink, allows ref struct
    {
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(decodeOrder.Length, ContentEncodingHeader.MaxCodings, nameof(decodeOrder));
        foreach (var coding in decodeOrder)
        {
            if (!Enum.IsDefined(coding))
            {
                throw new ArgumentException($"Unknown content coding {coding}.", nameof(decodeOrder));
            }
        }
        if (compressed.IsEmpty)
        {
            return DecodeStatus.Done;
        }

        var cap = limits.OutputCap(compressed.Length);
        var layers = default(Layers);
        var count = 0;
        Stream output = new SequenceReadStream(compressed);
        var buffer = ArrayPool<byte>.Shared.Rent(OutputChunkSize);
        try
        {
            foreach (var coding in decodeOrder)
            {
                // The body is read whole by the first layer; each later layer's input is the output of the one below
                // and is held to the cap.
                var input = new LayerInput(output, count == 0 ? long.MaxValue : cap);
                var status = Open(coding, input, out output);
                layers[count++] = new Layer(coding, input, output);
                if (status != DecodeStatus.Done)
                {
                    return status;
                }
            }

            var total = 0L;
            while (true)
            {
                // Ask for one byte more than the cap allows: receiving it proves the output would exceed the cap.
                var remaining = cap - total;
                var room = remaining < buffer.Length ? (int)remaining + 1 : buffer.Length;
                var n = output.Read(buffer, 0, room);
                if (n == 0)
                {
                    break;
                }
                if (n > remaining)
                {
                    sink.OnDecoded(buffer.AsSpan(0, (int)remaining));
                    return DecodeStatus.LimitExceeded;
                }
                sink.OnDecoded(buffer.AsSpan(0, n));
                total += n;
            }
            return Conclude(layers[..count], total);
        }
        catch (InvalidDataException)
        {
            // Corrupt zlib data (or, with the strict validation switch, a truncated stream). A layer above a cap
            // sees the capped input as truncated: the cap is the cause.
            return AnyLimitHit(layers[..count]) ? DecodeStatus.LimitExceeded : DecodeStatus.Malformed;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            for (var k = count - 1; k >= 0; k--)
            {
                layers[k].Output.Dispose();
            }
        }
    }

    /// <summary>Opens the decompressor of one layer over its input.</summary>
    private static DecodeStatus Open(ContentCoding coding, LayerInput input, out Stream output)
    {
        switch (coding)
        {
            case ContentCoding.Gzip:
                output = new GZipStream(input, CompressionMode.Decompress, leaveOpen: true);
                return DecodeStatus.Done;
            case ContentCoding.Brotli:
                output = new BrotliReadStream(input);
                return DecodeStatus.Done;
            case ContentCoding.Deflate:
                Span<byte> head = stackalloc byte[2];
                var header = input.PeekTwo(head);
                if (!IsZlibHeader(header))
                {
                    output = new DeflateStream(input, CompressionMode.Decompress, leaveOpen: true);
                    return DecodeStatus.Done;
                }
                output = new ZLibStream(input, CompressionMode.Decompress, leaveOpen: true);
                // A preset dictionary (FDICT) is agreed out of band, so no upstream can decode the stream either; and
                // zlib's "need dictionary" answer surfaces as an IOException, not as invalid data.
                return (header[1] & 0x20) != 0 ? DecodeStatus.Malformed : DecodeStatus.Done;
            default:
                Debug.Assert(coding == ContentCoding.Identity);
                output = input;
                return DecodeStatus.Done;
        }
    }

    /// <summary>
    /// Whether a deflate body starts with a zlib header (RFC 1950 §2.2): compression method 8 in the low nibble of the
    /// first byte, and the two bytes, big-endian, a multiple of 31.
    /// </summary>
    /// <remarks>
    /// A raw deflate stream from a real compressor never passes: a low nibble of 8 would be a non-final stored block
    /// with a set padding bit, and compressors pad with zeros. So a failed zlib stream is not retried as raw.
    /// </remarks>
    private static bool IsZlibHeader(ReadOnlySpan<byte> header) =>
        header.Length == 2 && (header[0] & 0x0F) == 8 && ((header[0] << 8) | header[1]) % 31 == 0;

    /// <summary>How the layers ended, once the outermost has returned end-of-stream.</summary>
    private static DecodeStatus Conclude(ReadOnlySpan<Layer> layers, long total)
    {
        if (AnyLimitHit(layers))
        {
            return DecodeStatus.LimitExceeded;
        }
        for (var k = 0; k < layers.Length; k++)
        {
            var layer = layers[k];
            // The output of a layer is the input of the next one, or what was pushed to the sink.
            var produced = k + 1 < layers.Length ? layers[k + 1].Input.Count : total;
            var ended = layer.Coding switch
            {
                ContentCoding.Gzip => !layer.Input.ReadPastEnd
                    || (layer.Input.Count >= GzipFrameLength && layer.Input.LastFour == unchecked((uint)produced)),
                ContentCoding.Deflate => !layer.Input.ReadPastEnd,
                ContentCoding.Brotli => ((BrotliReadStream)layer.Output).Status == DecodeStatus.Done,
                _ => true,
            };
            if (!ended)
            {
                return DecodeStatus.Malformed;
            }
        }
        return DecodeStatus.Done;
    }

    private static bool AnyLimitHit(ReadOnlySpan<Layer> layers)
    {
        foreach (var layer in layers)
        {
            if (layer.Input.LimitHit)
            {
                return true;
            }
        }
        return false;
    }

    private readonly record struct Layer(ContentCoding Coding, LayerInput Input, Stream Output);

    // The layers of one call, on the stack: at most ContentEncodingHeader.MaxCodings.
    [InlineArray(ContentEncodingHeader.MaxCodings)]
    private struct Layers
    {
        private Layer _first;
    }
}
