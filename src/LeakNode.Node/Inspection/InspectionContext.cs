using System.Buffers;
using LeakNode.Matching;
using Microsoft.Extensions.ObjectPool;

namespace LeakNode.Node.Inspection;

/// <summary>
/// The per-request working set of inspection, pooled so that a clean request allocates (almost) nothing: the
/// scan block for target and headers, the detections, and a scratch buffer for decoders.
/// </summary>
internal sealed class InspectionContext
{
    public ScanBlock Block { get; } = new();

    public Detections Detections { get; } = new();

    /// <summary>A scratch buffer for streaming decoders: at least a read chunk plus an escape held over.</summary>
    public byte[] Scratch { get; private set; } = ArrayPool<byte>.Shared.Rent(32 * 1024);

    /// <summary>Whether a malformed encoding was met (the raw bytes were inspected all the same).</summary>
    public bool Malformed { get; set; }

    public byte[] ScratchFor(int length)
    {
        if (Scratch.Length < length)
        {
            ArrayPool<byte>.Shared.Return(Scratch);
            Scratch = ArrayPool<byte>.Shared.Rent(length);
        }
        return Scratch;
    }

    public void Clear()
    {
        Block.Clear();
        Detections.Clear();
        Malformed = false;
    }

    public sealed class Policy : PooledObjectPolicy<InspectionContext>
    {
        public override InspectionContext Create() => new();

        public override bool Return(InspectionContext context)
        {
            context.Clear();
            // A context that grew for one huge request is dropped rather than kept at that size.
            return context.Scratch.Length <= 256 * 1024 && context.Block.Length <= 256 * 1024;
        }
    }
}

/// <summary>Records each match of a scan under one location.</summary>
internal readonly struct LocationSink(Detections detections, string location, bool generic) : IMatchSink
{
    public void OnMatch(in TokenMatch match) => detections.Add(match, location, generic);
}
