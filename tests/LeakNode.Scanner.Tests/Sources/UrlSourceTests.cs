using System.Net;
using System.Net.Sockets;
using System.Text;
using LeakNode.Scanner.Tests.Support;

namespace LeakNode.Scanner.Tests.Sources;

/// <summary>URLs fetched from a real HTTP listener on loopback, port chosen free.</summary>
public sealed class UrlSourceTests : IDisposable
{
    private readonly SecretFactory _factory = new(seed: 80);
    private readonly HttpListener _listener = new();
    private readonly string _prefix;
    private readonly Dictionary<string, byte[]> _pages = [];
    private readonly TempFolder _folder = new();

    public UrlSourceTests()
    {
        var port = FreePort();
        _prefix = $"http://127.0.0.1:{port}/";
        _listener.Prefixes.Add(_prefix);
        _listener.Start();
        _ = ServeAsync();
    }

    [Fact]
    public async Task ScanUrlListAsync_PasteWithToken_FoundAtTheUrlAndMissingPageNamed()
    {
        var token = _factory.GitHubStyle("gh" + "p_");
        _pages["/paste/1"] = Encoding.UTF8.GetBytes($"some paste\nexport GH={token}\n");
        var list = _folder.Write("urls.txt", $"# pastes\n{_prefix}paste/1\n{_prefix}paste/missing\n");

        var result = await new SecretScanner().ScanUrlListAsync(list, TestContext.Current.CancellationToken);

        var finding = Assert.Single(result.Findings);
        Assert.Equal($"{_prefix}paste/1", finding.Path);
        Assert.Equal(2, finding.StartLine);
        Assert.Contains(result.Notices, n => n.Contains("paste/missing", StringComparison.Ordinal) && n.Contains("404", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ScanAsync_ResponseOverTheSizeCap_CutAndTheStartStillScanned()
    {
        var token = _factory.GitHubStyle("gh" + "p_");
        _pages["/big"] = Encoding.UTF8.GetBytes(token + "\n" + new string('x', 100_000));
        var options = new ScanOptions { Limits = new ScanLimits { MaxUrlBytes = 1000 } };

        var result = await new SecretScanner(options).ScanAsync(_prefix + "big", TestContext.Current.CancellationToken);

        Assert.Single(result.Findings);
        Assert.Contains(result.Notices, n => n.Contains("cut at the 1000-byte URL limit", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ScanAsync_SingleUrlThatFails_ScanException()
    {
        var error = await Assert.ThrowsAsync<ScanException>(() => new SecretScanner().ScanAsync(_prefix + "nothing", TestContext.Current.CancellationToken));

        Assert.Contains("404", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ScanUrlListAsync_LineThatIsNotAUrl_ScanExceptionNamesTheLine()
    {
        var list = _folder.Write("urls.txt", "ftp://example.test/file\n");

        var error = await Assert.ThrowsAsync<ScanException>(() => new SecretScanner().ScanUrlListAsync(list, TestContext.Current.CancellationToken));

        Assert.Contains("urls.txt:1", error.Message, StringComparison.Ordinal);
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }
            if (_pages.TryGetValue(context.Request.Url!.AbsolutePath, out var page))
            {
                context.Response.StatusCode = 200;
                try
                {
                    await context.Response.OutputStream.WriteAsync(page);
                }
                catch (HttpListenerException)
                {
                    // The scanner stops reading at its size cap and closes the connection.
                }
            }
            else
            {
                context.Response.StatusCode = 404;
            }
            context.Response.Close();
        }
    }

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        _listener.Close();
        _folder.Dispose();
    }
}
