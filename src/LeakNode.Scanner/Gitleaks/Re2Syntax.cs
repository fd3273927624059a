namespace LeakNode.Scanner.Gitleaks;

/// <summary>A parsed Go RE2 pattern: the tree <see cref="Re2Parser"/> builds and <see cref="Re2Translator"/> writes as .NET syntax.</summary>
internal abstract record Re2Node;

/// <summary>One code point; <see cref="FoldCase"/> when it was read under <c>(?i)</c>.</summary>
internal sealed record Re2Literal(int Rune, bool FoldCase) : Re2Node;

/// <summary>
/// A character class as code-point ranges (case folding already applied), plus Unicode categories kept by name
/// (<c>\pL</c>) that .NET reads the same way.
/// </summary>
internal sealed record Re2Class(IReadOnlyList<(int Low, int High)> Ranges, IReadOnlyList<string> Categories, bool Negated) : Re2Node;

/// <summary><c>.</c>: any character but '\n', or any character at all under <c>(?s)</c>.</summary>
internal sealed record Re2Any(bool DotAll) : Re2Node;

internal enum Re2AssertionKind
{
    BeginText,
    EndText,
    BeginLine,
    EndLine,
    WordBoundary,
    NotWordBoundary,
}

internal sealed record Re2Assertion(Re2AssertionKind Kind) : Re2Node;

internal sealed record Re2Concat(IReadOnlyList<Re2Node> Items) : Re2Node;

internal sealed record Re2Alternate(IReadOnlyList<Re2Node> Choices) : Re2Node;

/// <summary>A repetition; <see cref="Max"/> is -1 for no upper bound. Greediness is final (<c>(?U)</c> applied).</summary>
internal sealed record Re2Repeat(Re2Node Item, int Min, int Max, bool Greedy) : Re2Node;

/// <summary>A group; <see cref="Capture"/> is its 1-based number in Go's order, or 0 for a non-capturing group.</summary>
internal sealed record Re2Group(Re2Node Item, int Capture) : Re2Node;

internal sealed record Re2Empty : Re2Node;

/// <summary>A pattern RE2 would refuse, with the reason in RE2's words where it has them.</summary>
internal sealed class Re2SyntaxException(string message) : Exception(message);
