namespace LeakNode.Testing;

/// <summary>The naive reference: at every offset, compare every token. Slow, obviously right.</summary>
public static class Oracle
{
    public static SortedSet<(string TokenId, long Offset)> Find(ReadOnlySpan<byte> data, IReadOnlyDictionary<string, byte[]> tokens)
    {
        var found = new SortedSet<(string, long)>();
        foreach (var (id, token) in tokens)
        {
            for (var i = 0; i + token.Length <= data.Length; i++)
            {
                if (data.Slice(i, token.Length).SequenceEqual(token))
                {
                    found.Add((id, i));
                }
            }
        }
        return found;
    }
}
