using LeakNode.Matching.Digests;
using LeakNode.Matching.Rules;

namespace LeakNode.Matching.Tests;

/// <summary>The README's walkthrough, kept compiling and true: if this changes, change the README with it.</summary>
public sealed class ReadmeWalkthroughTests
{
    [Fact]
    public void Walkthrough_AsWritten_FindsTheSplitTokenAndAppliesTheDecision()
    {
        var key = DigestKey.FromBytes(DigestKey.GenerateBytes());
        var digester = new TokenDigester(key);

        var leak = new LeakRule("leak-1", RuleAction.Block,
            [digester.Digest("tok-1", "ghp_EXAMPLEnotARealToken0000000000000000")]);
        var matcher = TokenMatcher.Build(key, new RuleSet(Version: 1, [leak]));

        var sink = new PrintingSink(matcher);
        using (var scanner = matcher.RentScanner())
        {
            scanner.Write("GET /repos?access_token=ghp_EXAMPLEnotARe"u8, ref sink);
            scanner.Write("alToken0000000000000000 HTTP/1.1\r\n"u8, ref sink);
        }

        matcher = matcher.Apply(RuleSetDelta.ChangeAction(1, 2, new LeakActionChange("leak-1", RuleAction.Monitor)));

        Assert.Equal(["leak-1/tok-1 at 24: Block"], sink.Lines);
        Assert.Equal(RuleAction.Monitor, Assert.Single(matcher.FindAll("ghp_EXAMPLEnotARealToken0000000000000000"u8)).Action);
    }

    private sealed class PrintingSink(TokenMatcher matcher) : IMatchSink
    {
        public List<string> Lines { get; } = [];

        public void OnMatch(in TokenMatch m) =>
            Lines.Add($"{matcher.GetLeakId(m.Leak)}/{matcher.GetTokenId(m.Token)} at {m.Offset}: {m.Action}");
    }
}
