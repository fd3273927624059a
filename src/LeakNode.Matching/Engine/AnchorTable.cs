using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace LeakNode.Matching.Engine;

/// <summary>
/// Maps an anchor hash to the (token, anchor number) pairs that have it. Consulted only after the filter
/// passes a probe. Linear probing inside fixed pages of 4096 entries, each entry 8 bytes:
/// <c>hash:32 | token+1:29 | anchor:3</c>, zero when empty. Pages are copied on write, so an update costs the
/// pages it touches and readers of earlier versions keep theirs.
/// </summary>
/// <remarks>
/// The entry keeps the whole 32-bit anchor hash, and the page and slot derive from that hash alone: an entry
/// can be moved to a bigger table, or into a fresh filter, without the digest it came from. The hash also
/// serves as the check before the HMAC: a filter pass on a window that is not an anchor meets an equal hash
/// with probability about 2^-32 per entry, so HMACs run on real window matches only.
/// </remarks>
internal sealed class AnchorTable
{
    /// <summary>
    /// Pages of 4096 entries (32 KiB): an update copies whole pages, so small ones keep it cheap. A table that
    /// needs less than one such page gets one smaller page, a power of two of at least 256 entries, so that a small
    /// group (a few short tokens) does not hold 32 KiB.
    /// </summary>
    private const int MaxPageBits = 12;
    private const int MinPageBits = 8;

    /// <summary>A build fills pages to three quarters: probe runs stay short (about 2.5 entries on a miss).</summary>
    private const int BuildLoadPercent = 75;


    /// <summary>Spreads slots independently of the page index: the murmur3 32-bit finaliser constant.</summary>
    private const uint SlotMultiplier = 0x85EBCA6Bu;

    internal const int MaxTokenIndex = (1 << 29) - 2;

    /// <summary>Above this overall load an update grows the table instead of spilling into the overflow.</summary>
    private const int GrowLoadPercent = 85;

    private readonly int _pageBits;
    private readonly ulong[][] _pages;
    private readonly int[] _pageCounts;
    private readonly bool[] _owned;
    private Dictionary<uint, ulong[]>? _overflow;
    private bool _overflowOwned;
    private bool _frozen;
    private long _count;

    private AnchorTable((int Count, int Bits) pages)
    {
        _pageBits = pages.Bits;
        _pages = new ulong[pages.Count][];
        _pageCounts = new int[pages.Count];
        _owned = new bool[pages.Count];
        for (var i = 0; i < pages.Count; i++)
        {
            _pages[i] = new ulong[PageSize];
            _owned[i] = true;
        }
    }

    private AnchorTable(AnchorTable source)
    {
        _pageBits = source._pageBits;
        _pages = (ulong[][])source._pages.Clone();
        _pageCounts = (int[])source._pageCounts.Clone();
        _owned = new bool[_pages.Length];
        _overflow = source._overflow;
        _count = source._count;
    }

    public long Count => _count;

    /// <summary>Entries a page.</summary>
    public int PageSize => 1 << _pageBits;

    /// <summary>The mask that wraps a slot index inside a page.</summary>
    public int SlotMask => PageSize - 1;

    /// <summary>An update may fill a page up to 15/16 before the table grows.</summary>
    private int MaxPageLoad => PageSize - (PageSize / 16);

    public int PageCount => _pages.Length;

    public long Bytes => ((long)_pages.Length * PageSize * sizeof(ulong)) + ((long)_pages.Length * (sizeof(int) + IntPtr.Size + 1));

    public static AnchorTable ForAnchors(long anchors) => new(PagesFor(anchors));

    /// <summary>The size of a table built for this many anchors.</summary>
    public static long ForAnchorsBytes(long anchors)
    {
        var (count, bits) = PagesFor(anchors);
        return (long)count << bits << 3;
    }

    private static (int Count, int Bits) PagesFor(long anchors)
    {
        var slots = Math.Max(1, anchors * 100 / BuildLoadPercent);
        if (slots <= 1 << MaxPageBits)
        {
            var bits = Math.Clamp(System.Numerics.BitOperations.Log2(System.Numerics.BitOperations.RoundUpToPowerOf2((ulong)slots)), MinPageBits, MaxPageBits);
            return (1, bits);
        }
        return ((int)((slots + (1 << MaxPageBits) - 1) >> MaxPageBits), MaxPageBits);
    }

    public AnchorTable Fork() => new(this);

    public void Freeze() => _frozen = true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Entry(uint hash, int token, int anchor)
    {
        Debug.Assert((uint)token <= MaxTokenIndex && (uint)anchor < 8);
        return ((ulong)hash << 32) | ((uint)(token + 1) << 3) | (uint)anchor;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint HashOf(ulong entry) => (uint)(entry >> 32);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int TokenOf(ulong entry) => (int)(((uint)entry >> 3) - 1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int AnchorOf(ulong entry) => (int)(entry & 7);

    /// <summary>The page that holds entries of this hash, and the slot where its probe run starts.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong[] Page(uint hash, out int slot)
    {
        slot = (int)((hash * SlotMultiplier) >> (32 - _pageBits));
        return _pages[PageIndex(hash)];
    }

    /// <summary>
    /// Entries that did not fit their page: only when many anchors share one hash (the same token in many
    /// leaks, or windows a whole token family shares), since random hashes fill pages evenly. Null when none.
    /// </summary>
    public Dictionary<uint, ulong[]>? Overflow => _overflow;

    /// <summary>Asks the cache for the line where a lookup of this hash starts (a hint; nothing is read).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe void Prefetch(uint hash)
    {
        if (System.Runtime.Intrinsics.X86.Sse.IsSupported)
        {
            var page = Page(hash, out var slot);
            // A pointer to a movable array is safe here: a prefetch of a stale address only wastes the hint.
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(Unsafe.AsPointer(ref page[slot]));
        }
    }

    /// <summary>How many entries have this hash (the matcher avoids anchors many tokens share).</summary>
    public int CountOf(uint hash)
    {
        var page = Page(hash, out var slot);
        var count = 0;
        for (var entry = page[slot]; entry != 0; entry = page[slot = (slot + 1) & SlotMask])
        {
            if (HashOf(entry) == hash)
            {
                count++;
            }
        }
        if (_overflow is not null && _overflow.TryGetValue(hash, out var spilled))
        {
            count += spilled.Length;
        }
        return count;
    }

    /// <summary>Adds an entry. False when the table is too full: the caller grows it.</summary>
    public bool TryAdd(ulong entry)
    {
        if (_frozen)
        {
            throw new InvalidOperationException("A published table is read-only; fork it to change it.");
        }

        var hash = HashOf(entry);
        var pageIndex = PageIndex(hash);
        if (_pageCounts[pageIndex] >= MaxPageLoad)
        {
            if (_count * 100 >= (long)_pages.Length * PageSize * GrowLoadPercent)
            {
                return false;
            }
            Spill(hash, entry);
            return true;
        }

        if (!_owned[pageIndex])
        {
            _pages[pageIndex] = (ulong[])_pages[pageIndex].Clone();
            _owned[pageIndex] = true;
        }

        var page = _pages[pageIndex];
        var slot = (int)((hash * SlotMultiplier) >> (32 - _pageBits));
        while (page[slot] != 0)
        {
            slot = (slot + 1) & SlotMask;
        }
        page[slot] = entry;
        _pageCounts[pageIndex]++;
        _count++;
        return true;
    }

    private void Spill(uint hash, ulong entry)
    {
        if (!_overflowOwned)
        {
            _overflow = _overflow is null ? [] : new Dictionary<uint, ulong[]>(_overflow);
            _overflowOwned = true;
        }
        _overflow![hash] = _overflow.TryGetValue(hash, out var spilled) ? [.. spilled, entry] : [entry];
        _count++;
    }

    /// <summary>Every entry, in page order, then the overflow.</summary>
    public IEnumerable<ulong> Entries()
    {
        foreach (var page in _pages)
        {
            foreach (var entry in page)
            {
                if (entry != 0)
                {
                    yield return entry;
                }
            }
        }
        if (_overflow is not null)
        {
            foreach (var spilled in _overflow.Values)
            {
                foreach (var entry in spilled)
                {
                    yield return entry;
                }
            }
        }
    }

    /// <summary>
    /// The entries ordered by page (a counting sort), so that inserting them touches one page at a time. The
    /// page index grows with the hash, so this is also hash order.
    /// </summary>
    public ulong[] SortByPage(ReadOnlySpan<ulong> entries)
    {
        var starts = new int[_pages.Length + 1];
        foreach (var entry in entries)
        {
            starts[PageIndex(HashOf(entry)) + 1]++;
        }
        for (var p = 1; p < starts.Length; p++)
        {
            starts[p] += starts[p - 1];
        }
        var sorted = new ulong[entries.Length];
        foreach (var entry in entries)
        {
            sorted[starts[PageIndex(HashOf(entry))]++] = entry;
        }
        return sorted;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int PageIndex(uint hash) => (int)(((ulong)hash * (uint)_pages.Length) >> 32);

    /// <summary>Adds an entry to a table being built, which is sized so that it never needs to grow.</summary>
    public void Add(ulong entry)
    {
        if (!TryAdd(entry))
        {
            throw new InvalidOperationException("An anchor table was sized too small for its build.");
        }
    }

    /// <summary>A table with room for <paramref name="anchors"/> at build load, holding the entries <paramref name="keep"/> maps to a token.</summary>
    public AnchorTable Rebuilt(long anchors, Func<int, int> keep)
    {
        var table = ForAnchors(anchors);
        foreach (var entry in Entries())
        {
            var token = keep(TokenOf(entry));
            if (token >= 0)
            {
                table.Add(Entry(HashOf(entry), token, AnchorOf(entry)));
            }
        }
        return table;
    }
}
