namespace LeakNode.Matching.Tests.Support;

/// <summary>Runs a matcher over data cut into chunks, and collects what it reports.</summary>
public static class Scan
{
    public static List<TokenMatch> Chunked(TokenMatcher matcher, ReadOnlySpan<byte> data, IEnumerable<int> chunkSizes)
    {
        var sink = new CollectingSink();
        using var scanner = matcher.RentScanner();
        var offset = 0;
        foreach (var size in chunkSizes)
        {
            if (offset >= data.Length)
            {
                break;
            }
            var take = Math.Min(size, data.Length - offset);
            scanner.Write(data.Slice(offset, take), ref sink);
            offset += take;
        }
        if (offset < data.Length)
        {
            scanner.Write(data[offset..], ref sink);
        }
        Assert.Equal(data.Length, scanner.Position);
        return sink.Matches;
    }

    public static SortedSet<(string TokenId, long Offset)> Found(TokenMatcher matcher, ReadOnlySpan<byte> data, IEnumerable<int> chunkSizes)
    {
        var matches = Chunked(matcher, data, chunkSizes);
        var found = new SortedSet<(string, long)>();
        foreach (var match in matches)
        {
            Assert.True(found.Add((matcher.GetTokenId(match.Token), match.Offset)), $"reported twice: {matcher.GetTokenId(match.Token)} at {match.Offset}");
        }
        return found;
    }

    public static IEnumerable<int> Whole() => [int.MaxValue];

    public static IEnumerable<int> Fixed(int size)
    {
        while (true)
        {
            yield return size;
        }
    }

    public static IEnumerable<int> RandomSizes(Random random, int max)
    {
        while (true)
        {
            yield return random.Next(1, max + 1);
        }
    }

    public sealed class CollectingSink : IMatchSink
    {
        public List<TokenMatch> Matches { get; } = [];

        public void OnMatch(in TokenMatch match) => Matches.Add(match);
    }
}
