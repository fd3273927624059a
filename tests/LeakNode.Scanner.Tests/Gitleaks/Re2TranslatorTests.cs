using System.Text.RegularExpressions;
using LeakNode.Scanner.Gitleaks;

namespace LeakNode.Scanner.Tests.Gitleaks;

public sealed class Re2TranslatorTests
{
    /// <summary>Go RE2 constructs .NET reads differently, each with an input and whether Go matches it.</summary>
    public static TheoryData<string, string, string, bool> Differences() => new()
    {
        { "(?i) mid-pattern folds what follows", "p8e-(?i)[a-z]{3}", "p8e-ABC", true },
        { "(?i) mid-pattern leaves what precedes", "p8e-(?i)[a-z]{3}", "P8E-abc", false },
        { "(?-i:…) turns folding off inside", "(?i)x(?-i:Y)", "XY", true },
        { "(?-i:…) is case-sensitive", "(?i)x(?-i:Y)", "Xy", false },
        { "flags last to the group's end across |", "(?:(?i)a|b)", "B", true },
        { "POSIX class", "^[[:alpha:]]+$", "abcXYZ", true },
        { "negated POSIX class", "^[[:^digit:]]+$", "ab1", false },
        { "\\Q…\\E is literal", "\\Qa.b*\\E", "a.b*", true },
        { "\\Q…\\E dot is not any", "\\Qa.b\\E", "axb", false },
        { "\\w is ASCII in Go", "^\\w+$", "caf\u00e9", false },
        { "\\d is ASCII in Go", "^\\d$", "\u0663", false },
        { "\\s is ASCII in Go", "^a\\sb$", "a\u00a0b", false },
        { "$ is end of text in Go", "abc$", "abc\n", false },
        { "(?m)$ is end of line", "(?m)abc$", "abc\nx", true },
        { "octal escape is a character", "\\101", "A", true },
        { "\\x{…} escape", "\\x{41}", "A", true },
        { "] first in a class is literal", "^[]a]+$", "]a]", true },
        { "-[ in a class is a range end, not .NET subtraction", "^[+-[]+$", "A[", true },
        { "(?s:.) spans lines", "a(?s:.)b", "a\nb", true },
        { ". stops at newline", "a.b", "a\nb", false },
        { "(?i) folds the Kelvin sign", "(?i)k", "\u212A", true },
    };

    [Theory]
    [MemberData(nameof(Differences))]
    public void Compile_Re2Construct_MatchesAsGoDoes(string because, string re2, string input, bool goMatches)
    {
        var regex = Re2Translator.Compile(re2, out _);

        Assert.True(goMatches == regex.IsMatch(input), because);
    }

    [Fact]
    public void Compile_NamedGroups_KeepGoNumbering()
    {
        // Go numbers (?P<x>) with the unnamed groups, left to right; .NET would number it last.
        var regex = Re2Translator.Compile("(?P<key>k+)-(v+)", out var captures);

        var match = regex.Match("kk-vvv");
        Assert.Equal(2, captures);
        Assert.Equal("kk", match.Groups[1].Value);
        Assert.Equal("vvv", match.Groups[2].Value);
    }

    [Fact]
    public void Compile_Ungreedy_SwapsGreediness()
    {
        var regex = Re2Translator.Compile("(?U)a(b+)", out _);

        Assert.Equal("b", regex.Match("abbb").Groups[1].Value);
    }

    public static TheoryData<string, string> Refused() => new()
    {
        { "a**", "invalid nested repetition operator" },
        { "*a", "missing argument to repetition operator" },
        { "(ab", "missing closing )" },
        { "ab)", "unexpected )" },
        { "[ab", "missing closing ]" },
        { "a{1001}", "invalid repeat count" },
        { "\\1", "invalid escape sequence" },
        { "(?<=a)b", "invalid named capture" },
        { "(?x)a", "invalid or unsupported Perl syntax" },
        { "[[:nope:]]", "invalid character class range" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void Compile_PatternGoRefuses_Refused(string re2, string message)
    {
        var error = Assert.Throws<Re2SyntaxException>(() => Re2Translator.Compile(re2, out _));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Compile_Always_NonBacktracking()
    {
        var regex = Re2Translator.Compile("(a+)+$", out _);

        Assert.True(regex.Options.HasFlag(RegexOptions.NonBacktracking));
        Assert.DoesNotMatch(regex, new string('a', 5000) + "!");
    }
}
