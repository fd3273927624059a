using LeakNode.Matching;
using LeakNode.Matching.Digests;
using LeakNode.Matching.Rules;
using LeakNode.Node.Inspection;
using Microsoft.AspNetCore.Http;

namespace LeakNode.Node.Tests.Inspection;

public sealed class RequestPartsTests
{
    private static readonly DigestKey Key = DigestKey.FromBytes(new byte[32]);
    private const string Token = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";

    private static (Detections Detections, TokenMatcher Matcher) Inspect(Action<HttpContext> setup)
    {
        var digester = new TokenDigester(Key);
        var matcher = TokenMatcher.Build(Key, new RuleSet(1, [new LeakRule("leak", RuleAction.Block, [digester.Digest("tok", Token)])]));
        var context = new DefaultHttpContext();
        setup(context);
        var block = new ScanBlock();
        RequestParts.AddTarget(context, block);
        RequestParts.AddHeaders(context, block);
        var detections = new Detections();
        using var scanner = matcher.RentScanner();
        block.Scan(scanner, detections);
        return (detections, matcher);
    }

    [Theory]
    [InlineData("sid=" + Token, "cookie:sid")]
    [InlineData("theme=dark; sid=" + Token + "; lang=en", "cookie:sid")]
    [InlineData("a=1;sid=\"" + Token + "\"", "cookie:sid")]
    public void AddHeaders_TokenInCookie_LocatedByCookieName(string cookie, string location)
    {
        var (detections, _) = Inspect(c => c.Request.Headers.Cookie = cookie);

        Assert.Contains(Enumerable.Range(0, detections.Count).Select(i => detections[i].Location), l => l == location);
    }

    [Theory]
    [InlineData("/a/b?api_key=" + Token, "query:api_key")]
    [InlineData("/a/b?x=1&k%65y=" + Token + "&y=2", "query:key")]
    [InlineData("/tokens/" + Token, "path")]
    public void AddTarget_TokenInTarget_Located(string target, string location)
    {
        var (detections, _) = Inspect(c =>
        {
            var question = target.IndexOf('?', StringComparison.Ordinal);
            c.Request.Path = question < 0 ? target : target[..question];
            c.Request.QueryString = question < 0 ? QueryString.Empty : new QueryString(target[question..]);
        });

        Assert.Equal(location, Assert.Single(Enumerable.Range(0, detections.Count).Select(i => detections[i].Location)));
    }
}
