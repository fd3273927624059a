using System.Text;

namespace LeakNode.Scanner.Gitleaks;

/// <summary>
/// Writes a random string that a parsed RE2 pattern should match: each class yields a random member (letters and
/// digits first, so that secrets come out with a secret's entropy), each alternation a random branch, each
/// repetition its minimum plus a little. Anchors and boundaries add nothing, so a caller checks every sample with
/// the compiled rule and draws again when one misses. Used by the tests to prove that every imported rule still
/// finds what it was written for.
/// </summary>
internal sealed class Re2SampleGenerator(int seed)
{
    private const string Preferred = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    private const string Fallback = " _-.=:/+@#!~\t";

    private readonly Random _random = new(seed);

    public string Generate(Re2Node root)
    {
        var builder = new StringBuilder();
        Write(builder, root);
        return builder.ToString();
    }

    private void Write(StringBuilder builder, Re2Node node)
    {
        switch (node)
        {
            case Re2Literal literal:
                builder.Append(char.ConvertFromUtf32(literal.Rune));
                break;
            case Re2Class @class:
                builder.Append(char.ConvertFromUtf32(Pick(@class)));
                break;
            case Re2Any:
                builder.Append(Preferred[_random.Next(Preferred.Length)]);
                break;
            case Re2Concat concat:
                foreach (var item in concat.Items)
                {
                    Write(builder, item);
                }
                break;
            case Re2Alternate alternate:
                Write(builder, alternate.Choices[_random.Next(alternate.Choices.Count)]);
                break;
            case Re2Repeat repeat:
                var extra = repeat.Max < 0 ? _random.Next(0, 3) : _random.Next(0, Math.Min(repeat.Max - repeat.Min, 2) + 1);
                for (var i = 0; i < repeat.Min + extra; i++)
                {
                    Write(builder, repeat.Item);
                }
                break;
            case Re2Group group:
                Write(builder, group.Item);
                break;
            default:
                break; // assertions and the empty pattern add nothing
        }
    }

    private int Pick(Re2Class @class)
    {
        bool Member(int rune) => @class.Categories.Count == 0 && CharacterSets.Contains(@class.Ranges, rune) != @class.Negated;

        var preferred = Preferred.Where(c => Member(c)).ToList();
        if (preferred.Count > 0)
        {
            return preferred[_random.Next(preferred.Count)];
        }
        foreach (var c in Fallback)
        {
            if (Member(c))
            {
                return c;
            }
        }
        if (!@class.Negated && @class.Ranges.Count > 0)
        {
            var (low, high) = @class.Ranges[_random.Next(@class.Ranges.Count)];
            return low + _random.Next(Math.Min(high - low, 64) + 1);
        }
        // A class of categories only (\pL): a Latin letter is in every letter category a token rule uses.
        return 'a';
    }
}
