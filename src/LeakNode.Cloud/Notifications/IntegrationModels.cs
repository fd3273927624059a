using System.Text.Json.Serialization;
using LeakNode.Cloud.Leaks;

namespace LeakNode.Cloud.Notifications;

// The REST shapes of notification channels (CONTRACT.md: /api/v1/integrations). Requests use nullable members so
// that validation names a missing field, as the leak requests do.

/// <summary>
/// <c>POST /api/v1/integrations</c> and <c>PATCH /api/v1/integrations/{id}</c>. On PATCH every member is optional and
/// <see cref="Kind"/> cannot change; settings given replace the stored ones, secret settings left out are kept.
/// </summary>
public sealed record IntegrationRequest(
    string? Name,
    string? Kind,
    bool? Enabled,
    IReadOnlyList<string?>? Events,
    string? MinRisk,
    AttemptRateRequest? AttemptRate,
    IntegrationSettings? Settings);

/// <summary>"Attempts above a rate": at least <see cref="Count"/> attempts on one leak within <see cref="WindowMinutes"/>. A count of 0 turns it off.</summary>
public sealed record AttemptRateRequest(int? Count, int? WindowMinutes);

/// <summary>
/// A channel's settings, every kind's in one flat object; each kind takes its own (<see cref="IntegrationKinds"/>).
/// Secret ones (<see cref="Password"/>, <see cref="WebhookUrl"/>, <see cref="BotToken"/>, <see cref="Url"/>,
/// <see cref="Secret"/>) are stored sealed and never shown again.
/// </summary>
public sealed record IntegrationSettings
{
    /// <summary>email: the SMTP server.</summary>
    public string? Host { get; init; }

    /// <summary>email: the SMTP port; default 587 (starttls), 465 (tls) or 25 (none).</summary>
    public int? Port { get; init; }

    /// <summary>email: <c>none</c>, <c>starttls</c> (default) or <c>tls</c> (TLS from the first byte).</summary>
    public string? TlsMode { get; init; }

    /// <summary>email: the SMTP user, when the server wants a login.</summary>
    public string? Username { get; init; }

    /// <summary>email: the SMTP password (secret).</summary>
    public string? Password { get; init; }

    /// <summary>email: the sender, e.g. <c>LeakNode &lt;leaknode@example.com&gt;</c>.</summary>
    public string? From { get; init; }

    /// <summary>email: the addresses the mail goes to.</summary>
    public IReadOnlyList<string?>? Recipients { get; init; }

    /// <summary>slack, teams: the incoming webhook (Slack) or workflow webhook (Teams) URL; it holds the secret (secret).</summary>
    public string? WebhookUrl { get; init; }

    /// <summary>telegram: the bot token from BotFather (secret).</summary>
    public string? BotToken { get; init; }

    /// <summary>telegram: the chat id (a number, negative for groups) or <c>@channelname</c>.</summary>
    public string? ChatId { get; init; }

    /// <summary>telegram: the Bot API's base URL. Default <c>https://api.telegram.org</c>.</summary>
    public string? ApiBaseUrl { get; init; }

    /// <summary>webhook: where the JSON is posted (secret: such URLs often embed a key).</summary>
    public string? Url { get; init; }

    /// <summary>webhook: the key of the <c>X-LeakNode-Signature</c> HMAC-SHA256, 16 to 512 characters (secret).</summary>
    public string? Secret { get; init; }
}

/// <summary>A channel as the API shows it: settings without secrets, and for each secret only whether it is set.</summary>
public sealed record IntegrationView(
    string Id,
    string Name,
    string Kind,
    bool Enabled,
    IReadOnlyList<string> Events,
    string MinRisk,
    AttemptRateView? AttemptRate,
    IReadOnlyDictionary<string, object> Settings,
    IReadOnlyDictionary<string, SecretView> Secrets,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

public sealed record AttemptRateView(int Count, int WindowMinutes);

/// <summary>A secret setting: set or not, and for a URL its scheme and host (<c>https://hooks.slack.com/…</c>).</summary>
public sealed record SecretView(bool Set, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Hint);

/// <summary>One notification to one channel: its event, and how sending it went.</summary>
public sealed record DeliveryView(
    string Id,
    string Event,
    string? LeakId,
    string Status,
    int Attempts,
    DateTimeOffset CreatedAt,
    DateTimeOffset? NextAttemptAt,
    DateTimeOffset? FinishedAt,
    int? ResponseStatus,
    string? LastError);

/// <summary>The channel kinds and the notification events they can subscribe to.</summary>
public static class IntegrationKinds
{
    public const string Email = "email";
    public const string Slack = "slack";
    public const string Teams = "teams";
    public const string Telegram = "telegram";
    public const string Webhook = "webhook";

    public static readonly IReadOnlyList<string> All = [Email, Slack, Teams, Telegram, Webhook];
}

/// <summary>What a notification is about. Channels subscribe to these by name.</summary>
public static class NotificationKinds
{
    public const string LeakCreated = "leak.created";
    public const string LeakReopened = "leak.reopened";

    /// <summary>Status or remediation changed: virtual patch applied, closed, marked false.</summary>
    public const string LeakStatusChanged = "leak.status-changed";
    public const string LeakRiskChanged = "leak.risk-changed";
    public const string AttemptFirst = "attempt.first";
    public const string AttemptRate = "attempt.rate";
    public const string DailyDigest = "daily-digest";

    /// <summary>Sent by "Send test" only; not subscribable.</summary>
    public const string Test = "test";

    public static readonly IReadOnlyList<string> Subscribable = [LeakCreated, LeakReopened, LeakStatusChanged, LeakRiskChanged, AttemptFirst, AttemptRate, DailyDigest];

    /// <summary>What a channel gets when its request names no events: every change of a leak and the first attempt.</summary>
    public static readonly IReadOnlyList<string> Default = [LeakCreated, LeakReopened, LeakStatusChanged, LeakRiskChanged, AttemptFirst];

    /// <summary>Events about one leak: the channel's minimum risk applies to them.</summary>
    public static bool IsAboutLeak(string kind) => kind is not (DailyDigest or Test);
}

/// <summary>Where a delivery is: waiting to be sent (again), sent, or given up.</summary>
public static class DeliveryStatuses
{
    public const string Pending = "pending";
    public const string Sent = "sent";
    public const string Failed = "failed";
}

/// <summary>
/// What a notification says, built when the change happens and stored with the delivery (JSON, camelCase). It holds a
/// leak's masked token previews only, never a token. The generic webhook receives it as it is.
/// </summary>
public sealed record NotificationEvent(
    string Id,
    string Kind,
    DateTimeOffset At,
    LeakSummary? Leak,
    string? Actor,
    string? Comment,
    string? Change,
    AttemptSummary? Attempts,
    DigestSummary? Digest);

/// <summary>A leak as a notification shows it; <see cref="Previews"/> are masked (<c>ghp_…9f3a</c>), at most five.</summary>
public sealed record LeakSummary(
    string Id,
    string Name,
    RiskView Risk,
    string Status,
    string Remediation,
    int TokenCount,
    string? SourceKind,
    string? SourceUrl,
    IReadOnlyList<string> Previews,
    string Link);

/// <summary>Attempts on a leak: how many in the window (<see cref="WindowMinutes"/> null for the first attempt), and the newest one's time.</summary>
public sealed record AttemptSummary(long Count, int? WindowMinutes, DateTimeOffset Last);

/// <summary>The daily digest: counts by risk level and status, open leaks with no patch, and the leaks attempted most in 24 hours.</summary>
public sealed record DigestSummary(
    string Day,
    IReadOnlyDictionary<string, long> ByRisk,
    IReadOnlyDictionary<string, long> ByStatus,
    long NeedAttentionTotal,
    IReadOnlyList<DigestLeak> NeedAttention,
    IReadOnlyList<DigestLeak> TopAttempted);

public sealed record DigestLeak(string Id, string Name, RiskView Risk, string Status, string Remediation, long Attempts, string Link);
