using System.Net;
using System.Runtime.CompilerServices;
using LeakNode.Scanner.Detection;

namespace LeakNode.Scanner.Sources;

/// <summary>Documents fetched over HTTP(S): pastes, raw files, gists. Each fetch is bounded in time and size.</summary>
internal static class UrlSource
{
    /// <summary>Makes the client URLs are fetched with when the caller gives none.</summary>
    public static HttpClient CreateClient(ScanLimits limits)
    {
        var handler = new SocketsHttpHandler
        {
            // A few redirects (http→https, a paste's raw view) and no more: a redirect loop is a dead end.
            MaxAutomaticRedirections = 5,
            AutomaticDecompression = DecompressionMethods.All,
            ConnectTimeout = TimeSpan.FromSeconds(Math.Min(10, limits.UrlTimeout.TotalSeconds)),
        };
        var client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.UserAgent.ParseAdd("leaknode-scanner/1");
        return client;
    }

    /// <summary>Reads a file of URLs: one a line, blank lines and lines starting with '#' ignored.</summary>
    public static List<Uri> ReadList(string file)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ScanException($"cannot read the URL list {file}: {e.Message}", e);
        }
        var urls = new List<Uri>();
        for (var i = 0; i < lines.Length; i++)
        {
            var text = lines[i].Trim();
            if (text.Length == 0 || text.StartsWith('#'))
            {
                continue;
            }
            if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
            {
                throw new ScanException($"{file}:{i + 1}: '{text}' is not an http or https URL");
            }
            urls.Add(url);
        }
        return urls;
    }

    public static async IAsyncEnumerable<ScanItem> EnumerateAsync(
        IReadOnlyList<Uri> urls, HttpClient client, ScanLimits limits, Action<string> notice, bool failOnError,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var url in urls)
        {
            byte[]? content;
            try
            {
                content = await FetchAsync(client, url, limits, notice, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException && !cancellationToken.IsCancellationRequested)
            {
                var reason = e is OperationCanceledException ? $"no answer within {limits.UrlTimeout.TotalSeconds:0} seconds" : e.Message;
                if (failOnError)
                {
                    throw new ScanException($"cannot fetch {url}: {reason}", e);
                }
                notice($"{url}: skipped, {reason}");
                continue;
            }
            if (content is not null)
            {
                yield return new ScanItem(new DocumentOrigin(url.ToString()), content);
            }
        }
    }

    private static async Task<byte[]?> FetchAsync(HttpClient client, Uri url, ScanLimits limits, Action<string> notice, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(limits.UrlTimeout);
        using var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, deadline.Token).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"the server answered {(int)response.StatusCode} {response.ReasonPhrase}");
        }
        await using var stream = await response.Content.ReadAsStreamAsync(deadline.Token).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, deadline.Token).ConfigureAwait(false)) > 0)
        {
            var room = limits.MaxUrlBytes - buffer.Length;
            if (read > room)
            {
                // Scan what fits: a secret near the top of a huge paste is still a leak.
                buffer.Write(chunk, 0, (int)room);
                notice($"{url}: cut at the {limits.MaxUrlBytes}-byte URL limit; only the first {limits.MaxUrlBytes} bytes were scanned");
                break;
            }
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }
}
