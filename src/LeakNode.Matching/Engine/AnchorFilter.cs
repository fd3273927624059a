using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace LeakNode.Matching.Engine;

/// <summary>
/// A register-blocked Bloom filter over anchor hashes: each anchor sets 3 bits of one 64-bit word, so a probe
/// costs one load. Sized to a power of two of at least <see cref="BitsPerAnchor"/> bits an anchor (16 in large filters).
/// </summary>
/// <remarks>
/// <para>
/// Sizing: with b bits an anchor, a word holds 64/b anchors on average and a probe of an absent window passes
/// with probability about (1 − e^(−3·64/b/64))^3: 0.5 % at b = 16, 0.1 % at b = 32. Rounding the word count up
/// to a power of two puts b between 16 and 32 and lets the word index be one shift. A pass costs a table
/// lookup, a cache miss once the table outgrows the cache, so the rate matters more than the bytes.
/// </para>
/// <para>
/// The word index comes from the high bits of the anchor hash and the three bit positions from the high bits
/// of the hash times an odd constant, so they do not repeat each other even when the index uses 21 of the
/// 32 bits (a million tokens). Everything derives from the 32-bit hash alone, which is all a table entry keeps:
/// that is what lets a compaction rebuild the filter from the table.
/// </para>
/// <para>
/// Filters only ever gain bits. An update that adds a leak sets its bits in place (atomically), in the filter
/// that earlier versions share: they only see a few more false positives, never a missed token. Removed leaks
/// keep their bits until the next compaction.
/// </para>
/// </remarks>
internal sealed class AnchorFilter
{
    /// <summary>Filter bits an anchor gets while the filter stays within <see cref="CacheFriendlyBytes"/>.</summary>
    public const int BitsPerAnchor = 24;

    /// <summary>Filter bits an anchor gets in a filter too large for <see cref="BitsPerAnchor"/>.</summary>
    public const int BitsPerAnchorLarge = 16;

    /// <summary>
    /// 4 MiB: a filter up to this size shares the L3 cache with the traffic and the table comfortably, so it
    /// gets 24 bits an anchor and fewer false passes. Above it (about 170k tokens) each probe misses the cache
    /// anyway and a filter twice the size costs more misses than its fewer passes save: at 1M tokens 24 bits
    /// scanned 10 % slower than 16 (QuickScan). Measured in bench/README.md.
    /// </summary>
    public const long CacheFriendlyBytes = 4L << 20;

    /// <summary>Multiplier for the bit positions: 2^32 / φ, odd, the usual Fibonacci-hashing constant.</summary>
    internal const uint PositionMultiplier = 0x9E3779B1u;

    private readonly ulong[] _words;
    private long _anchors;

    private AnchorFilter(int wordBits, long designAnchors)
    {
        _words = new ulong[1 << wordBits];
        Shift = 32 - wordBits;
        DesignAnchors = designAnchors;
    }

    /// <summary>The words; the scanner's hot loop indexes them directly.</summary>
    public ulong[] Words => _words;

    /// <summary>Right shift from an anchor hash to its word index.</summary>
    public int Shift { get; }

    /// <summary>The anchor count the filter was sized for.</summary>
    public long DesignAnchors { get; }

    /// <summary>Anchors added since the filter was built (removed ones included: their bits stay).</summary>
    public long Anchors => Interlocked.Read(ref _anchors);

    public long Bytes => (long)_words.Length * sizeof(ulong);

    public static AnchorFilter ForAnchors(long anchors) => new(WordBits(anchors), anchors);

    /// <summary>The size of a filter for this many anchors.</summary>
    public static long ForAnchorsBytes(long anchors) => (1L << WordBits(anchors)) * sizeof(ulong);

    private static int WordBits(long anchors)
    {
        var words = Math.Max(8, ((anchors * BitsPerAnchor) + 63) / 64);
        if (BitOperations.RoundUpToPowerOf2((ulong)words) * sizeof(ulong) > CacheFriendlyBytes)
        {
            words = Math.Max(8, ((anchors * BitsPerAnchorLarge) + 63) / 64);
        }
        var wordBits = BitOperations.Log2(BitOperations.RoundUpToPowerOf2((ulong)words));
        // 2^28 words (2 GiB) is far above any accepted rule set: MatcherLimits refuses the set before this.
        Debug.Assert(wordBits <= 28);
        return wordBits;
    }

    /// <summary>The bits an anchor hash sets in its word.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong BitMask(uint hash)
    {
        var x = hash * PositionMultiplier;
        // Shift counts of 64-bit shifts are taken mod 64 in C# as in the hardware: no masking needed.
        return (1UL << (int)(x >> 26)) | (1UL << (int)(x >> 20)) | (1UL << (int)(x >> 14));
    }

    public void Add(uint hash)
    {
        Interlocked.Or(ref _words[hash >> Shift], BitMask(hash));
        Interlocked.Increment(ref _anchors);
    }

    /// <summary>Adds the hashes of entries to a filter no reader can see yet (no atomics needed).</summary>
    public void AddBuilding(ReadOnlySpan<ulong> entries)
    {
        foreach (var entry in entries)
        {
            var hash = AnchorTable.HashOf(entry);
            _words[hash >> Shift] |= BitMask(hash);
        }
        _anchors += entries.Length;
    }

    public bool MayContain(uint hash)
    {
        var mask = BitMask(hash);
        return (Volatile.Read(ref _words[hash >> Shift]) & mask) == mask;
    }
}
