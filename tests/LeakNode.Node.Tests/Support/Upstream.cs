using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LeakNode.Node.Tests.Support;

/// <summary>A real Kestrel server on a loopback port that records every request it receives, byte for byte.</summary>
public sealed class Upstream : IAsyncDisposable
{
    private readonly WebApplication _app;

    private Upstream(WebApplication app) => _app = app;

    public ConcurrentQueue<Received> Requests { get; } = new();

    public Uri Url { get; private set; } = null!;

    /// <summary>Completed when <c>/stream</c> has received its first bytes.</summary>
    public TaskCompletionSource<int> FirstBytes { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <param name="http2Only">Listen for clear-text HTTP/2 (prior knowledge) only, as a gRPC server does.</param>
    public static async Task<Upstream> StartAsync(bool http2Only = false)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(System.Net.IPAddress.Loopback, 0, o => o.Protocols = http2Only ? Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2 : Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http1AndHttp2);
            k.Limits.MaxRequestBodySize = null;
        });
        var app = builder.Build();
        var upstream = new Upstream(app);
        app.UseWebSockets();
        app.Use(async (context, next) =>
        {
            if (context.WebSockets.IsWebSocketRequest)
            {
                // Echo every message back.
                using var socket = await context.WebSockets.AcceptWebSocketAsync();
                var buffer = new byte[4096];
                while (true)
                {
                    var message = await socket.ReceiveAsync(buffer, context.RequestAborted);
                    if (message.MessageType == System.Net.WebSockets.WebSocketMessageType.Close)
                    {
                        await socket.CloseAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, null, context.RequestAborted);
                        return;
                    }
                    await socket.SendAsync(buffer.AsMemory(0, message.Count), message.MessageType, message.EndOfMessage, context.RequestAborted);
                }
            }
            if (context.Request.Path == "/slow")
            {
                await Task.Delay(1500, context.RequestAborted);
                await context.Response.WriteAsync("slow done");
                return;
            }
            if (context.Request.Path == "/stream")
            {
                // Reads the body as it arrives and says when its first bytes came: a proxy that held the body
                // back until the end would keep this from happening before the client finishes.
                var buffer = new byte[4096];
                var first = await context.Request.Body.ReadAsync(buffer, context.RequestAborted);
                upstream.FirstBytes.TrySetResult(first);
                while (await context.Request.Body.ReadAsync(buffer, context.RequestAborted) > 0)
                {
                }
                await context.Response.WriteAsync("streamed");
                return;
            }
            await next(context);
        });
        app.Run(async context =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            upstream.Requests.Enqueue(new Received(
                context.Request.Method,
                context.Features.Get<IHttpRequestFeature>()!.RawTarget,
                context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
                body.ToArray()));
            context.Response.ContentType = "text/plain";
            await context.Response.WriteAsync("upstream ok");
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        upstream.Url = new Uri(address);
        return upstream;
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    public sealed record Received(string Method, string Target, Dictionary<string, string> Headers, byte[] Body);
}
