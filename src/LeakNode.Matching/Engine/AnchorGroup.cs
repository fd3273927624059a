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

    public AnchorGroup Fork() => new(Index, Filter, Table.Fork(), MaxTokenLength);

    public void AddToken(int token, int length, ReadOnlySpan<uint> anchors)
    {
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
        MaxTokenLength = Math.Max(MaxTokenLength, length);
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
