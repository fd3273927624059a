using LeakNode.Matching.Decoding;

namespace LeakNode.Matching.Tests.Decoding;

public sealed class ContentEncodingHeaderTests
{
    private const string Refused = "refused";

    // (name, header value, codings in decode order joined by commas, or Refused).
    public static TheoryData<string, string, string> OneCoding => new()
    {
        { "one coding: gzip", "gzip", "Gzip" },
        { "one coding: x-gzip alias", "x-gzip", "Gzip" },
        { "one coding: upper case", "GZIP", "Gzip" },
        { "one coding: deflate", "deflate", "Deflate" },
        { "one coding: br", "br", "Brotli" },
        { "one coding: identity is skipped", "identity", "" },
        { "one coding: empty value", "", "" },
    };

    public static TheoryData<string, string, string> Stacked => new()
    {
        { "stacked: gzip then br, decoded br first", "gzip, br", "Brotli,Gzip" },
        { "stacked: no spaces", "br,gzip", "Gzip,Brotli" },
        { "stacked: identity in the middle", "gzip, identity, br", "Brotli,Gzip" },
        { "stacked: OWS around names", " gzip ,\tbr ", "Brotli,Gzip" },
        { "stacked: empty elements", "gzip,, br,", "Brotli,Gzip" },
        { "stacked: lines joined by StringValues", "deflate,gzip", "Gzip,Deflate" },
        { "stacked: four is the most", "gzip, gzip, br, deflate", "Deflate,Brotli,Gzip,Gzip" },
    };

    public static TheoryData<string, string, string> Unsupported => new()
    {
        { "unsupported: zstd", "zstd", Refused },
        { "unsupported: compress", "compress", Refused },
        { "unsupported: one of two", "gzip, zstd", Refused },
        { "unsupported: missing comma", "gzip br", Refused },
        { "unsupported: parameters", "gzip;q=1", Refused },
        { "unsupported: five codings", "gzip, gzip, gzip, gzip, gzip", Refused },
        { "unsupported: prefix of a name", "gz", Refused },
    };

    // Cases that once failed, or guard an edge a rewrite could break. Add to it; never remove.
    public static TheoryData<string, string, string> Regression => new()
    {
        { "regression: identity does not count towards the most", "identity, gzip, identity, gzip, br, gzip, identity", "Gzip,Brotli,Gzip,Gzip" },
    };

    [Theory]
    [MemberData(nameof(OneCoding))]
    [MemberData(nameof(Stacked))]
    [MemberData(nameof(Unsupported))]
    [MemberData(nameof(Regression))]
    public void TryParse_Case_MatchesExpected(string name, string value, string expected)
    {
        var codings = new ContentCoding[ContentEncodingHeader.MaxCodings];

        var parsed = ContentEncodingHeader.TryParse(value, codings, out var count);

        Assert.True(expected == (parsed ? string.Join(',', codings.Take(count)) : Refused), name);
        Assert.True(parsed || count == 0);
    }

    [Fact]
    public void TryParse_MoreCodingsThanDestination_False()
    {
        var codings = new ContentCoding[1];

        Assert.False(ContentEncodingHeader.TryParse("gzip, br", codings, out var count));
        Assert.Equal(0, count);
    }
}
