using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using MimeKit;
using SmtpServer;
using SmtpServer.Authentication;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace LeakNode.Cloud.Tests.Support;

/// <summary>A real SMTP server in-process (the SmtpServer package) that keeps every mail it receives, raw and parsed.</summary>
public sealed class SmtpSink : IAsyncDisposable
{
    private readonly SmtpServer.SmtpServer _server;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _running;

    private SmtpSink(int port, string? user, string? password)
    {
        Port = port;
        var options = new SmtpServerOptionsBuilder()
            .ServerName("localhost")
            .Endpoint(e => e.Endpoint(new IPEndPoint(IPAddress.Loopback, port)).IsSecure(false).AllowUnsecureAuthentication(true).AuthenticationRequired(user is not null))
            .Build();
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(new Store(this));
        if (user is not null)
        {
            services.Add(new Users(user, password!));
        }
        _server = new SmtpServer.SmtpServer(options, services);
        _running = _server.StartAsync(_stop.Token);
    }

    public int Port { get; }

    /// <summary>Every mail as it arrived: the raw bytes (to look for what must not be there) and the parsed message.</summary>
    public ConcurrentQueue<(byte[] Raw, MimeMessage Message, IReadOnlyList<string> Recipients)> Mails { get; } = new();

    public static SmtpSink Start(string? user = null, string? password = null)
    {
        // SmtpServer does not report the port it bound, so ask the OS for a free one first.
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return new SmtpSink(port, user, password);
    }

    public async Task<IReadOnlyList<MimeMessage>> WaitForAsync(int count)
    {
        await Eventually.TrueAsync(() => Mails.Count >= count, $"{count} mails");
        return Mails.Select(m => m.Message).ToList();
    }

    public async ValueTask DisposeAsync()
    {
        _server.Shutdown();
        await _stop.CancelAsync();
        try
        {
            await _running;
        }
        catch (OperationCanceledException)
        {
        }
        _stop.Dispose();
    }

    private sealed class Store(SmtpSink sink) : MessageStore
    {
        public override async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            var raw = buffer.ToArray();
            using var stream = new MemoryStream(raw);
            var message = await MimeMessage.LoadAsync(stream, cancellationToken);
            sink.Mails.Enqueue((raw, message, transaction.To.Select(t => t.User + "@" + t.Host).ToList()));
            return SmtpResponse.Ok;
        }
    }

    private sealed class Users(string user, string password) : IUserAuthenticator
    {
        public Task<bool> AuthenticateAsync(ISessionContext context, string user1, string password1, CancellationToken cancellationToken) =>
            Task.FromResult(user1 == user && password1 == password);
    }
}
