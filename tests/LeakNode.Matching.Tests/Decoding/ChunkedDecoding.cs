using LeakNode.Matching.Decoding;

namespace LeakNode.Matching.Tests.Decoding;

/// <summary>One call of a streaming decoder (PercentDecoder.DecodeChunk, JsonEscapeDecoder.DecodeChunk).</summary>
public delegate DecodeStatus DecodeChunk(ReadOnlySpan<byte> source, Span<byte> destination, out int written, bool isFinalBlock);

/// <summary>Runs a streaming decoder over an input cut into chunks, as the node feeds a body.</summary>
public static class ChunkedDecoding
{
    /// <summary>
    /// Decodes <paramref name="input"/> cut at <paramref name="cuts"/> (ascending offsets), then ends the stream with
    /// an empty final block. Each destination is exactly as large as the decoder says it needs (chunk length plus its
    /// pending bytes), so a decoder that writes more than it promised fails here.
    /// </summary>
    public static (byte[] Output, DecodeStatus Status) Run(DecodeChunk decode, Func<int> pendingBytes, int maxPending, byte[] input, IEnumerable<int> cuts)
    {
        var output = new List<byte>(input.Length);
        var malformed = false;
        var start = 0;
        foreach (var cut in cuts.Append(input.Length))
        {
            Step(input.AsSpan(start, cut - start), isFinalBlock: false);
            start = cut;
        }
        Step([], isFinalBlock: true);
        Assert.Equal(0, pendingBytes());
        Assert.True(output.Count <= input.Length, "decoding expanded the input");
        return ([.. output], malformed ? DecodeStatus.Malformed : DecodeStatus.Done);

        void Step(ReadOnlySpan<byte> chunk, bool isFinalBlock)
        {
            var pending = pendingBytes();
            Assert.InRange(pending, 0, maxPending);
            var destination = new byte[chunk.Length + pending];
            malformed |= decode(chunk, destination, out var written, isFinalBlock) == DecodeStatus.Malformed;
            output.AddRange(destination.AsSpan(0, written));
        }
    }

    /// <summary>Every way to cut the input into two chunks, including an empty first or last chunk.</summary>
    public static IEnumerable<int[]> TwoChunks(int length) => Enumerable.Range(0, length + 1).Select(cut => new[] { cut });

    public static int[] OneByteChunks(int length) => [.. Enumerable.Range(1, Math.Max(0, length - 1))];

    /// <summary>Random cuts, empty chunks included.</summary>
    public static int[] RandomCuts(Random random, int length, int maxChunk)
    {
        var cuts = new List<int>();
        for (var offset = random.Next(0, maxChunk + 1); offset < length; offset += random.Next(0, maxChunk + 1))
        {
            cuts.Add(offset);
        }
        return [.. cuts];
    }
}
