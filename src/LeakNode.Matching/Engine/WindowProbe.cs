using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using LeakNode.Matching.Digests;

namespace LeakNode.Matching.Engine;

/// <summary>
/// The hot loops: hash the window at every stride-th position of a chunk and test the group's filter, writing
/// each pass (index and hash) to a small buffer that the caller hands to the table. One portable scalar loop,
/// and AVX2 loops that probe four windows at a time for the two wide-stride groups.
/// </summary>
/// <remarks>
/// <para>
/// Passes are collected, not handled inside the loop: a call in the loop makes the JIT spill the loop's
/// invariants and reload them every iteration (2.2 GB/s with the call against 2.5 without, scalar, N = 1k).
/// The loops stop when the buffer is full, which only a token-dense or crafted input does.
/// </para>
/// <para>
/// The methods are <see cref="MethodImplOptions.AggressiveOptimization"/>: a scanner spends almost all its time
/// here from the first request on, and tiered compilation would otherwise run them as on-stack-replaced tier-0
/// code (0.8 GB/s) until the call counts promote them. They make no calls that PGO could improve.
/// </para>
/// <para>
/// Reads use <see cref="Unsafe"/>: the loop bound keeps every read inside the chunk and the word index is the
/// hash's top bits, always below the filter size; the bounds checks the JIT cannot drop cost about 15 % in the
/// scalar loop (QuickScan, N = 10k).
/// </para>
/// </remarks>
internal static class WindowProbe
{
    /// <summary>Passes buffered before the caller drains them.</summary>
    public const int PassBuffer = 32;

    /// <summary>
    /// Which loop to use, for tests and benchmarks that compare them; null (the default) picks by machine and
    /// filter size. Thread-static, so that a test forcing a loop does not change the scans of other tests.
    /// </summary>
    [ThreadStatic]
    private static ProbeMode? t_mode;

    public static ProbeMode? Mode
    {
        get => t_mode;
        set => t_mode = value;
    }

    /// <summary>
    /// Filters larger than the L2 cache (512 KiB a core here, 1–2 MiB on newer cores) are probed with the
    /// prefetching loop; below that it only adds work (6.3 against 5.2 GB/s at 1k tokens, QuickScan).
    /// </summary>
    private const long PrefetchAboveBytes = 1L << 20;

    /// <summary>Encodes a pass: the hash in the high half, the chunk index in the low half.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Pass(uint hash, int index) => ((ulong)hash << 32) | (uint)index;

    /// <summary>
    /// Probes from index <paramref name="i"/> while an 8-byte read at the index stays in the chunk, until the
    /// pass buffer is full. Returns the next index to probe; <paramref name="count"/> passes were written.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Run(AnchorGroup group, uint key0, uint key1, ReadOnlySpan<byte> chunk, int i, Span<ulong> passes, out int count)
    {
        Debug.Assert(passes.Length == PassBuffer);
        count = 0;
        var mode = t_mode ?? (Avx2.IsSupported ? (group.Filter.Bytes > PrefetchAboveBytes ? ProbeMode.Avx2Prefetch : ProbeMode.Avx2) : ProbeMode.Scalar);
        if (mode != ProbeMode.Scalar && Avx2.IsSupported)
        {
            if (group.Stride == 8 && mode == ProbeMode.Avx2Prefetch)
            {
                i = Avx2Stride8Prefetched(chunk, i, group.WindowMask, key0, key1, group.Filter.Words, group.Filter.Shift, passes, ref count);
            }
            else if (group.Stride == 8)
            {
                i = mode == ProbeMode.Avx2Gather
                    ? Avx2Stride8<GatherLoad>(chunk, i, group.WindowMask, key0, key1, group.Filter.Words, group.Filter.Shift, passes, ref count)
                    : Avx2Stride8<WordLoads>(chunk, i, group.WindowMask, key0, key1, group.Filter.Words, group.Filter.Shift, passes, ref count);
            }
            else if (group.Stride == 4)
            {
                i = mode == ProbeMode.Avx2Gather
                    ? Avx2Stride4<GatherLoad>(chunk, i, group.WindowMask, key0, key1, group.Filter.Words, group.Filter.Shift, passes, ref count)
                    : Avx2Stride4<WordLoads>(chunk, i, group.WindowMask, key0, key1, group.Filter.Words, group.Filter.Shift, passes, ref count);
            }
            if (count == passes.Length)
            {
                return i;
            }
        }
        return Scalar(chunk, i, group.Stride, group.WindowMask, key0, key1, group.Filter.Words, group.Filter.Shift, passes, ref count);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Scalar(
        ReadOnlySpan<byte> chunk, int i, int stride, ulong mask, uint key0, uint key1,
        ulong[] words, int shift, Span<ulong> passes, ref int count)
    {
        ref var data = ref MemoryMarshal.GetReference(chunk);
        ref var filter = ref MemoryMarshal.GetArrayDataReference(words);
        var last = chunk.Length - sizeof(ulong);
        var found = count;
        for (; i <= last; i += stride)
        {
            var window = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref data, i));
            if (!BitConverter.IsLittleEndian)
            {
                window = BinaryPrimitives.ReverseEndianness(window);
            }
            var hash = WindowHash.Hash(window & mask, key0, key1);
            var bits = AnchorFilter.BitMask(hash);
            if ((Unsafe.Add(ref filter, (nint)(hash >> shift)) & bits) == bits)
            {
                passes[found++] = Pass(hash, i);
                if (found == passes.Length)
                {
                    i += stride;
                    break;
                }
            }
        }
        count = found;
        return i;
    }

    /// <summary>Stride 8: one 32-byte load holds the four windows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe int Avx2Stride8<TLoad>(
        ReadOnlySpan<byte> chunk, int i, ulong mask, uint key0, uint key1,
        ulong[] words, int shift, Span<ulong> passes, ref int count)
        where TLoad : struct, IWordLoad
    {
        ref var data = ref MemoryMarshal.GetReference(chunk);
        var last = chunk.Length - Vector256<byte>.Count;
        var state = new State(mask, key0, key1);
        fixed (ulong* filter = words)
        {
            // Two rows an iteration: the second row's loads and multiplies overlap the first's (+4 % at 1k and 10k).
            for (; i <= last - 32; i += 64)
            {
                var windowsA = Vector256.LoadUnsafe(ref Unsafe.Add(ref data, i)).AsUInt64();
                var windowsB = Vector256.LoadUnsafe(ref Unsafe.Add(ref data, i + 32)).AsUInt64();
                var hitsA = state.Test<TLoad>(windowsA, filter, shift, out var hashesA);
                var hitsB = state.Test<TLoad>(windowsB, filter, shift, out var hashesB);
                if ((hitsA | hitsB) != 0)
                {
                    if (hitsA != 0 && Record(hitsA, hashesA, i, 8, passes, ref count))
                    {
                        return i + 32;
                    }
                    if (hitsB != 0 && Record(hitsB, hashesB, i + 32, 8, passes, ref count))
                    {
                        return i + 64;
                    }
                }
            }
            for (; i <= last; i += 32)
            {
                var windows = Vector256.LoadUnsafe(ref Unsafe.Add(ref data, i)).AsUInt64();
                var hits = state.Test<TLoad>(windows, filter, shift, out var hashes);
                if (hits != 0 && Record(hits, hashes, i, 8, passes, ref count))
                {
                    return i + 32;
                }
            }
        }
        return i;
    }

    /// <summary>
    /// Stride 8 for filters that do not fit the core's caches: hashes a block of windows first, prefetching the
    /// filter word of each, then tests the block, so the filter's cache misses overlap instead of queueing.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe int Avx2Stride8Prefetched(
        ReadOnlySpan<byte> chunk, int i, ulong mask, uint key0, uint key1,
        ulong[] words, int shift, Span<ulong> passes, ref int count)
    {
        ref var data = ref MemoryMarshal.GetReference(chunk);
        var state = new State(mask, key0, key1);
        var hashes = default(HashBlock);
        var indices = default(HashBlock);
        var shiftCount = Vector128.CreateScalar((ulong)shift);
        const int BlockBytes = HashBlock.Length * 32;
        fixed (ulong* filter = words)
        {
            var index = (ulong*)Unsafe.AsPointer(ref Unsafe.As<HashBlock, ulong>(ref indices));
            for (; i + BlockBytes <= chunk.Length; i += BlockBytes)
            {
                // Hash the block and start every filter word's cache miss; the indices go through memory (four
                // scalar reloads of a vector store) rather than being extracted twice from registers.
                for (var k = 0; k < HashBlock.Length; k++)
                {
                    var windows = Vector256.LoadUnsafe(ref Unsafe.Add(ref data, i + (k * 32))).AsUInt64();
                    var hash = state.Hash(windows);
                    hashes[k] = hash;
                    indices[k] = Avx2.ShiftRightLogical(hash, shiftCount);
                    var row = index + (k * 4);
                    Sse.Prefetch0(filter + row[0]);
                    Sse.Prefetch0(filter + row[1]);
                    Sse.Prefetch0(filter + row[2]);
                    Sse.Prefetch0(filter + row[3]);
                }
                for (var k = 0; k < HashBlock.Length; k++)
                {
                    var row = index + (k * 4);
                    var gathered = Vector256.Create(filter[row[0]], filter[row[1]], filter[row[2]], filter[row[3]]);
                    var hits = state.TestWords(hashes[k], gathered);
                    if (hits != 0 && Record(hits, hashes[k], i + (k * 32), 8, passes, ref count))
                    {
                        // Stop after this row; the rows after it are probed again by the next call.
                        return i + ((k + 1) * 32);
                    }
                }
            }
        }
        return Avx2Stride8<WordLoads>(chunk, i, mask, key0, key1, words, shift, passes, ref count);
    }

    [InlineArray(Length)]
    private struct HashBlock
    {
        public const int Length = 16;
        private Vector256<ulong> _element;
    }

    /// <summary>Stride 4: one 32-byte load, and a dword permutation lays out windows at 0, 4, 8 and 12.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe int Avx2Stride4<TLoad>(
        ReadOnlySpan<byte> chunk, int i, ulong mask, uint key0, uint key1,
        ulong[] words, int shift, Span<ulong> passes, ref int count)
        where TLoad : struct, IWordLoad
    {
        ref var data = ref MemoryMarshal.GetReference(chunk);
        var last = chunk.Length - Vector256<byte>.Count;
        var state = new State(mask, key0, key1);
        var layout = Vector256.Create(0u, 1, 1, 2, 2, 3, 3, 4);
        fixed (ulong* filter = words)
        {
            for (; i <= last; i += 16)
            {
                var bytes = Vector256.LoadUnsafe(ref Unsafe.Add(ref data, i)).AsUInt32();
                var windows = Avx2.PermuteVar8x32(bytes, layout).AsUInt64();
                var hits = state.Test<TLoad>(windows, filter, shift, out var hashes);
                if (hits != 0 && Record(hits, hashes, i, 4, passes, ref count))
                {
                    return i + 16;
                }
            }
        }
        return i;
    }

    private static bool Record(int hits, Vector256<ulong> hashes, int i, int stride, Span<ulong> passes, ref int count)
    {
        for (; hits != 0; hits &= hits - 1)
        {
            var lane = System.Numerics.BitOperations.TrailingZeroCount(hits);
            passes[count++] = Pass((uint)hashes.GetElement(lane), i + (lane * stride));
        }
        // Four lanes at most were added: stop while four more still fit.
        return count > passes.Length - 4;
    }

    /// <summary>Fetches the four filter words the indices select.</summary>
    internal interface IWordLoad
    {
        static abstract unsafe Vector256<ulong> Load(ulong* filter, Vector256<ulong> indices);
    }

    /// <summary>
    /// Four scalar loads: on AMD Zen 3 they beat <c>vpgatherqq</c> by about 6 % (QuickScan), as the gather
    /// is micro-coded there. Intel cores since Skylake gather faster; measure before switching.
    /// </summary>
    private readonly struct WordLoads : IWordLoad
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static unsafe Vector256<ulong> Load(ulong* filter, Vector256<ulong> indices)
        {
            var low = indices.GetLower();
            var high = indices.GetUpper();
            return Vector256.Create(
                Vector128.Create(filter[low.ToScalar()], filter[low.GetElement(1)]),
                Vector128.Create(filter[high.ToScalar()], filter[high.GetElement(1)]));
        }
    }

    /// <summary>One <c>vpgatherqq</c>.</summary>
    private readonly struct GatherLoad : IWordLoad
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static unsafe Vector256<ulong> Load(ulong* filter, Vector256<ulong> indices) =>
            Avx2.GatherVector256((long*)filter, indices.AsInt64(), 8).AsUInt64();
    }

    /// <summary>The loop invariants of the AVX2 probes, and the four-window test.</summary>
    private readonly struct State(ulong mask, uint key0, uint key1)
    {
        private readonly Vector256<ulong> _mask = Vector256.Create(mask);
        private readonly Vector256<uint> _keys = Vector256.Create(((ulong)key1 << 32) | key0).AsUInt32();
        private readonly Vector256<ulong> _lowHalf = Vector256.Create(0xFFFF_FFFFUL);
        private readonly Vector256<uint> _positionMultiplier = Vector256.Create(AnchorFilter.PositionMultiplier);
        private readonly Vector256<uint> _sixBits = Vector256.Create(63u);
        private readonly Vector256<ulong> _one = Vector256.Create(1UL);

        /// <summary>
        /// Hashes four windows exactly as <see cref="WindowHash.Hash"/> does and tests them as
        /// <see cref="AnchorFilter"/> does; returns a bit per lane whose filter test passed.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public unsafe int Test<TLoad>(Vector256<ulong> windows, ulong* filter, int shift, out Vector256<ulong> hashes)
            where TLoad : struct, IWordLoad
        {
            hashes = Hash(windows);
            return TestHashes<TLoad>(hashes, filter, shift);
        }

        /// <summary>NH: (low + key0) × (high + key1) as 32×32→64 products (vpmuludq), folded to 32 bits.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<ulong> Hash(Vector256<ulong> windows)
        {
            var sums = Avx2.Add((windows & _mask).AsUInt32(), _keys);
            var products = Avx2.Multiply(sums, Avx2.ShiftRightLogical(sums.AsUInt64(), 32).AsUInt32());
            return (products ^ Avx2.ShiftRightLogical(products, 32)) & _lowHalf;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public unsafe int TestHashes<TLoad>(Vector256<ulong> hashes, ulong* filter, int shift)
            where TLoad : struct, IWordLoad
        {
            // The word each hash selects, fetched with one gather.
            var indices = Avx2.ShiftRightLogical(hashes, Vector128.CreateScalar((ulong)shift));
            return TestWords(hashes, TLoad.Load(filter, indices));
        }

        /// <summary>Tests four hashes against the filter words they select.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int TestWords(Vector256<ulong> hashes, Vector256<ulong> gathered)
        {
            // The three bit positions from the hash times the Fibonacci constant (the high dwords stay zero).
            var x = Avx2.MultiplyLow(hashes.AsUInt32(), _positionMultiplier);
            var p1 = Avx2.ShiftRightLogical(x, 26).AsUInt64();
            var p2 = (Avx2.ShiftRightLogical(x, 20) & _sixBits).AsUInt64();
            var p3 = (Avx2.ShiftRightLogical(x, 14) & _sixBits).AsUInt64();
            var bits = Avx2.ShiftLeftLogicalVariable(_one, p1) | Avx2.ShiftLeftLogicalVariable(_one, p2) | Avx2.ShiftLeftLogicalVariable(_one, p3);

            var passed = Avx2.CompareEqual(gathered & bits, bits);
            return Avx.MoveMask(passed.AsDouble());
        }
    }
}

/// <summary>The probe loops, for tests and benchmarks that force one.</summary>
internal enum ProbeMode
{
    /// <summary>The portable loop, one window at a time.</summary>
    Scalar,

    /// <summary>Four windows at a time, filter words loaded one by one.</summary>
    Avx2,

    /// <summary>Four windows at a time, filter words fetched with one gather instruction (slower on AMD Zen 3).</summary>
    Avx2Gather,

    /// <summary>A block of windows hashed ahead with their filter words prefetched (for filters beyond L2).</summary>
    Avx2Prefetch,
}
