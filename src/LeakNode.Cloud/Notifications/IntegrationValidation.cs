using System.Text.RegularExpressions;
using LeakNode.Cloud.Api;
using LeakNode.Cloud.Configuration;
using LeakNode.Cloud.Leaks;
using MimeKit;

namespace LeakNode.Cloud.Notifications;

/// <summary>A channel request that validation accepted: settings merged with the stored ones, defaults filled in.</summary>
internal sealed record ValidIntegration(
    string Name, string Kind, bool Enabled, IReadOnlyList<string> Events, int MinRisk, int RateCount, int RateWindow, IntegrationSettings Settings);

/// <summary>Checks channel requests and reports every problem at once, each under its field (<c>settings.webhookUrl</c>).</summary>
internal static partial class IntegrationValidation
{
    public const string DefaultTelegramApi = "https://api.telegram.org";
    public const int MaxRecipients = 50;
    public const int DefaultRateWindow = 5;

    /// <summary>Checks a create (<paramref name="existing"/> null) or a change of <paramref name="existing"/>; null when <paramref name="errors"/> got any.</summary>
    public static ValidIntegration? Check(IntegrationRequest body, StoredIntegration? existing, LimitOptions limits, Errors errors)
    {
        ArgumentNullException.ThrowIfNull(body);
        var name = body.Name?.Trim() ?? existing?.Name;
        if (string.IsNullOrEmpty(name) || name.Length > limits.MaxNameLength)
        {
            errors.Add("name", $"must be 1 to {limits.MaxNameLength} characters");
        }

        var kind = existing?.Kind ?? body.Kind;
        if (existing is not null && body.Kind is not null && body.Kind != existing.Kind)
        {
            errors.Add("kind", $"cannot change ({existing.Kind}); create another channel instead");
        }
        else if (kind is null || !IntegrationKinds.All.Contains(kind))
        {
            errors.Add("kind", $"must be one of {string.Join(", ", IntegrationKinds.All)}");
            kind = null;
        }

        var rateCount = existing?.RateCount ?? 0;
        var rateWindow = existing?.RateWindow ?? DefaultRateWindow;
        if (body.AttemptRate is { } rate)
        {
            rateCount = rate.Count ?? rateCount;
            rateWindow = rate.WindowMinutes ?? rateWindow;
            if (rateCount is < 0 or > 1_000_000)
            {
                errors.Add("attemptRate.count", "must be between 1 and 1000000 (0 turns it off)");
            }
            if (rateWindow is < 1 or > AttemptWatch.MaxWindowMinutes)
            {
                errors.Add("attemptRate.windowMinutes", $"must be between 1 and {AttemptWatch.MaxWindowMinutes}");
            }
        }

        IReadOnlyList<string> events;
        if (body.Events is null)
        {
            events = existing?.EventList
                ?? (rateCount > 0 ? [.. NotificationKinds.Default, NotificationKinds.AttemptRate] : NotificationKinds.Default);
        }
        else
        {
            var list = new List<string>();
            for (var i = 0; i < body.Events.Count; i++)
            {
                if (body.Events[i] is { } e && NotificationKinds.Subscribable.Contains(e))
                {
                    if (!list.Contains(e))
                    {
                        list.Add(e);
                    }
                }
                else
                {
                    errors.Add($"events[{i}]", $"must be one of {string.Join(", ", NotificationKinds.Subscribable)}");
                }
            }
            if (body.Events.Count == 0)
            {
                errors.Add("events", "must name at least one event (disable the channel to pause it)");
            }
            events = list;
        }
        if (events.Contains(NotificationKinds.AttemptRate) && rateCount == 0)
        {
            errors.Add("attemptRate", $"is required for the {NotificationKinds.AttemptRate} event: {{count, windowMinutes}}");
        }

        var minRisk = existing?.MinRisk ?? 1;
        if (body.MinRisk is not null)
        {
            if (RiskLevels.All.Contains(body.MinRisk))
            {
                minRisk = RiskLevels.Range(body.MinRisk).Min;
            }
            else
            {
                errors.Add("minRisk", $"must be one of {string.Join(", ", RiskLevels.All)}");
            }
        }

        var settings = Merge(existing?.Settings, body.Settings);
        if (kind is not null)
        {
            if (body.Settings is null && existing is null)
            {
                errors.Add("settings", $"is required: the {kind} channel's settings");
            }
            settings = CheckSettings(kind, body.Settings, settings, limits, errors);
        }
        return errors.Any ? null : new ValidIntegration(name!, kind!, body.Enabled ?? existing?.Enabled ?? true, events, minRisk, rateCount, rateWindow, settings);
    }

    /// <summary>The stored settings with the request's on top; an empty string clears an optional one.</summary>
    private static IntegrationSettings Merge(IntegrationSettings? stored, IntegrationSettings? given)
    {
        stored ??= new IntegrationSettings();
        if (given is null)
        {
            return stored;
        }
        return new IntegrationSettings
        {
            Host = Pick(given.Host, stored.Host),
            Port = given.Port ?? stored.Port,
            TlsMode = Pick(given.TlsMode, stored.TlsMode),
            Username = Pick(given.Username, stored.Username),
            Password = Pick(given.Password, stored.Password),
            From = Pick(given.From, stored.From),
            Recipients = given.Recipients ?? stored.Recipients,
            WebhookUrl = Pick(given.WebhookUrl, stored.WebhookUrl),
            BotToken = Pick(given.BotToken, stored.BotToken),
            ChatId = Pick(given.ChatId, stored.ChatId),
            ApiBaseUrl = Pick(given.ApiBaseUrl, stored.ApiBaseUrl),
            Url = Pick(given.Url, stored.Url),
            Secret = Pick(given.Secret, stored.Secret),
        };

        static string? Pick(string? given, string? stored) => given is null ? stored : given.Trim().Length == 0 ? null : given.Trim();
    }

    private static IntegrationSettings CheckSettings(string kind, IntegrationSettings? given, IntegrationSettings s, LimitOptions limits, Errors errors)
    {
        // A setting of another kind is a mistake worth naming (a Slack URL pasted into a webhook channel's "webhookUrl").
        if (given is not null)
        {
            foreach (var field in SettingFields.All)
            {
                if (field.Get(given) is not null && !field.Kinds.Contains(kind))
                {
                    errors.Add("settings." + field.Name, $"is not a setting of {kind} channels; they take {string.Join(", ", SettingFields.Of(kind).Select(f => f.Name))}");
                }
            }
        }
        switch (kind)
        {
            case IntegrationKinds.Email:
                var tls = s.TlsMode ?? "starttls";
                if (tls is not ("none" or "starttls" or "tls"))
                {
                    errors.Add("settings.tlsMode", "must be none, starttls or tls");
                }
                if (string.IsNullOrEmpty(s.Host) || s.Host.Length > 255 || s.Host.Any(char.IsWhiteSpace))
                {
                    errors.Add("settings.host", "is required: the SMTP server's host name");
                }
                var port = s.Port ?? (tls == "tls" ? 465 : tls == "none" ? 25 : 587);
                if (port is < 1 or > 65535)
                {
                    errors.Add("settings.port", "must be between 1 and 65535");
                }
                if (s.From is null || !MailboxAddress.TryParse(s.From, out var from) || !from.Address.Contains('@', StringComparison.Ordinal))
                {
                    errors.Add("settings.from", "is required: a mail address (LeakNode <leaknode@example.com>)");
                }
                if (s.Recipients is null || s.Recipients.Count is 0 or > MaxRecipients)
                {
                    errors.Add("settings.recipients", $"must list 1 to {MaxRecipients} mail addresses");
                }
                else
                {
                    for (var i = 0; i < s.Recipients.Count; i++)
                    {
                        if (s.Recipients[i] is not { } to || !MailboxAddress.TryParse(to, out var address) || !address.Address.Contains('@', StringComparison.Ordinal))
                        {
                            errors.Add($"settings.recipients[{i}]", "is not a mail address");
                        }
                    }
                }
                if (s.Password is not null && s.Username is null)
                {
                    errors.Add("settings.username", "is required with a password");
                }
                return s with { TlsMode = tls, Port = port, Recipients = s.Recipients?.Select(r => r?.Trim()).ToList() };
            case IntegrationKinds.Slack or IntegrationKinds.Teams:
                CheckUrl("settings.webhookUrl", s.WebhookUrl, required: true, limits, errors);
                return s;
            case IntegrationKinds.Telegram:
                if (s.BotToken is null || !BotToken().IsMatch(s.BotToken))
                {
                    errors.Add("settings.botToken", "is required: the bot token BotFather gave (digits, a colon, then letters)");
                }
                if (s.ChatId is null || !ChatId().IsMatch(s.ChatId))
                {
                    errors.Add("settings.chatId", "is required: a chat id (a number, negative for groups) or @channelname");
                }
                CheckUrl("settings.apiBaseUrl", s.ApiBaseUrl, required: false, limits, errors);
                return s;
            default:
                CheckUrl("settings.url", s.Url, required: true, limits, errors);
                if (s.Secret is null || s.Secret.Length is < 16 or > 512)
                {
                    errors.Add("settings.secret", "is required: 16 to 512 characters that sign each body (X-LeakNode-Signature)");
                }
                return s;
        }
    }

    private static void CheckUrl(string field, string? value, bool required, LimitOptions limits, Errors errors)
    {
        if (value is null)
        {
            if (required)
            {
                errors.Add(field, "is required: an http:// or https:// URL");
            }
            return;
        }
        if (value.Length > limits.MaxUrlLength || !Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            errors.Add(field, $"must be an http:// or https:// URL of at most {limits.MaxUrlLength} characters");
        }
    }

    [GeneratedRegex("^[0-9]{1,20}:[A-Za-z0-9_-]{20,200}$")]
    private static partial Regex BotToken();

    [GeneratedRegex("^(-?[0-9]{1,20}|@[A-Za-z0-9_]{5,64})$")]
    private static partial Regex ChatId();
}

/// <summary>Which settings each channel kind takes, and which of them are secret.</summary>
internal static class SettingFields
{
    public sealed record Field(string Name, bool Secret, IReadOnlyList<string> Kinds, Func<IntegrationSettings, object?> Get);

    public static readonly IReadOnlyList<Field> All =
    [
        new("host", false, [IntegrationKinds.Email], s => s.Host),
        new("port", false, [IntegrationKinds.Email], s => s.Port),
        new("tlsMode", false, [IntegrationKinds.Email], s => s.TlsMode),
        new("username", false, [IntegrationKinds.Email], s => s.Username),
        new("password", true, [IntegrationKinds.Email], s => s.Password),
        new("from", false, [IntegrationKinds.Email], s => s.From),
        new("recipients", false, [IntegrationKinds.Email], s => s.Recipients),
        new("webhookUrl", true, [IntegrationKinds.Slack, IntegrationKinds.Teams], s => s.WebhookUrl),
        new("botToken", true, [IntegrationKinds.Telegram], s => s.BotToken),
        new("chatId", false, [IntegrationKinds.Telegram], s => s.ChatId),
        new("apiBaseUrl", false, [IntegrationKinds.Telegram], s => s.ApiBaseUrl),
        new("url", true, [IntegrationKinds.Webhook], s => s.Url),
        new("secret", true, [IntegrationKinds.Webhook], s => s.Secret),
    ];

    public static IEnumerable<Field> Of(string kind) => All.Where(f => f.Kinds.Contains(kind));

    /// <summary>The settings without their secrets: what is stored in the clear.</summary>
    public static IntegrationSettings Public(IntegrationSettings s) => s with { Password = null, WebhookUrl = null, BotToken = null, Url = null, Secret = null };

    /// <summary>The secrets alone: what is sealed.</summary>
    public static IntegrationSettings Secrets(IntegrationSettings s) =>
        new() { Password = s.Password, WebhookUrl = s.WebhookUrl, BotToken = s.BotToken, Url = s.Url, Secret = s.Secret };

    /// <summary>The secret values that are set, to scrub from error messages.</summary>
    public static IEnumerable<string> SecretValues(IntegrationSettings s) =>
        All.Where(f => f.Secret).Select(f => f.Get(s) as string).OfType<string>().Where(v => v.Length >= 4);
}
