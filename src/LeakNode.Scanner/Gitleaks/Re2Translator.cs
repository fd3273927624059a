using System.Text;
using System.Text.RegularExpressions;

namespace LeakNode.Scanner.Gitleaks;

/// <summary>
/// Translates a Go RE2 pattern (gitleaks' rule syntax) into an equivalent .NET pattern and compiles it with
/// <see cref="RegexOptions.NonBacktracking"/>, which, like RE2, matches in time linear in the input whatever the
/// pattern: a rule file from anywhere cannot stall a scan.
/// </summary>
/// <remarks>
/// <para>
/// The pattern is parsed (<see cref="Re2Parser"/>) and written out again with every construct spelled so that .NET
/// reads it as Go does; flags are resolved at parse time, so the output holds no inline flag. What differs, and how:
/// </para>
/// <list type="bullet">
/// <item><c>(?i)</c> in mid-pattern (<c>p8e-(?i)[a-z0-9]{32}</c>), <c>(?-i:…)</c>, <c>(?s:…)</c>, <c>(?U)</c>: applied
/// while parsing (literals and classes folded, <c>.</c> widened, greediness swapped); .NET has no <c>U</c> flag.</item>
/// <item><c>\d \s \w</c> and <c>\D \S \W</c>: ASCII in Go, Unicode in .NET, so written as ASCII ranges.</item>
/// <item><c>[[:alpha:]]</c> and the other POSIX classes: not in .NET; written as ranges.</item>
/// <item><c>\Q…\E</c>: not in .NET; written as escaped literals.</item>
/// <item><c>(?P&lt;name&gt;…)</c>: not in .NET, whose named groups are also numbered after all unnamed ones;
/// written as plain capture groups so that <c>secretGroup</c> numbers stay Go's.</item>
/// <item><c>$</c> outside <c>(?m)</c>: Go's end of text, where .NET's <c>$</c> also matches before a final '\n';
/// written as <c>\z</c>.</item>
/// <item>Octal escapes (<c>\012</c>): .NET reads <c>\1</c>… as backreferences; every literal is written as <c>\uXXXX</c>.</item>
/// <item>Class set subtraction: a Go class holding <c>-[</c> is read by .NET as subtraction; escaped literals avoid it.</item>
/// <item><c>\C</c> (any byte): on decoded text, any character.</item>
/// </list>
/// <para>
/// Left as they are: <c>\b</c>, which .NET decides with Unicode word characters (a token right after an accented
/// letter is not at a boundary in .NET, where Go says it is: .NET finds slightly less, never more); code points
/// above U+FFFF in classes, which .NET sees as surrogate pairs; <c>(?i)</c> folds by simple case mapping plus the
/// Kelvin and long-s orbits, which covers every fold Go applies to ASCII.
/// </para>
/// </remarks>
internal static class Re2Translator
{
    /// <summary>The options every translated pattern compiles with.</summary>
    public const RegexOptions Options = RegexOptions.NonBacktracking | RegexOptions.CultureInvariant;

    /// <summary>The .NET pattern and Go's capture-group count.</summary>
    /// <exception cref="Re2SyntaxException">Go would refuse the pattern.</exception>
    public static (string Pattern, int Captures, Re2Node Tree) Translate(string re2)
    {
        var (root, captures) = Re2Parser.Parse(re2);
        var builder = new StringBuilder(re2.Length * 2);
        Write(builder, root);
        return (builder.ToString(), captures, root);
    }

    /// <summary>Translates and compiles.</summary>
    /// <exception cref="Re2SyntaxException">Go would refuse the pattern, or .NET cannot compile its translation.</exception>
    public static Regex Compile(string re2, out int captures)
    {
        var (pattern, count, _) = Translate(re2);
        captures = count;
        try
        {
            return new Regex(pattern, Options);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            throw new Re2SyntaxException($"the pattern translates to .NET but does not compile there: {e.Message}");
        }
    }

    private static void Write(StringBuilder builder, Re2Node node)
    {
        switch (node)
        {
            case Re2Literal literal:
                if (literal.FoldCase)
                {
                    WriteClass(builder, new Re2Class(CharacterSets.Normalize(CaseFolding.Variants(literal.Rune).Append(literal.Rune).Select(r => (r, r))), [], false));
                }
                else
                {
                    CharacterSets.AppendEscaped(builder, literal.Rune);
                }
                break;
            case Re2Class @class:
                WriteClass(builder, @class);
                break;
            case Re2Any any:
                builder.Append(any.DotAll ? "[\\u0000-\\uFFFF]" : "[^\\n]");
                break;
            case Re2Assertion assertion:
                builder.Append(assertion.Kind switch
                {
                    Re2AssertionKind.BeginText => "\\A",
                    Re2AssertionKind.EndText => "\\z",
                    Re2AssertionKind.BeginLine => "(?m:^)",
                    Re2AssertionKind.EndLine => "(?m:$)",
                    Re2AssertionKind.WordBoundary => "\\b",
                    _ => "\\B",
                });
                break;
            case Re2Concat concat:
                foreach (var item in concat.Items)
                {
                    Write(builder, item);
                }
                break;
            case Re2Alternate alternate:
                builder.Append("(?:");
                for (var i = 0; i < alternate.Choices.Count; i++)
                {
                    if (i > 0)
                    {
                        builder.Append('|');
                    }
                    Write(builder, alternate.Choices[i]);
                }
                builder.Append(')');
                break;
            case Re2Repeat repeat:
                var atomic = repeat.Item is Re2Literal { FoldCase: false } or Re2Class or Re2Any or Re2Group;
                builder.Append(atomic ? "" : "(?:");
                Write(builder, repeat.Item);
                builder.Append(atomic ? "" : ")");
                builder.Append((repeat.Min, repeat.Max) switch
                {
                    (0, -1) => "*",
                    (1, -1) => "+",
                    (0, 1) => "?",
                    (var min, -1) => $"{{{min},}}",
                    (var min, var max) when min == max => $"{{{min}}}",
                    (var min, var max) => $"{{{min},{max}}}",
                });
                if (!repeat.Greedy)
                {
                    builder.Append('?');
                }
                break;
            case Re2Group group:
                builder.Append(group.Capture > 0 ? "(" : "(?:");
                Write(builder, group.Item);
                builder.Append(')');
                break;
            case Re2Empty:
                break;
            default:
                throw new InvalidOperationException($"unknown node {node.GetType().Name}");
        }
    }

    private static void WriteClass(StringBuilder builder, Re2Class @class)
    {
        var bmp = @class.Ranges.Where(r => r.Low <= 0xFFFF).Select(r => (r.Low, High: Math.Min(r.High, 0xFFFF))).ToList();
        if (bmp.Count == 0 && @class.Categories.Count == 0)
        {
            // An empty class matches nothing (a negated one, everything).
            builder.Append(@class.Negated ? "[\\u0000-\\uFFFF]" : "[^\\u0000-\\uFFFF]");
            return;
        }
        builder.Append(@class.Negated ? "[^" : "[");
        foreach (var (low, high) in bmp)
        {
            CharacterSets.AppendEscaped(builder, low);
            if (high != low)
            {
                builder.Append('-');
                CharacterSets.AppendEscaped(builder, high);
            }
        }
        foreach (var category in @class.Categories)
        {
            builder.Append(category);
        }
        builder.Append(']');
    }
}
