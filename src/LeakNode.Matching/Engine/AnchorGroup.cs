using LeakNode.Matching.Digests;

namespace LeakNode.Matching.Engine;

/// <summary>
/// The tokens of one rung of the <see cref="WindowPlan"/> ladder: same window width, same probe stride, one
/// filter and one table. The scanner makes one pass over the traffic per non-empty group.
/// </summary>
internal sealed class AnchorGroup
{
    private AnchorGroup(int index, AnchorFilter filter, AnchorTable table, int maxTokenLength)
    {
        Index = index;
        Width = WindowPlan.WidthOfGroup(index);
        Stride = WindowPlan.StrideOfGroup(index);
        WindowMask = WindowHash.Mask(Width);
        Filter = filter;
        Table = table;
        MaxTokenLength = maxTokenLength;
    }

    public int Index { get; }

    public int Width { get; }

    public int Stride { get; }

    public ulong WindowMask { get; }

    /// <summary>Shared with earlier and later versions of the line: it only gains bits.</summary>
    public AnchorFilter Filter { get; }

    /// <summary>This version's table; an update forks it.</summary>
    public AnchorTable Table { get; private set; }

    public int MaxTokenLength { get; private set; }

    public static AnchorGroup Create(int index, long anchors) =>
        new(index, AnchorFilter.ForAnchors(anchors), AnchorTable.ForAnchors(anchors), 0);

    /// <summary>
    /// A group for a build: anchors are collected by <see cref="AddToken"/> and inserted by
    /// <see cref="FinishBuild"/> in hash order, which is page order for the table and word order for the filter.
    /// Inserting a million tokens' anchors in arrival order took about 1.8 s, nearly all of it cache misses.
    /// </summary>
    public static AnchorGroup CreateForBuild(int index, long anchors)
    {
        var group = Create(index, anchors);
        group._pending = new ulong[anchors];
        return group;
    }

    private ulong[]? _pending;
    private int _pendingCount;

    public void FinishBuild()
    {
        if (_pending is null)
        {
            return;
        }
        var entries = _pending.AsSpan(0, _pendingCount);
        var sorted = Table.SortByPage(entries);
        foreach (var entry in sorted)
        {
            Table.Add(entry);
        }
        Filter.AddBuilding(sorted);
        _pending = null;
    }

    public AnchorGroup Fork() => new(Index, Filter, Table.Fork(), MaxTokenLength);

    public void AddToken(int token, int length, ReadOnlySpan<uint> anchors)
    {
        MaxTokenLength = Math.Max(MaxTokenLength, length);
        if (_pending is not null)
        {
            for (var j = 0; j < anchors.Length; j++)
            {
                _pending[_pendingCount++] = AnchorTable.Entry(anchors[j], token, j);
            }
            return;
        }

        for (var j = 0; j < anchors.Length; j++)
        {
            var entry = AnchorTable.Entry(anchors[j], token, j);
            if (!Table.TryAdd(entry))
            {
                // Growing copies every entry (hundreds of milliseconds at a million tokens). It happens only when
                // updates have filled the table well past its build size; LiveMatcher compacts long before that.
                Table = Table.Rebuilt(Table.Count * 2, static t => t);
                Table.Add(entry);
            }
            Filter.Add(anchors[j]);
        }
    }

    /// <summary>A fresh group holding the anchors of live tokens, renumbered by <paramref name="remap"/>.</summary>
    public AnchorGroup Compacted(long liveAnchors, int[] remap, PagedStore<TokenRecord> tokens)
    {
        var table = Table.Rebuilt(liveAnchors, t => remap[t]);
        var filter = AnchorFilter.ForAnchors(liveAnchors);
        var maxLength = 0;
        foreach (var entry in table.Entries())
        {
            filter.Add(AnchorTable.HashOf(entry));
            maxLength = Math.Max(maxLength, tokens[AnchorTable.TokenOf(entry)].Length);
        }
        return new AnchorGroup(Index, filter, table, maxLength);
    }
}
