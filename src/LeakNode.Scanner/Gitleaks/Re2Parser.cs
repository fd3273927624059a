using System.Globalization;
using System.Text;

namespace LeakNode.Scanner.Gitleaks;

/// <summary>
/// Parses Go's RE2 syntax (<c>regexp/syntax</c>, Perl flags) into a <see cref="Re2Node"/> tree, resolving every
/// flag as it goes: <c>(?i)</c> folds literals and classes, <c>(?s)</c> widens <c>.</c>, <c>(?m)</c> turns
/// <c>^</c>/<c>$</c> into line anchors and <c>(?U)</c> swaps greediness. A flag set by <c>(?flags)</c> lasts to
/// the end of the enclosing group, across <c>|</c>, as in Go.
/// </summary>
internal sealed class Re2Parser
{
    // Go refuses counted repetitions above 1000 ("invalid repeat count").
    private const int MaxRepeat = 1000;

    private readonly string _pattern;
    private int _position;
    private Flags _flags;
    private int _captures;

    private Re2Parser(string pattern) => _pattern = pattern;

    [Flags]
    private enum Flags
    {
        None = 0,
        FoldCase = 1,
        MultiLine = 2,
        DotAll = 4,
        Ungreedy = 8,
    }

    /// <summary>The tree and the number of capture groups (Go's <c>NumSubexp</c>).</summary>
    public static (Re2Node Root, int Captures) Parse(string pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        var parser = new Re2Parser(pattern);
        var root = parser.ParseAlternation();
        if (parser._position < pattern.Length)
        {
            throw new Re2SyntaxException($"unexpected ): `{pattern}`");
        }
        return (root, parser._captures);
    }

    private bool AtEnd => _position >= _pattern.Length;

    private char Peek => _pattern[_position];

    private Re2Node ParseAlternation()
    {
        var choices = new List<Re2Node> { ParseConcat() };
        while (!AtEnd && Peek == '|')
        {
            _position++;
            choices.Add(ParseConcat());
        }
        return choices.Count == 1 ? choices[0] : new Re2Alternate(choices);
    }

    private Re2Node ParseConcat()
    {
        var items = new List<Re2Node>();
        while (!AtEnd && Peek != '|' && Peek != ')')
        {
            var atom = ParseAtom(items);
            if (atom is null)
            {
                continue;
            }
            items.Add(ParseRepeats(atom));
        }
        return items.Count switch
        {
            0 => new Re2Empty(),
            1 => items[0],
            _ => new Re2Concat(items),
        };
    }

    private Re2Node ParseRepeats(Re2Node atom)
    {
        if (AtEnd)
        {
            return atom;
        }
        int min, max;
        var start = _position;
        switch (Peek)
        {
            case '*':
                (min, max) = (0, -1);
                _position++;
                break;
            case '+':
                (min, max) = (1, -1);
                _position++;
                break;
            case '?':
                (min, max) = (0, 1);
                _position++;
                break;
            case '{' when TryParseCount(out min, out max):
                break;
            default:
                return atom;
        }
        var lazy = false;
        if (!AtEnd && Peek == '?')
        {
            lazy = true;
            _position++;
        }
        // Go refuses a repetition of a repetition (a**, a+{2}); a group around the inner one is the way to write it.
        if (!AtEnd && (Peek is '*' or '+' or '?' || (Peek == '{' && LooksLikeCount())))
        {
            throw new Re2SyntaxException($"invalid nested repetition operator: `{_pattern[start..(_position + 1)]}`");
        }
        var greedy = _flags.HasFlag(Flags.Ungreedy) ? lazy : !lazy;
        return new Re2Repeat(atom, min, max, greedy);
    }

    private bool LooksLikeCount()
    {
        var saved = _position;
        var isCount = TryParseCount(out _, out _);
        _position = saved;
        return isCount;
    }

    /// <summary>Reads <c>{n}</c>, <c>{n,}</c> or <c>{n,m}</c>; anything else after '{' is a literal '{', as in Go.</summary>
    private bool TryParseCount(out int min, out int max)
    {
        min = max = 0;
        var end = _pattern.IndexOf('}', _position);
        if (end < 0)
        {
            return false;
        }
        var body = _pattern[(_position + 1)..end];
        var comma = body.IndexOf(',', StringComparison.Ordinal);
        var low = comma < 0 ? body : body[..comma];
        if (low.Length == 0 || !low.All(char.IsAsciiDigit))
        {
            return false;
        }
        var high = comma < 0 ? low : body[(comma + 1)..];
        if (high.Length > 0 && !high.All(char.IsAsciiDigit))
        {
            return false;
        }
        min = int.Parse(low, CultureInfo.InvariantCulture);
        max = high.Length == 0 ? -1 : int.Parse(high, CultureInfo.InvariantCulture);
        if (min > MaxRepeat || max > MaxRepeat || (max >= 0 && max < min))
        {
            throw new Re2SyntaxException($"invalid repeat count: `{_pattern[_position..(end + 1)]}`");
        }
        _position = end + 1;
        return true;
    }

    /// <summary>One atom, or null for a construct that only changes state (a flag group) or adds nothing (<c>\Q\E</c>).</summary>
    private Re2Node? ParseAtom(List<Re2Node> items)
    {
        var c = Peek;
        switch (c)
        {
            case '(':
                return ParseGroup();
            case '[':
                return ParseClass();
            case '.':
                _position++;
                return new Re2Any(_flags.HasFlag(Flags.DotAll));
            case '^':
                _position++;
                return new Re2Assertion(_flags.HasFlag(Flags.MultiLine) ? Re2AssertionKind.BeginLine : Re2AssertionKind.BeginText);
            case '$':
                _position++;
                return new Re2Assertion(_flags.HasFlag(Flags.MultiLine) ? Re2AssertionKind.EndLine : Re2AssertionKind.EndText);
            case '*' or '+' or '?':
                throw new Re2SyntaxException($"missing argument to repetition operator: `{c}`");
            case '\\':
                return ParseEscape(items);
            default:
                return Literal(ReadRune());
        }
    }

    private Re2Literal Literal(int rune) => new Re2Literal(rune, _flags.HasFlag(Flags.FoldCase) && CaseFolding.HasVariants(rune));

    private int ReadRune()
    {
        var rune = char.ConvertToUtf32(_pattern, _position);
        _position += char.IsSurrogatePair(_pattern, _position) ? 2 : 1;
        return rune;
    }

    private Re2Group? ParseGroup()
    {
        _position++; // (
        var saved = _flags;
        var capture = 0;
        if (!AtEnd && Peek == '?')
        {
            _position++;
            if (Rest.StartsWith("P<", StringComparison.Ordinal) || Rest.StartsWith('<'))
            {
                // A named group. Go numbers named and unnamed groups together, left to right; .NET numbers named
                // groups after all unnamed ones. The translation drops the name so that secretGroup keeps its meaning.
                var close = _pattern.IndexOf('>', _position);
                var nameStart = _position + (Peek == 'P' ? 2 : 1);
                if (close < 0 || close == nameStart || !_pattern[nameStart..close].All(ch => char.IsAsciiLetterOrDigit(ch) || ch == '_'))
                {
                    throw new Re2SyntaxException($"invalid named capture: `{_pattern[(_position - 2)..Math.Min(_pattern.Length, close < 0 ? _pattern.Length : close + 1)]}`");
                }
                _position = close + 1;
                capture = ++_captures;
            }
            else
            {
                var (flags, scoped) = ParseFlags();
                if (!scoped)
                {
                    // (?flags): applies to the rest of the enclosing group; nothing to add to the tree.
                    _flags = flags;
                    return null;
                }
                _flags = flags;
            }
        }
        else
        {
            capture = ++_captures;
        }

        var inner = ParseAlternation();
        if (AtEnd || Peek != ')')
        {
            throw new Re2SyntaxException($"missing closing ): `{_pattern}`");
        }
        _position++;
        _flags = saved;
        return new Re2Group(inner, capture);
    }

    private string Rest => _pattern[_position..];

    /// <summary>Reads the flags of <c>(?flags)</c> or <c>(?flags:</c>; returns the new flags and whether a ':' scope follows.</summary>
    private (Flags Flags, bool Scoped) ParseFlags()
    {
        var flags = _flags;
        var negate = false;
        var start = _position - 2;
        while (!AtEnd)
        {
            var c = _pattern[_position++];
            Flags flag;
            switch (c)
            {
                case 'i':
                    flag = Flags.FoldCase;
                    break;
                case 'm':
                    flag = Flags.MultiLine;
                    break;
                case 's':
                    flag = Flags.DotAll;
                    break;
                case 'U':
                    flag = Flags.Ungreedy;
                    break;
                case '-' when !negate:
                    negate = true;
                    continue;
                case ':':
                    return (flags, true);
                case ')':
                    return (flags, false);
                default:
                    throw new Re2SyntaxException($"invalid or unsupported Perl syntax: `{_pattern[start.._position]}`");
            }
            flags = negate ? flags & ~flag : flags | flag;
        }
        throw new Re2SyntaxException($"missing closing ): `{_pattern}`");
    }

    private Re2Node? ParseEscape(List<Re2Node> items)
    {
        _position++; // backslash
        if (AtEnd)
        {
            throw new Re2SyntaxException("trailing backslash at end of expression");
        }
        var c = Peek;
        switch (c)
        {
            case 'A':
                _position++;
                return new Re2Assertion(Re2AssertionKind.BeginText);
            case 'z':
                _position++;
                return new Re2Assertion(Re2AssertionKind.EndText);
            case 'b':
                _position++;
                return new Re2Assertion(Re2AssertionKind.WordBoundary);
            case 'B':
                _position++;
                return new Re2Assertion(Re2AssertionKind.NotWordBoundary);
            case 'C':
                // Go: any byte. On text, the nearest is any character.
                _position++;
                return new Re2Any(true);
            case 'Q':
            {
                // \Q...\E: everything between is literal (Go supports it; .NET does not).
                _position++;
                var end = _pattern.IndexOf("\\E", _position, StringComparison.Ordinal);
                var literal = end < 0 ? _pattern[_position..] : _pattern[_position..end];
                _position = end < 0 ? _pattern.Length : end + 2;
                var runes = literal.EnumerateRunes().Select(r => Literal(r.Value)).ToList();
                if (runes.Count == 0)
                {
                    return null;
                }
                // The quantifier after \Q…\E applies to its last character only, as in Go.
                items.AddRange(runes[..^1]);
                return runes[^1];
            }
            default:
                var builder = new ClassBuilder(_flags.HasFlag(Flags.FoldCase));
                if (TryParseClassEscape(builder))
                {
                    return builder.Build(negated: false);
                }
                return Literal(ParseEscapedRune());
        }
    }

    /// <summary>Reads a Perl (\d \s \w and negations) or Unicode (\pL, \p{Greek}) class escape into <paramref name="builder"/>.</summary>
    private bool TryParseClassEscape(ClassBuilder builder)
    {
        var c = Peek;
        switch (c)
        {
            // Go's Perl classes are ASCII-only; .NET's \d \s \w are Unicode. They are spelled out as ASCII ranges.
            case 'd' or 'D':
                _position++;
                builder.AddPerl(CharacterSets.Digit, negated: c == 'D');
                return true;
            case 's' or 'S':
                _position++;
                builder.AddPerl(CharacterSets.Space, negated: c == 'S');
                return true;
            case 'w' or 'W':
                _position++;
                builder.AddPerl(CharacterSets.Word, negated: c == 'W');
                return true;
            case 'p' or 'P':
            {
                _position++;
                string name;
                if (!AtEnd && Peek == '{')
                {
                    var close = _pattern.IndexOf('}', _position);
                    if (close < 0)
                    {
                        throw new Re2SyntaxException($"invalid character class range: `\\{c}{Rest}`");
                    }
                    name = _pattern[(_position + 1)..close];
                    _position = close + 1;
                }
                else
                {
                    name = AtEnd ? throw new Re2SyntaxException("invalid character class range: `\\p`") : _pattern[_position++].ToString();
                }
                var negated = c == 'P';
                if (name.StartsWith('^'))
                {
                    negated = !negated;
                    name = name[1..];
                }
                builder.AddCategory(CharacterSets.UnicodeCategory(name), negated);
                return true;
            }
            default:
                return false;
        }
    }

    private int ParseEscapedRune()
    {
        var c = _pattern[_position++];
        switch (c)
        {
            case 'a':
                return 7;
            case 'f':
                return 12;
            case 't':
                return 9;
            case 'n':
                return 10;
            case 'r':
                return 13;
            case 'v':
                return 11;
            case 'x':
            {
                string hex;
                if (!AtEnd && Peek == '{')
                {
                    var close = _pattern.IndexOf('}', _position);
                    hex = close < 0 ? "" : _pattern[(_position + 1)..close];
                    _position = close < 0 ? _pattern.Length : close + 1;
                }
                else
                {
                    hex = _position + 2 <= _pattern.Length ? _pattern.Substring(_position, 2) : "";
                    _position += 2;
                }
                if (!int.TryParse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var value) || value > 0x10FFFF)
                {
                    throw new Re2SyntaxException($"invalid escape sequence: `\\x{hex}`");
                }
                return value;
            }
            case >= '0' and <= '7':
            {
                // Octal: \0, \012, \123 (Go accepts \1-\7 only when more octal digits follow; it has no backreferences).
                var start = _position - 1;
                while (_position < _pattern.Length && _position - start < 3 && _pattern[_position] is >= '0' and <= '7')
                {
                    _position++;
                }
                if (c != '0' && _position - start == 1)
                {
                    throw new Re2SyntaxException($"invalid escape sequence: `\\{c}`");
                }
                return Convert.ToInt32(_pattern[start.._position], 8);
            }
            default:
                if (c < 128 && !char.IsAsciiLetterOrDigit(c))
                {
                    return c; // escaped punctuation
                }
                throw new Re2SyntaxException($"invalid escape sequence: `\\{c}`");
        }
    }

    private Re2Class ParseClass()
    {
        var start = _position;
        _position++; // [
        var negated = false;
        if (!AtEnd && Peek == '^')
        {
            negated = true;
            _position++;
        }
        var builder = new ClassBuilder(_flags.HasFlag(Flags.FoldCase));
        var first = true;
        while (true)
        {
            if (AtEnd)
            {
                throw new Re2SyntaxException($"missing closing ]: `{_pattern[start..]}`");
            }
            // ']' first in the class is a literal, as in Go.
            if (Peek == ']' && !first)
            {
                _position++;
                break;
            }
            first = false;
            if (Rest.StartsWith("[:", StringComparison.Ordinal))
            {
                var close = _pattern.IndexOf(":]", _position + 2, StringComparison.Ordinal);
                if (close > 0)
                {
                    var name = _pattern[(_position + 2)..close];
                    var negate = name.StartsWith('^');
                    builder.AddPerl(CharacterSets.Posix(negate ? name[1..] : name), negate);
                    _position = close + 2;
                    continue;
                }
            }
            if (Peek == '\\')
            {
                _position++;
                if (AtEnd)
                {
                    throw new Re2SyntaxException("trailing backslash at end of expression");
                }
                if (TryParseClassEscape(builder))
                {
                    continue;
                }
                _position--;
            }
            var low = ReadClassRune();
            var high = low;
            if (_position + 1 < _pattern.Length && Peek == '-' && _pattern[_position + 1] != ']')
            {
                _position++;
                high = ReadClassRune();
                if (high < low)
                {
                    throw new Re2SyntaxException($"invalid character class range: `{char.ConvertFromUtf32(low)}-{char.ConvertFromUtf32(high)}`");
                }
            }
            builder.AddRange(low, high);
        }
        return builder.Build(negated);
    }

    private int ReadClassRune()
    {
        if (Peek == '\\')
        {
            _position++;
            return ParseEscapedRune();
        }
        return ReadRune();
    }
}

/// <summary>Collects a class's ranges and categories, folding case when the class was read under <c>(?i)</c>.</summary>
internal sealed class ClassBuilder(bool foldCase)
{
    private readonly List<(int Low, int High)> _ranges = [];
    private readonly List<string> _categories = [];

    public void AddRange(int low, int high)
    {
        _ranges.Add((low, high));
        if (!foldCase)
        {
            return;
        }
        // Folding adds each letter's other cases. Ranges wider than the Latin-1 and Greek blocks are left as they
        // are: they already hold both cases of the letters that matter in tokens.
        for (var rune = low; rune <= Math.Min(high, 0x3FF); rune++)
        {
            foreach (var variant in CaseFolding.Variants(rune))
            {
                _ranges.Add((variant, variant));
            }
        }
    }

    public void AddPerl(IReadOnlyList<(int Low, int High)> set, bool negated)
    {
        foreach (var range in negated ? CharacterSets.Complement(set) : set)
        {
            _ranges.Add(range);
        }
    }

    public void AddCategory(string category, bool negated) => _categories.Add((negated ? "\\P{" : "\\p{") + category + "}");

    public Re2Class Build(bool negated) => new(CharacterSets.Normalize(_ranges), _categories, negated);
}

/// <summary>Simple case folding as Go applies it under <c>(?i)</c>, including the Kelvin and long-s orbits.</summary>
internal static class CaseFolding
{
    public static bool HasVariants(int rune) => Variants(rune).Any();

    public static IEnumerable<int> Variants(int rune)
    {
        if (rune > 0xFFFF)
        {
            yield break;
        }
        var c = (char)rune;
        var upper = char.ToUpperInvariant(c);
        var lower = char.ToLowerInvariant(c);
        if (upper != c)
        {
            yield return upper;
        }
        if (lower != c)
        {
            yield return lower;
        }
        // Go's fold orbits beyond ToUpper/ToLower: k K U+212A (Kelvin), s S U+017F (long s).
        if (c is 'k' or 'K')
        {
            yield return 0x212A;
        }
        if (c is 's' or 'S')
        {
            yield return 0x017F;
        }
    }
}

/// <summary>Go's ASCII Perl and POSIX classes as ranges, and range arithmetic.</summary>
internal static class CharacterSets
{
    public static readonly (int, int)[] Digit = [('0', '9')];
    public static readonly (int, int)[] Space = [('\t', '\n'), ('\f', '\r'), (' ', ' ')];
    public static readonly (int, int)[] Word = [('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')];

    public static (int, int)[] Posix(string name) => name switch
    {
        "alnum" => [('0', '9'), ('A', 'Z'), ('a', 'z')],
        "alpha" => [('A', 'Z'), ('a', 'z')],
        "ascii" => [(0, 0x7F)],
        "blank" => [('\t', '\t'), (' ', ' ')],
        "cntrl" => [(0, 0x1F), (0x7F, 0x7F)],
        "digit" => [('0', '9')],
        "graph" => [('!', '~')],
        "lower" => [('a', 'z')],
        "print" => [(' ', '~')],
        "punct" => [('!', '/'), (':', '@'), ('[', '`'), ('{', '~')],
        "space" => [('\t', '\r'), (' ', ' ')],
        "upper" => [('A', 'Z')],
        "word" => Word,
        "xdigit" => [('0', '9'), ('A', 'F'), ('a', 'f')],
        _ => throw new Re2SyntaxException($"invalid character class range: `[:{name}:]`"),
    };

    /// <summary>Go's one-letter and named Unicode classes, as .NET names them (scripts take an "Is" block name in .NET).</summary>
    public static string UnicodeCategory(string name) => name switch
    {
        "L" or "Lu" or "Ll" or "Lt" or "Lm" or "Lo" or "M" or "Mn" or "Mc" or "Me" or "N" or "Nd" or "Nl" or "No" or
        "P" or "Pc" or "Pd" or "Ps" or "Pe" or "Pi" or "Pf" or "Po" or "S" or "Sm" or "Sc" or "Sk" or "So" or
        "Z" or "Zs" or "Zl" or "Zp" or "C" or "Cc" or "Cf" or "Cs" or "Co" or "Cn" => name,
        "Greek" => "IsGreek",
        "Cyrillic" => "IsCyrillic",
        "Latin" => "L", // no Latin script class in .NET: the nearest is letters
        "Han" => "IsCJKUnifiedIdeographs",
        _ => throw new Re2SyntaxException($"invalid character class range: `\\p{{{name}}}` (not translated)"),
    };

    public static List<(int Low, int High)> Normalize(IEnumerable<(int Low, int High)> ranges)
    {
        var sorted = ranges.OrderBy(r => r.Low).ToList();
        var merged = new List<(int Low, int High)>();
        foreach (var (low, high) in sorted)
        {
            if (merged.Count > 0 && low <= merged[^1].High + 1)
            {
                merged[^1] = (merged[^1].Low, Math.Max(merged[^1].High, high));
            }
            else
            {
                merged.Add((low, high));
            }
        }
        return merged;
    }

    public static List<(int Low, int High)> Complement(IEnumerable<(int Low, int High)> ranges)
    {
        var result = new List<(int Low, int High)>();
        var next = 0;
        foreach (var (low, high) in Normalize(ranges))
        {
            if (low > next)
            {
                result.Add((next, low - 1));
            }
            next = high + 1;
        }
        if (next <= 0x10FFFF)
        {
            result.Add((next, 0x10FFFF));
        }
        return result;
    }

    public static bool Contains(IReadOnlyList<(int Low, int High)> ranges, int rune)
    {
        foreach (var (low, high) in ranges)
        {
            if (rune >= low && rune <= high)
            {
                return true;
            }
        }
        return false;
    }

    internal static void AppendEscaped(StringBuilder builder, int rune)
    {
        if (rune > 0xFFFF)
        {
            var text = char.ConvertFromUtf32(rune);
            builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)text[0]:X4}\\u{(int)text[1]:X4}");
            return;
        }
        if (rune < 128 && char.IsAsciiLetterOrDigit((char)rune))
        {
            builder.Append((char)rune);
            return;
        }
        builder.Append(CultureInfo.InvariantCulture, $"\\u{rune:X4}");
    }
}
