using LeakNode.Scanner.Detection;

namespace LeakNode.Scanner.Tests.Detection;

/// <summary>The keyword index against a naive oracle (every keyword at every offset), on random texts and keyword sets.</summary>
public sealed class KeywordIndexTests
{
    public static TheoryData<int> Seeds() => [1, 2, 3, 4, 5, 6, 7, 8];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void FindAll_RandomTextAndKeywords_SameHitsAsTheNaiveOracle(int seed)
    {
        var random = new Random(seed);
        // A small alphabet with mixed case and punctuation makes hits, near misses and overlaps frequent.
        const string alphabet = "abcABC_-.~éÉ";
        string Text(int length) => new([.. Enumerable.Range(0, length).Select(_ => alphabet[random.Next(alphabet.Length)])]);
        var keywords = Enumerable.Range(0, random.Next(1, 12)).Select(_ => Text(random.Next(1, 5)).ToLowerInvariant()).Distinct().ToArray();
        var index = new KeywordIndex(keywords.Select((k, i) => (k, i)));

        for (var round = 0; round < 50; round++)
        {
            var text = Text(random.Next(0, 200));
            var found = new List<(int, int)>();
            index.FindAll(text, ref found, static (ref list, position, value) => list.Add((position, value)));

            var expected = new List<(int, int)>();
            for (var k = 0; k < keywords.Length; k++)
            {
                for (var i = 0; i + keywords[k].Length <= text.Length; i++)
                {
                    if (text.AsSpan(i).StartsWith(keywords[k], StringComparison.OrdinalIgnoreCase))
                    {
                        expected.Add((i, k));
                    }
                }
            }
            Assert.Equal(expected.Order(), found.Order());
        }
    }
}
