using System.Net;
using System.Net.WebSockets;
using LeakNode.Node.Tests.Support;

namespace LeakNode.Node.Tests.Inspection;

/// <summary>HTTP/2 (clear text, prior knowledge), WebSockets and streaming bodies through the node.</summary>
public sealed class ProtocolTests
{
    private const string Token = "ghp_protocolTestToken0000000000000000000";

    [Fact]
    public async Task Http2_PriorKnowledge_InspectedLikeHttp11()
    {
        await using var node = await NodeHarness.StartAsync([("leak", "block", [Token])], new Dictionary<string, string?> { ["Listen:Protocols"] = "Http2" });
        using var client = new HttpClient
        {
            BaseAddress = node.Node.ProxyUrl,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };

        using var clean = await client.PostAsync("/a", new StringContent("{\"x\":1}", System.Text.Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
        using var header = await client.GetAsync("/a?k=" + Token, TestContext.Current.CancellationToken);
        using var body = await client.PostAsync("/a", new StringContent("{\"k\":\"" + Token + "\"}", System.Text.Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);

        Assert.Equal(HttpVersion.Version20, clean.Version);
        Assert.Equal(HttpStatusCode.OK, clean.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, header.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, body.StatusCode);
    }

    [Fact]
    public async Task WebSocket_Clean_PassesThroughAndEchoes()
    {
        await using var node = await NodeHarness.StartAsync([("leak", "block", [Token])]);
        using var socket = new ClientWebSocket();

        await socket.ConnectAsync(new Uri("ws://" + node.Node.ProxyUrl.Authority + "/chat"), TestContext.Current.CancellationToken);
        await socket.SendAsync("hello"u8.ToArray(), WebSocketMessageType.Text, true, TestContext.Current.CancellationToken);
        var buffer = new byte[64];
        var received = await socket.ReceiveAsync(buffer, TestContext.Current.CancellationToken);

        Assert.Equal("hello", System.Text.Encoding.UTF8.GetString(buffer, 0, received.Count));
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task WebSocket_TokenInHandshake_Refused()
    {
        await using var node = await NodeHarness.StartAsync([("leak", "block", [Token])]);
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + Token);
        socket.Options.CollectHttpResponseDetails = true;

        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(new Uri("ws://" + node.Node.ProxyUrl.Authority + "/chat"), TestContext.Current.CancellationToken));

        Assert.Equal(HttpStatusCode.Forbidden, socket.HttpStatusCode);
        Assert.Equal("header:Authorization", Assert.Single(node.Events()).Location);
    }

    [Fact]
    public async Task GrpcBody_StreamsThroughWithoutBeingHeld()
    {
        // gRPC runs on HTTP/2 end to end (a gRPC cluster in YARP asks for HTTP/2 exactly); YARP flushes each piece of
        // a gRPC body upstream as it comes, and the node must not hold the body back to inspect it (a streaming call
        // would never finish).
        await using var node = await NodeHarness.StartAsync([("leak", "block", [Token])], new Dictionary<string, string?> { ["Listen:Protocols"] = "Http2" }, http2Upstream: true);
        using var client = new HttpClient
        {
            BaseAddress = node.Node.ProxyUrl,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var content = new StreamingContent(release.Task);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/grpc");

        var send = client.PostAsync("/stream", content, TestContext.Current.CancellationToken);
        var first = await node.Upstream.FirstBytes.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        release.SetResult();
        using var response = await send;

        Assert.True(first > 0);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>Sends a first piece, then waits for a signal before finishing the body.</summary>
    private sealed class StreamingContent(Task release) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync("\0\0\0\0\u0005hello"u8.ToArray());
            await stream.FlushAsync();
            await release;
            await stream.WriteAsync("\0\0\0\0\u0005world"u8.ToArray());
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
