using System.Buffers;
using System.Diagnostics;
using System.IO.Compression;

namespace LeakNode.Matching.Decoding;

/// <summary>
/// A Brotli-decoding read stream built on <see cref="BrotliDecoder"/>, which reports exactly how a stream ends
/// (done, truncated, invalid), where <see cref="BrotliStream"/> in .NET 10 returns end-of-stream for a truncated
/// or corrupt input unless the process opts into strict validation.
/// </summary>
internal sealed class BrotliReadStream : ReadOnlyStream
{
    // Compressed bytes per refill, as DeflateStream reads them: compressed input expands, so one refill feeds
    // several of the inflater's 16 KiB output chunks.
    private const int InputBufferSize = 8 * 1024;

    private readonly Stream _source;
    private BrotliDecoder _decoder;
    private byte[]? _input = ArrayPool<byte>.Shared.Rent(InputBufferSize);
    private int _start;
    private int _end;
    private bool _sourceEnded;
    private bool _finished;

    public BrotliReadStream(Stream source) => _source = source;

    /// <summary>
    /// How the Brotli stream ended: <see cref="DecodeStatus.Done"/> once its last meta-block is decoded,
    /// <see cref="DecodeStatus.Malformed"/> if it was invalid or truncated. Meaningful once a read has returned 0.
    /// </summary>
    public DecodeStatus Status { get; private set; } = DecodeStatus.Malformed;

    public override int Read(Span<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_input is null, this);
        if (buffer.IsEmpty || _finished)
        {
            return 0;
        }

        while (true)
        {
            if (_start == _end && !_sourceEnded)
            {
                _start = 0;
                _end = _source.Read(_input);
                _sourceEnded = _end == 0;
            }

            var status = _decoder.Decompress(_input.AsSpan(_start, _end - _start), buffer, out var consumed, out var written);
            _start += consumed;
            switch (status)
            {
                case OperationStatus.Done:
                    Status = DecodeStatus.Done;
                    _finished = true;
                    return written;
                case OperationStatus.DestinationTooSmall:
                    Debug.Assert(written > 0, "A decoder that needs more room has written something.");
                    return written;
                case OperationStatus.NeedMoreData when written > 0:
                    return written;
                case OperationStatus.NeedMoreData when !_sourceEnded && _start == _end:
                    continue;
                default:
                    // Invalid data, or truncated: the source ended (or left input the decoder would not take) mid-stream.
                    Status = DecodeStatus.Malformed;
                    _finished = true;
                    return written;
            }
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && _input is not null)
        {
            _decoder.Dispose();
            ArrayPool<byte>.Shared.Return(_input);
            _input = null;
        }
        base.Dispose(disposing);
    }
}
