namespace LeakNode.Matching.Engine;

/// <summary>
/// Finds a leak's index from its id, for applying deltas. Open addressing over leak indices, compared against
/// the ids in the <see cref="IdStore"/>: four bytes a slot instead of a dictionary entry plus a string per leak.
/// Each version owns its map; an update clones it (a memory copy, milliseconds at a million leaks).
/// </summary>
internal sealed class LeakIdMap
{
    private int[] _slots;
    private int _count;

    public LeakIdMap(int capacity)
    {
        _slots = new int[SlotsFor(capacity)];
    }

    private LeakIdMap(int[] slots, int count)
    {
        _slots = slots;
        _count = count;
    }

    public long Bytes => (long)_slots.Length * sizeof(int);

    /// <summary>The size of a map built for this many leaks.</summary>
    public static long BytesFor(long leaks) => (long)SlotsFor((int)Math.Min(leaks, int.MaxValue / 4)) * sizeof(int);

    public LeakIdMap Clone() => new((int[])_slots.Clone(), _count);

    /// <summary>The index of the live-or-removed leak with this id, or -1.</summary>
    public int Find(string id, IdStore ids, PagedStore<LeakRecord> leaks)
    {
        Span<byte> scratch = stackalloc byte[1024];
        var hash = IdStore.Hash(id, scratch, out var utf8);
        var slot = FindSlot(hash, utf8, ids, leaks);
        return _slots[slot] - 1;
    }

    /// <summary>Points the id at a leak index, replacing an earlier leak of the same id.</summary>
    public void Set(int leakIndex, IdStore ids, PagedStore<LeakRecord> leaks)
    {
        if ((_count + 1) * 2 > _slots.Length)
        {
            Grow(ids, leaks);
        }

        var utf8 = ids.Utf8(leaks[leakIndex].IdRef);
        var slot = FindSlot(IdStore.Hash(utf8), utf8, ids, leaks);
        if (_slots[slot] == 0)
        {
            _count++;
        }
        _slots[slot] = leakIndex + 1;
    }

    private int FindSlot(int hash, ReadOnlySpan<byte> utf8, IdStore ids, PagedStore<LeakRecord> leaks)
    {
        var mask = _slots.Length - 1;
        var slot = hash & mask;
        while (true)
        {
            var entry = _slots[slot];
            if (entry == 0 || ids.Utf8(leaks[entry - 1].IdRef).SequenceEqual(utf8))
            {
                return slot;
            }
            slot = (slot + 1) & mask;
        }
    }

    private void Grow(IdStore ids, PagedStore<LeakRecord> leaks)
    {
        var old = _slots;
        _slots = new int[old.Length * 2];
        var mask = _slots.Length - 1;
        foreach (var entry in old)
        {
            if (entry == 0)
            {
                continue;
            }
            var slot = IdStore.Hash(ids.Utf8(leaks[entry - 1].IdRef)) & mask;
            while (_slots[slot] != 0)
            {
                slot = (slot + 1) & mask;
            }
            _slots[slot] = entry;
        }
    }

    // A power of two at least twice the capacity: the load stays at or under one half.
    private static int SlotsFor(int capacity) => (int)Math.Max(16, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)capacity * 2));
}
