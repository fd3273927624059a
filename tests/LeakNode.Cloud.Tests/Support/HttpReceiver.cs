using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace LeakNode.Cloud.Tests.Support;

/// <summary>A request the receiver got: path, headers and the raw body.</summary>
public sealed record ReceivedRequest(string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string Text => System.Text.Encoding.UTF8.GetString(Body);

    /// <summary>When it arrived.</summary>
    public DateTimeOffset At { get; } = DateTimeOffset.UtcNow;
}

/// <summary>
/// A real HTTP server on loopback (Kestrel, port 0) standing in for Slack, Teams, Telegram and webhook receivers.
/// Records every request; <see cref="Respond"/> decides each answer. Can stop and start again on the same port
/// (a receiver that is down for a while).
/// </summary>
public sealed class HttpReceiver : IAsyncDisposable
{
    private WebApplication? _app;

    private HttpReceiver(int port)
    {
        Port = port;
    }

    public int Port { get; private set; }

    public Uri Url => new($"http://127.0.0.1:{Port}");

    public ConcurrentQueue<ReceivedRequest> Requests { get; } = new();

    /// <summary>The status to answer a request with, given it and how many requests came before it. Default 200.</summary>
    public Func<ReceivedRequest, int, int> Respond { get; set; } = (_, _) => 200;

    /// <summary>A <c>Retry-After</c> to send with an answer (the request's index given), or null for none.</summary>
    public Func<int, string?> RetryAfter { get; set; } = _ => null;

    public static async Task<HttpReceiver> StartAsync(int port = 0)
    {
        var receiver = new HttpReceiver(port);
        await receiver.StartAgainAsync();
        return receiver;
    }

    /// <summary>Starts on the port it had (or a new one the first time).</summary>
    public async Task StartAgainAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, Port));
        var app = builder.Build();
        var count = 0;
        app.Run(async context =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            var request = new ReceivedRequest(
                context.Request.Path + context.Request.QueryString,
                context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
                body.ToArray());
            Requests.Enqueue(request);
            var index = Interlocked.Increment(ref count) - 1;
            context.Response.StatusCode = Respond(request, index);
            if (RetryAfter(index) is { } retryAfter)
            {
                context.Response.Headers.RetryAfter = retryAfter;
            }
            await context.Response.WriteAsync(context.Response.StatusCode < 300 ? "{\"ok\":true}" : "{\"ok\":false,\"description\":\"not now\"}", context.RequestAborted);
        });
        await app.StartAsync(TestContext.Current.CancellationToken);
        Port = new Uri(app.Urls.First()).Port;
        _app = app;
    }

    public async Task StopAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync(TestContext.Current.CancellationToken);
            await app.DisposeAsync();
        }
    }

    /// <summary>Waits until <paramref name="count"/> requests arrived (fails the test after 15 s).</summary>
    public async Task<IReadOnlyList<ReceivedRequest>> WaitForAsync(int count, Func<ReceivedRequest, bool>? which = null)
    {
        await Eventually.TrueAsync(() => Requests.Count(which ?? (_ => true)) >= count, $"{count} requests at the receiver");
        return Requests.Where(which ?? (_ => true)).ToList();
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}

/// <summary>Polls a condition until it holds.</summary>
public static class Eventually
{
    public static async Task TrueAsync(Func<bool> condition, string what, int timeoutMs = 15_000)
    {
        var until = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < until, $"timed out waiting for {what}");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }

    public static async Task<T> ValueAsync<T>(Func<Task<T?>> read, Func<T, bool> done, string what, int timeoutMs = 15_000)
    {
        var until = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (true)
        {
            if (await read() is { } value && done(value))
            {
                return value;
            }
            Assert.True(DateTime.UtcNow < until, $"timed out waiting for {what}");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }
}
