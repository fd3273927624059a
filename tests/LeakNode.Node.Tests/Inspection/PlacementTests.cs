using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using LeakNode.Node.Tests.Support;
using LeakNode.Testing;

namespace LeakNode.Node.Tests.Inspection;

/// <summary>
/// Every place an API may read a credential from, each in the encodings a client may use, against a real node in
/// front of a real upstream: in block mode the node answers 403 and the upstream never sees the request; in
/// monitor mode the request is forwarded and an event names where the token was.
/// </summary>
public sealed class PlacementTests : IAsyncLifetime
{
    // Tokens made for this test run: a GitHub-like one, and an AWS-secret-like one with '/' and '+' in it (for
    // JSON's \/ and for percent-encoding that matters).
    private static readonly TokenFactory Factory = new(2026);
    private static readonly string Gh = "ghp_" + Factory.Chars("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 36);
    private static readonly string Aws = Factory.Chars("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 12) + "/" + Factory.Chars("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 13) + "+" + Factory.Chars("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 13);

    private NodeHarness _block = null!;
    private NodeHarness _monitor = null!;

    public async ValueTask InitializeAsync()
    {
        (string, string, string[])[] leaks = [("leak-gh", "block", [Gh]), ("leak-aws", "block", [Aws])];
        _block = await NodeHarness.StartAsync(leaks);
        _monitor = await NodeHarness.StartAsync(leaks, new Dictionary<string, string?> { ["Node:Mode"] = "monitor" });
    }

    public async ValueTask DisposeAsync()
    {
        await _block.DisposeAsync();
        await _monitor.DisposeAsync();
    }

    public sealed record Placement(string Name, string Token, string Location, Func<string, HttpRequestMessage> Request);

    private static readonly Placement[] Table =
    [
        new("custom header", Gh, "header:X-Api-Key", t => Get("/v1/orders", ("X-Api-Key", t))),
        new("bearer", Gh, "header:Authorization", t => Get("/v1/orders", ("Authorization", "Bearer " + t))),
        new("token inside a longer header value", Gh, "header:X-Debug", t => Get("/v1/orders", ("X-Debug", "prefix-" + t + "-suffix"))),
        new("basic auth, token as user", Gh, "header:Authorization", t => Get("/v1/orders", ("Authorization", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(t + ":x"))))),
        new("basic auth, token as password", Aws, "header:Authorization", t => Get("/v1/orders", ("Authorization", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("api:" + t))))),
        new("cookie", Gh, "cookie:sid", t => Get("/v1/orders", ("Cookie", "theme=dark; sid=" + t + "; lang=en"))),
        new("cookie, percent-encoded", Aws, "cookie:sid", t => Get("/v1/orders", ("Cookie", "sid=" + Uri.EscapeDataString(t)))),
        new("query", Gh, "query:api_key", t => Get("/v1/orders?limit=5&api_key=" + t)),
        new("query, percent-encoded", Aws, "query:key", t => Get("/v1/orders?key=" + Uri.EscapeDataString(t))),
        new("query, every byte escaped", Gh, "query:key", t => Get("/v1/orders?key=" + string.Concat(t.Select(c => $"%{(int)c:X2}")))),
        new("path segment", Gh, "path", t => Get("/v1/tokens/" + t + "/revoke")),
        new("path segment, percent-encoded", Aws, "path", t => Get("/v1/tokens/" + Uri.EscapeDataString(t))),
        new("json body", Gh, "body:json", t => Post("/v1/keys", "application/json", Encoding.UTF8.GetBytes($$"""{"name":"ci","secret":"{{t}}"}"""))),
        new("json body, escaped slash", Aws, "body:json", t => Post("/v1/keys", "application/json", Encoding.UTF8.GetBytes($$"""{"secret":"{{t.Replace("/", "\\/", StringComparison.Ordinal)}}"}"""))),
        new("json body, \\u escapes", Gh, "body:json", t => Post("/v1/keys", "application/json; charset=utf-8", Encoding.UTF8.GetBytes($$"""{"secret":"{{string.Concat(t.Select((c, i) => i % 3 == 0 ? $"\\u{(int)c:x4}" : c.ToString()))}}"}"""))),
        new("form body", Aws, "body:form", t => Post("/login", "application/x-www-form-urlencoded", Encoding.ASCII.GetBytes("user=alice&token=" + Uri.EscapeDataString(t)))),
        new("multipart field", Gh, "body:multipart:token", t => Multipart(t, file: false)),
        new("multipart file part", Aws, "body:multipart:upload", t => Multipart(t, file: true)),
        new("gzip json body", Gh, "body:json", t => Compressed(t, "gzip")),
        new("deflate json body", Aws, "body:json", t => Compressed(t, "deflate")),
        new("br json body", Gh, "body:json", t => Compressed(t, "br")),
        new("chunked body, token split across chunks", Gh, "body", t => Chunked(t)),
        new("binary body", Aws, "body", t => Post("/upload", "application/octet-stream", [.. new byte[100], .. Encoding.ASCII.GetBytes(t), .. new byte[50]])),
    ];

    public static TheoryData<string> Placements => new(Table.Select(p => p.Name));

    [Theory]
    [MemberData(nameof(Placements))]
    public async Task Request_TokenInPlace_BlockedBeforeTheUpstream(string name)
    {
        var placement = Table.Single(p => p.Name == name);
        var before = _block.Upstream.Requests.Count;

        using var response = await _block.Client.SendAsync(placement.Request(placement.Token), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.DoesNotContain(placement.Token, problem, StringComparison.Ordinal);
        Assert.Contains("leaked-credential", problem, StringComparison.Ordinal);
        Assert.Equal(before, _block.Upstream.Requests.Count);
        var attack = Assert.Single(_block.Events(), e => e.Location == placement.Location);
        Assert.Equal("blocked", attack.Action);
        Assert.Equal(403, attack.StatusCode);
    }

    [Theory]
    [MemberData(nameof(Placements))]
    public async Task Request_TokenInPlace_MonitorForwardsAndReports(string name)
    {
        var placement = Table.Single(p => p.Name == name);
        var before = _monitor.Upstream.Requests.Count;

        using var response = await _monitor.Client.SendAsync(placement.Request(placement.Token), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(before + 1, _monitor.Upstream.Requests.Count);
        var attack = Assert.Single(_monitor.Events(), e => e.Location == placement.Location);
        Assert.Equal("monitored", attack.Action);
        Assert.Equal(200, attack.StatusCode);
        Assert.Equal("vpatch", attack.Type);
        Assert.Equal(placement.Token == Gh ? "leak-gh" : "leak-aws", attack.LeakId);
        Assert.Equal("test-node", attack.NodeId);
        Assert.DoesNotContain(placement.Token, attack.Path, StringComparison.Ordinal);
        Assert.DoesNotContain(placement.Token, attack.TokenId, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Placements))]
    public async Task Request_NearMissOfToken_Forwarded(string name)
    {
        // The same placement with the token's last character changed: no leaked token, nothing to stop.
        var placement = Table.Single(p => p.Name == name);
        var nearMiss = placement.Token[..^1] + (placement.Token[^1] == 'A' ? 'B' : 'A');
        var before = _block.Upstream.Requests.Count;

        using var response = await _block.Client.SendAsync(placement.Request(nearMiss), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(before + 1, _block.Upstream.Requests.Count);
        Assert.Empty(_block.Events());
    }

    [Fact]
    public async Task Logs_AfterEveryPlacement_NeverHoldTheToken()
    {
        foreach (var placement in Table)
        {
            using var blocked = await _block.Client.SendAsync(placement.Request(placement.Token), TestContext.Current.CancellationToken);
            using var monitored = await _monitor.Client.SendAsync(placement.Request(placement.Token), TestContext.Current.CancellationToken);
        }
        _block.Events();
        _monitor.Events();

        foreach (var line in _block.Logs.Concat(_monitor.Logs))
        {
            Assert.DoesNotContain(Gh, line, StringComparison.Ordinal);
            Assert.DoesNotContain(Aws, line, StringComparison.Ordinal);
            Assert.DoesNotContain(Uri.EscapeDataString(Aws), line, StringComparison.Ordinal);
        }
        Assert.Contains(_monitor.Logs, line => line.Contains("\"type\":\"vpatch\"", StringComparison.Ordinal));
    }

    private static HttpRequestMessage Get(string target, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, target);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        return request;
    }

    private static HttpRequestMessage Post(string target, string contentType, byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return new HttpRequestMessage(HttpMethod.Post, target) { Content = content };
    }

    private static HttpRequestMessage Multipart(string token, bool file)
    {
        var content = new MultipartFormDataContent("----leaknode-test-boundary");
        content.Add(new StringContent("alice"), "user");
        if (file)
        {
            content.Add(new ByteArrayContent(Encoding.UTF8.GetBytes("# config\napi_key = " + token + "\n")), "upload", "settings.toml");
        }
        else
        {
            content.Add(new StringContent(token), "token");
        }
        return new HttpRequestMessage(HttpMethod.Post, "/upload") { Content = content };
    }

    private static HttpRequestMessage Compressed(string token, string coding)
    {
        var json = Encoding.UTF8.GetBytes($$$"""{"items":[1,2,3],"auth":{"token":"{{{token.Replace("/", "\\/", StringComparison.Ordinal)}}}"}}""");
        using var output = new MemoryStream();
        using (Stream compressor = coding switch
        {
            "gzip" => new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true),
            "deflate" => new ZLibStream(output, CompressionLevel.Optimal, leaveOpen: true),
            _ => new BrotliStream(output, CompressionLevel.Optimal, leaveOpen: true),
        })
        {
            compressor.Write(json);
        }
        var request = Post("/v1/batch", "application/json", output.ToArray());
        request.Content!.Headers.ContentEncoding.Add(coding);
        return request;
    }

    private static HttpRequestMessage Chunked(string token)
    {
        var bytes = Encoding.ASCII.GetBytes("log line one\nlog line two " + token + " end\n");
        var split = bytes.Length / 2;
        var request = new HttpRequestMessage(HttpMethod.Post, "/logs") { Content = new PiecesContent(bytes[..split], bytes[split..]) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
        return request;
    }

    /// <summary>A body sent as chunks, flushed one by one, with no Content-Length (chunked transfer on HTTP/1.1).</summary>
    private sealed class PiecesContent(params byte[][] pieces) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            foreach (var piece in pieces)
            {
                await stream.WriteAsync(piece);
                await stream.FlushAsync();
                await Task.Delay(20);
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
