using System.IO.Compression;
using System.Net;
using System.Text;
using LeakNode.Node.Tests.Support;
using LeakNode.Testing;

namespace LeakNode.Node.Tests.Inspection;

/// <summary>
/// What the node must not disturb: requests without a leaked token reach the upstream byte for byte, whatever
/// their body, encoding, size policy or framing; and what it does at the limits (too large, bombs, broken
/// encodings) never becomes a 500 or a silent pass.
/// </summary>
public sealed class ForwardingTests : IAsyncLifetime
{
    private static readonly string Token = "ghp_" + new TokenFactory(7).Chars("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 36);

    private NodeHarness _node = null!;

    public async ValueTask InitializeAsync() =>
        _node = await NodeHarness.StartAsync([("leak", "block", [Token])], new Dictionary<string, string?> { ["Inspection:MaxBodyBytes"] = "65536" });

    public async ValueTask DisposeAsync() => await _node.DisposeAsync();

    public static TheoryData<string, string?, string?> Bodies => new()
    {
        { "json", "application/json", null },
        { "form", "application/x-www-form-urlencoded", null },
        { "multipart", "multipart/form-data; boundary=XyZ", null },
        { "binary", "application/octet-stream", null },
        { "text, gzip", "text/plain", "gzip" },
        { "json, br", "application/json", "br" },
        { "no content type", null, null },
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task Post_CleanBody_UpstreamReceivesSameBytesAndHeaders(string name, string? contentType, string? encoding)
    {
        var random = new Random(name.Length);
        var body = CleanBody(random, contentType, encoding);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/things?limit=10&cursor=a%2Fb+c") { Content = new ByteArrayContent(body) };
        if (contentType is not null)
        {
            request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }
        if (encoding is not null)
        {
            request.Content.Headers.ContentEncoding.Add(encoding);
        }
        request.Headers.TryAddWithoutValidation("X-Request-Id", "r-42");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer ghp_notLeakedAtAll0000000000000000000000000");

        using var response = await _node.Client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = _node.Upstream.Requests.Last();
        Assert.Equal(body, received.Body);
        Assert.Equal("POST", received.Method);
        Assert.Equal("/api/v1/things?limit=10&cursor=a%2Fb+c", received.Target);
        Assert.Equal("r-42", received.Headers["X-Request-Id"]);
        Assert.Equal("Bearer ghp_notLeakedAtAll0000000000000000000000000", received.Headers["Authorization"]);
        Assert.Equal(body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), received.Headers["Content-Length"]);
        if (contentType is not null)
        {
            Assert.Equal(contentType, received.Headers["Content-Type"]);
        }
        if (encoding is not null)
        {
            Assert.Equal(encoding, received.Headers["Content-Encoding"]);
        }
        Assert.Empty(_node.Events());
    }

    [Fact]
    public async Task Post_ChunkedBody_ForwardedWhole()
    {
        var body = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("a line of an upload without secrets\n", 500)));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/upload") { Content = new StreamContent(new NonSeekable(body)) };

        using var response = await _node.Client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = _node.Upstream.Requests.Last();
        Assert.Equal(body, received.Body);
        Assert.Equal("chunked", received.Headers["Transfer-Encoding"]);
    }

    [Fact]
    public async Task Post_BodyOverLimit_RejectAnswers413AndUpstreamSeesNothing()
    {
        var before = _node.Upstream.Requests.Count;
        var body = new byte[70_000];

        using var response = await _node.Client.PostAsync("/upload", new ByteArrayContent(body), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(before, _node.Upstream.Requests.Count);
    }

    [Fact]
    public async Task Post_ChunkedBodyOverLimit_RejectAnswers413()
    {
        var before = _node.Upstream.Requests.Count;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/upload") { Content = new StreamContent(new NonSeekable(new byte[70_000])) };

        using var response = await _node.Client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(before, _node.Upstream.Requests.Count);
    }

    [Fact]
    public async Task Post_BodyOverLimit_PrefixInspectsTheStartAndForwardsAll()
    {
        await using var node = await NodeHarness.StartAsync(
            [("leak", "block", [Token])],
            new Dictionary<string, string?> { ["Inspection:MaxBodyBytes"] = "65536", ["Inspection:BodyTooLarge"] = "prefix" });
        var late = new byte[200_000];
        Encoding.ASCII.GetBytes(Token).CopyTo(late, 150_000);
        var early = new byte[200_000];
        Encoding.ASCII.GetBytes(Token).CopyTo(early, 1_000);

        using var forwarded = await node.Client.PostAsync("/upload", new ByteArrayContent(late), TestContext.Current.CancellationToken);
        using var blocked = await node.Client.PostAsync("/upload", new ByteArrayContent(early), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, forwarded.StatusCode);
        Assert.Equal(late, Assert.Single(node.Upstream.Requests).Body);
        Assert.Equal(HttpStatusCode.Forbidden, blocked.StatusCode);
    }

    [Fact]
    public async Task Post_GzipBomb_StoppedAtTheCap()
    {
        // 64 MiB of zeros with a token at the end, compressed to about 64 KiB: the node inflates only up to
        // MaxDecodedBytes (and 100x the input), so the token past the cap cannot be seen: the body is refused.
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            var zeros = new byte[1 << 20];
            for (var i = 0; i < 64; i++)
            {
                gzip.Write(zeros);
            }
            gzip.Write(Encoding.ASCII.GetBytes(Token));
        }
        var before = _node.Upstream.Requests.Count;
        using var content = new ByteArrayContent(compressed.ToArray());
        content.Headers.ContentEncoding.Add("gzip");

        using var response = await _node.Client.PostAsync("/upload", content, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(before, _node.Upstream.Requests.Count);
    }

    public static TheoryData<string> Malformed => new(["bad gzip", "broken json", "bad percent", "bad multipart", "bad basic", "unknown coding"]);

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task Request_MalformedEncodingWithTokenInRawBytes_StillBlockedNever500(string name)
    {
        using var request = MalformedRequest(name, Token, _node.Node.ProxyUrl);

        using var response = await _node.Client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task Request_MalformedEncodingWithoutToken_ForwardedAndCounted(string name)
    {
        using var request = MalformedRequest(name, "nothing-to-see-here", _node.Node.ProxyUrl);

        using var response = await _node.Client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var metrics = await _node.Admin.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
        Assert.Contains("leaknode_inspection_malformed", metrics, StringComparison.Ordinal);
    }

    private static HttpRequestMessage MalformedRequest(string name, string payload, Uri node)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api");
        switch (name)
        {
            case "bad gzip":
                // A gzip header, then the payload as if it were deflate data: not a valid stream.
                request.Content = new ByteArrayContent([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff, .. Encoding.ASCII.GetBytes(payload), 1, 2, 3]);
                request.Content.Headers.ContentEncoding.Add("gzip");
                break;
            case "broken json":
                request.Content = new StringContent("{\"a\": \"\\x\\u12" + payload + "\"", Encoding.UTF8, "application/json");
                break;
            case "bad percent":
                // Sent as written: System.Uri would otherwise escape the stray '%' signs into valid ones.
                request.RequestUri = new Uri(node + "api?q=%zz%4" + payload + "%", new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
                request.Content = new StringContent("");
                break;
            case "bad multipart":
                request.Content = new StringContent("--nope\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n" + payload + "\r\n", Encoding.UTF8);
                request.Content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse("multipart/form-data; boundary=other");
                break;
            case "bad basic":
                request.Headers.TryAddWithoutValidation("Authorization", "Basic !!!not base64!!! " + payload);
                request.Content = new StringContent("");
                break;
            default:
                request.Content = new StringContent(payload);
                request.Content.Headers.ContentEncoding.Add("zstd");
                break;
        }
        return request;
    }

    private static byte[] CleanBody(Random random, string? contentType, string? encoding)
    {
        var text = contentType switch
        {
            "application/json" => "{\"name\":\"order\",\"items\":[1,2,3],\"note\":\"a\\/b \\u00e9t\\u00e9\",\"blob\":\"" + Convert.ToBase64String(RandomBytes(random, 300)) + "\"}",
            "application/x-www-form-urlencoded" => "user=alice&note=a%2Fb+c%20d&x=%zz",
            "multipart/form-data; boundary=XyZ" => "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue\r\n--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"f.bin\"\r\nContent-Type: application/octet-stream\r\n\r\nbinary\r\n--XyZ--\r\n",
            _ => null,
        };
        var bytes = text is null ? RandomBytes(random, 5000) : Encoding.UTF8.GetBytes(text);
        if (encoding is null)
        {
            return bytes;
        }
        using var output = new MemoryStream();
        using (Stream compressor = encoding == "gzip" ? new GZipStream(output, CompressionLevel.Fastest, true) : new BrotliStream(output, CompressionLevel.Fastest, true))
        {
            compressor.Write(bytes);
        }
        return output.ToArray();
    }

    private static byte[] RandomBytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>A stream with no length, so that HttpClient sends it chunked.</summary>
    private sealed class NonSeekable(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
