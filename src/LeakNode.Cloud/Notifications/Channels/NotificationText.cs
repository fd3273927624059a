using System.Globalization;

namespace LeakNode.Cloud.Notifications.Channels;

/// <summary>A notification in words, before a channel puts it in its own format: a title, facts, lines and a link.</summary>
internal sealed record RenderedMessage(string Title, IReadOnlyList<(string Name, string Value)> Facts, IReadOnlyList<string> Lines, string? Link)
{
    public const string LinkTitle = "Open in LeakNode";

    /// <summary>The message as plain text: mail bodies and fallbacks.</summary>
    public string PlainText()
    {
        var text = new System.Text.StringBuilder(Title).Append("\n\n");
        foreach (var (name, value) in Facts)
        {
            text.Append(name).Append(": ").Append(value).Append('\n');
        }
        if (Lines.Count > 0)
        {
            text.Append('\n');
            foreach (var line in Lines)
            {
                text.Append(line).Append('\n');
            }
        }
        if (Link is not null)
        {
            text.Append('\n').Append(LinkTitle).Append(": ").Append(Link).Append('\n');
        }
        return text.ToString();
    }
}

/// <summary>
/// Words for each kind of notification. Built from the stored event only, which holds masked previews and never a
/// token, so no channel can show more than the API does.
/// </summary>
internal static class NotificationText
{
    public static RenderedMessage Render(NotificationEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (e.Digest is { } digest)
        {
            return Digest(digest);
        }
        var leak = e.Leak;
        var name = leak?.Name ?? "";
        var title = e.Kind switch
        {
            NotificationKinds.LeakCreated => $"New leak: {name}",
            NotificationKinds.LeakReopened => $"Leak reopened: {name}",
            NotificationKinds.LeakStatusChanged => $"Leak changed: {name} ({e.Change})",
            NotificationKinds.LeakRiskChanged => $"Leak risk changed: {name}",
            NotificationKinds.AttemptFirst => $"First attempt with a leaked token: {name}",
            NotificationKinds.AttemptRate => $"{e.Attempts?.Count} attempts in {e.Attempts?.WindowMinutes} min: {name}",
            NotificationKinds.Test => "LeakNode test notification",
            _ => $"{e.Kind}: {name}",
        };
        var facts = new List<(string, string)>();
        var lines = new List<string>();
        if (leak is not null)
        {
            facts.Add(("Risk", $"{leak.Risk.Level} ({leak.Risk.Score})"));
            facts.Add(("Status", leak.Remediation == "none" ? leak.Status : $"{leak.Status}, {leak.Remediation}"));
            if (leak.SourceKind is not null)
            {
                facts.Add(("Source", leak.SourceUrl is null ? leak.SourceKind : $"{leak.SourceKind} {leak.SourceUrl}"));
            }
            var previews = string.Join(", ", leak.Previews) + (leak.TokenCount > leak.Previews.Count ? ", …" : "");
            facts.Add(("Tokens", leak.TokenCount.ToString(CultureInfo.InvariantCulture) + (previews.Length > 0 ? $" ({previews})" : "")));
        }
        if (e.Change is not null && e.Kind != NotificationKinds.LeakStatusChanged)
        {
            facts.Add(("Change", e.Change));
        }
        if (e.Attempts is { } attempts)
        {
            facts.Add(("Attempts", attempts.WindowMinutes is { } window
                ? $"{attempts.Count} in the last {window} min"
                : attempts.Count.ToString(CultureInfo.InvariantCulture)));
            facts.Add(("Last attempt", Time(attempts.Last)));
        }
        if (e.Actor is not null)
        {
            facts.Add(("By", e.Actor));
        }
        if (!string.IsNullOrEmpty(e.Comment))
        {
            lines.Add("Comment: " + e.Comment);
        }
        if (e.Kind == NotificationKinds.Test)
        {
            lines.Add("This channel is set up correctly: LeakNode notifications will arrive here.");
        }
        return new RenderedMessage(title, facts, lines, leak?.Link);
    }

    private static RenderedMessage Digest(DigestSummary d)
    {
        var facts = new List<(string, string)>
        {
            ("Open", Count(d.ByStatus, "open")),
            ("Closed", Count(d.ByStatus, "closed")),
            ("False", Count(d.ByStatus, "false")),
            ("By risk", string.Join(", ", d.ByRisk.Select(r => $"{r.Key} {r.Value}"))),
            ("Need attention", d.NeedAttentionTotal.ToString(CultureInfo.InvariantCulture)),
        };
        var lines = new List<string>();
        if (d.NeedAttention.Count > 0)
        {
            lines.Add("Open leaks without a virtual patch:");
            lines.AddRange(d.NeedAttention.Select(l => $"• {l.Name} ({l.Risk.Level} {l.Risk.Score}) {l.Link}"));
        }
        if (d.TopAttempted.Count > 0)
        {
            lines.Add("Most attempted in the last 24 hours:");
            lines.AddRange(d.TopAttempted.Select(l => $"• {l.Name}: {l.Attempts} attempts ({l.Risk.Level}, {l.Status}) {l.Link}"));
        }
        if (lines.Count == 0)
        {
            lines.Add("Nothing needs attention.");
        }
        return new RenderedMessage($"LeakNode daily digest, {d.Day}", facts, lines, null);

        static string Count(IReadOnlyDictionary<string, long> counts, string key) => counts.GetValueOrDefault(key).ToString(CultureInfo.InvariantCulture);
    }

    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);
}
