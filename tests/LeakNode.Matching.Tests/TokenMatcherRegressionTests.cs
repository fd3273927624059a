using System.Text;
using LeakNode.Matching.Rules;
using LeakNode.Matching.Tests.Support;
using LeakNode.Testing;

namespace LeakNode.Matching.Tests;

/// <summary>
/// Table-driven cases in named groups, each with the number of matches written out (so the table checks the
/// oracle too). The <c>Regression</c> group only grows: every bug found gets its case here.
/// </summary>
public sealed class TokenMatcherRegressionTests
{
    private sealed record MatchCase(string Name, string[] Tokens, string Data, int[] Chunks, int Expected);

    private static readonly string Gh = "ghp_" + new string('Q', 4) + "9f3aZk2LmN8pR5tV7wX1yB4cD6eF0gH3";
    private static readonly string Aws = "AKIAIOSFODNN7EXAMPLE";

    private static readonly MatchCase[] Table =
    [
        // Boundaries: the stream's ends, chunk ends inside tokens and inside windows.
        new("Boundaries/token is the whole stream", [Gh], Gh, [], 1),
        new("Boundaries/token at the very end", [Gh], "x" + Gh, [], 1),
        new("Boundaries/token split in its first byte", [Gh], "ab" + Gh, [3], 1),
        new("Boundaries/token split in its last byte", [Gh], "ab" + Gh + "cd", [Gh.Length + 1], 1),
        new("Boundaries/every byte its own chunk", [Gh, Aws], Gh + Aws + Gh, [1], 3),
        new("Boundaries/short token across three chunks", ["k3y!x9Q2"], "..k3y!x9Q2..", [3, 3, 3], 1),
        new("Boundaries/stream one byte short", [Gh], Gh[..^1], [], 0),
        new("Boundaries/empty chunks between", [Aws], Aws, [0, 5, 0, 0, 7, 0], 1),

        // Overlaps: a token inside another, a token overlapping itself, the same token twice in a row.
        new("Overlaps/nested", [Gh, Gh[5..30]], Gh, [], 2),
        new("Overlaps/periodic token", [new string('z', 32)], new string('z', 40), [7], 9),
        new("Overlaps/back to back", [Aws], Aws + Aws + Aws, [11], 3),
        new("Overlaps/shared prefix, different tokens", ["sk_live_" + new string('a', 24), "sk_live_" + new string('b', 24)], "sk_live_" + new string('a', 24) + "sk_live_" + new string('b', 24), [], 2),

        // Near misses: must not match.
        new("NearMiss/one byte changed", [Gh], Gh[..20] + "?" + Gh[21..], [], 0),
        new("NearMiss/case changed", [Gh], Gh.ToUpperInvariant(), [], 0),
        new("NearMiss/anchor span present, rest different", [Gh], new string('x', 20) + Gh[20..], [], 0),

        // Lengths at the edges of the window plan's groups.
        new("Lengths/8 bytes", ["12345678"], "a12345678b12345678", [5], 2),
        new("Lengths/17 and 18 bytes", ["ABCDEFGHIJKLMNOPQ", "ABCDEFGHIJKLMNOPQR"], "ABCDEFGHIJKLMNOPQR", [4], 2),
        new("Lengths/29 and 30 bytes", [new string('m', 1) + Gh[..28], new string('m', 1) + Gh[..29]], "m" + Gh[..29], [9], 2),

        // Regression: bugs found, each kept forever.
        new("Regression/span chosen inside a format prefix (sk_live_)", ["sk_live_51HqLyjWDarjtT1zdp7dcAbCdEfGh"], "Bearer sk_live_51HqLyjWDarjtT1zdp7dcAbCdEfGh", [8], 1),
    ];

    public static TheoryData<string> Cases => new(Table.Select(c => c.Name));

    [Theory]
    [MemberData(nameof(Cases))]
    public void FindAll_Case_ReportsExpectedMatches(string name)
    {
        var testCase = Table.Single(c => c.Name == name);
        var rules = new TestRules();
        for (var i = 0; i < testCase.Tokens.Length; i++)
        {
            rules.Put($"leak{i}", RuleAction.Block, Encoding.UTF8.GetBytes(testCase.Tokens[i]));
        }
        var matcher = rules.Build();
        var data = Encoding.UTF8.GetBytes(testCase.Data);
        var chunks = testCase.Chunks.Length == 0 ? Scan.Whole() : testCase.Chunks.Length == 1 ? Scan.Fixed(testCase.Chunks[0]) : testCase.Chunks;

        var found = Scan.Found(matcher, data, chunks);

        Assert.Equal(Oracle.Find(data, rules.Tokens), found);
        Assert.Equal(testCase.Expected, found.Count);
    }
}
