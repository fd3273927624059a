using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LeakNode.Cloud.Api;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace LeakNode.Cloud.Notifications.Channels;

/// <summary>
/// How one try went. <see cref="Permanent"/>: trying again cannot help (the receiver refused the request as such).
/// <see cref="RetryAfter"/>: how long the receiver asked to wait (<c>Retry-After</c> on a 429 or 503), if it did.
/// </summary>
internal sealed record SendOutcome(bool Delivered, bool Permanent, int? Status, string? Error, TimeSpan? RetryAfter = null)
{
    public static readonly SendOutcome Ok = new(true, false, null, null);
}

/// <summary>
/// Sends one notification to one channel: a mail over SMTP (MailKit) or a JSON POST. Errors come back as an outcome
/// with a message fit for the delivery log: the channel's secrets (webhook URLs, bot token) are scrubbed from it.
/// </summary>
internal sealed class ChannelSender(NotificationOptions options) : IDisposable
{
    public const string SignatureHeader = "X-LeakNode-Signature";
    public const string EventHeader = "X-LeakNode-Event";
    public const string DeliveryHeader = "X-LeakNode-Delivery";

    /// <summary>The most of a receiver's error body the delivery log keeps.</summary>
    private const int MaxErrorBody = 300;

    private readonly HttpClient _http = new(new SocketsHttpHandler
    {
        // Webhook hosts change address (chat services behind CDNs); a pooled connection should not outlive DNS by much.
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        // A redirect would resend the body somewhere the admin did not name.
        AllowAutoRedirect = false,
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
        DefaultRequestHeaders = { UserAgent = { new ProductInfoHeaderValue("LeakNode", "1.0") } },
    };

    public async Task<SendOutcome> SendAsync(StoredIntegration channel, NotificationEvent notice, string deliveryId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(channel);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.SendTimeout);
        try
        {
            var outcome = channel.Kind == IntegrationKinds.Email
                ? await SendMailAsync(channel.Settings, NotificationText.Render(notice), timeout.Token)
                : await PostAsync(channel, notice, deliveryId, timeout.Token);
            return outcome.Error is null ? outcome : outcome with { Error = Scrub(outcome.Error, channel.Settings) };
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new SendOutcome(false, false, null, $"no answer within {options.SendTimeout.TotalSeconds:0.###} s (Notifications:SendTimeout)");
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            // Anything a receiver or the network can throw is one failed try, logged for the admin; nothing about
            // one channel may stop the worker that serves all of them.
            return new SendOutcome(false, error is AuthenticationException, (error as SmtpCommandException)?.StatusCode is { } code ? (int)code : null,
                Scrub($"{error.GetType().Name}: {error.Message}", channel.Settings));
        }
    }

    private async Task<SendOutcome> PostAsync(StoredIntegration channel, NotificationEvent notice, string deliveryId, CancellationToken cancellationToken)
    {
        var s = channel.Settings;
        string url;
        JsonNode body;
        switch (channel.Kind)
        {
            case IntegrationKinds.Slack:
                (url, body) = (s.WebhookUrl!, ChatPayloads.Slack(NotificationText.Render(notice)));
                break;
            case IntegrationKinds.Teams:
                (url, body) = (s.WebhookUrl!, ChatPayloads.Teams(NotificationText.Render(notice)));
                break;
            case IntegrationKinds.Telegram:
                url = $"{(s.ApiBaseUrl ?? IntegrationValidation.DefaultTelegramApi).TrimEnd('/')}/bot{s.BotToken}/sendMessage";
                body = ChatPayloads.Telegram(NotificationText.Render(notice), s.ChatId!);
                break;
            default:
                (url, body) = (s.Url!, WebhookBody(notice, deliveryId));
                break;
        }
        var bytes = Encoding.UTF8.GetBytes(body.ToJsonString(JsonBody.Options));
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(bytes) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        if (channel.Kind == IntegrationKinds.Webhook)
        {
            request.Headers.Add(SignatureHeader, Sign(bytes, s.Secret!));
            request.Headers.Add(EventHeader, notice.Kind);
            request.Headers.Add(DeliveryHeader, deliveryId);
        }
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        var status = (int)response.StatusCode;
        if (response.IsSuccessStatusCode)
        {
            return new SendOutcome(true, false, status, null);
        }
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        // 408 and 429 say "later"; other 4xx say the request itself is wrong (a deleted webhook, a bad chat id).
        var permanent = status is >= 400 and < 500 and not (408 or 429);
        return new SendOutcome(false, permanent, status,
            $"HTTP {status} {response.ReasonPhrase}" + (text.Length == 0 ? "" : ": " + (text.Length > MaxErrorBody ? text[..MaxErrorBody] + "…" : text)),
            RetryAfter(response.Headers.RetryAfter));
    }

    /// <summary>A <c>Retry-After</c> as a wait from now: seconds, or a date (RFC 9110); null when absent or already past.</summary>
    internal static TimeSpan? RetryAfter(RetryConditionHeaderValue? header)
    {
        var wait = header?.Delta ?? (header?.Date is { } date ? date - DateTimeOffset.UtcNow : null);
        return wait > TimeSpan.Zero ? wait : null;
    }

    /// <summary>The generic webhook's body: the delivery id (to deduplicate retries) and the event as stored.</summary>
    private static JsonObject WebhookBody(NotificationEvent notice, string deliveryId) => new()
    {
        ["delivery"] = deliveryId,
        ["event"] = JsonSerializer.SerializeToNode(notice, JsonBody.Options),
    };

    /// <summary><c>sha256=</c> and the lower-case hex HMAC-SHA256 of the raw body under the channel's secret (docs/NOTIFICATIONS.md).</summary>
    public static string Sign(ReadOnlySpan<byte> body, string secret) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    private static async Task<SendOutcome> SendMailAsync(IntegrationSettings s, RenderedMessage m, CancellationToken cancellationToken)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(s.From!));
        foreach (var to in s.Recipients!)
        {
            message.To.Add(MailboxAddress.Parse(to!));
        }
        message.Subject = "[LeakNode] " + m.Title;
        var builder = new BodyBuilder { TextBody = m.PlainText(), HtmlBody = Html(m) };
        message.Body = builder.ToMessageBody();

        using var smtp = new SmtpClient();
        var security = s.TlsMode switch
        {
            "tls" => SecureSocketOptions.SslOnConnect,
            "none" => SecureSocketOptions.None,
            _ => SecureSocketOptions.StartTls,
        };
        await smtp.ConnectAsync(s.Host!, s.Port ?? 587, security, cancellationToken);
        if (s.Username is not null)
        {
            await smtp.AuthenticateAsync(s.Username, s.Password ?? "", cancellationToken);
        }
        await smtp.SendAsync(message, cancellationToken);
        await smtp.DisconnectAsync(quit: true, cancellationToken);
        return SendOutcome.Ok;
    }

    private static string Html(RenderedMessage m)
    {
        var html = new StringBuilder("<!DOCTYPE html><html><body style=\"font-family:sans-serif\"><h2>").Append(WebUtility.HtmlEncode(m.Title)).Append("</h2><table>");
        foreach (var (name, value) in m.Facts)
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr><th align=\"left\">{WebUtility.HtmlEncode(name)}</th><td>{WebUtility.HtmlEncode(value)}</td></tr>");
        }
        html.Append("</table>");
        foreach (var line in m.Lines)
        {
            html.Append("<p>").Append(WebUtility.HtmlEncode(line)).Append("</p>");
        }
        if (m.Link is not null)
        {
            html.Append(CultureInfo.InvariantCulture, $"<p><a href=\"{WebUtility.HtmlEncode(m.Link)}\">{RenderedMessage.LinkTitle}</a></p>");
        }
        return html.Append("</body></html>").ToString();
    }

    private static string Scrub(string error, IntegrationSettings s)
    {
        foreach (var secret in SettingFields.SecretValues(s))
        {
            error = error.Replace(secret, "…", StringComparison.Ordinal);
        }
        return error;
    }

    public void Dispose() => _http.Dispose();
}
