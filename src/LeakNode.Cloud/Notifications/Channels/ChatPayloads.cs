using System.Net;
using System.Text.Json.Nodes;

namespace LeakNode.Cloud.Notifications.Channels;

/// <summary>The JSON bodies of the chat services, each from a <see cref="RenderedMessage"/>.</summary>
internal static class ChatPayloads
{
    /// <summary>Telegram refuses longer messages.</summary>
    private const int TelegramMaxLength = 4096;

    /// <summary>Slack's incoming webhook: Block Kit, with <c>text</c> as the fallback for notifications.</summary>
    public static JsonObject Slack(RenderedMessage m)
    {
        var blocks = new JsonArray
        {
            new JsonObject { ["type"] = "header", ["text"] = PlainText(Cut(m.Title, 150)) },
        };
        // A section holds at most 10 fields.
        foreach (var chunk in m.Facts.Chunk(10))
        {
            blocks.Add(new JsonObject
            {
                ["type"] = "section",
                ["fields"] = new JsonArray([.. chunk.Select(f => (JsonNode)Mrkdwn($"*{SlackEscape(f.Name)}*\n{SlackEscape(f.Value)}"))]),
            });
        }
        if (m.Lines.Count > 0)
        {
            blocks.Add(new JsonObject { ["type"] = "section", ["text"] = Mrkdwn(Cut(SlackEscape(string.Join('\n', m.Lines)), 3000)) });
        }
        if (m.Link is not null)
        {
            blocks.Add(new JsonObject
            {
                ["type"] = "actions",
                ["elements"] = new JsonArray(new JsonObject { ["type"] = "button", ["text"] = PlainText(RenderedMessage.LinkTitle), ["url"] = m.Link }),
            });
        }
        return new JsonObject { ["text"] = m.Title, ["blocks"] = blocks };

        static JsonObject PlainText(string text) => new() { ["type"] = "plain_text", ["text"] = text };
        static JsonObject Mrkdwn(string text) => new() { ["type"] = "mrkdwn", ["text"] = text };
    }

    /// <summary>A Teams workflow webhook ("When a Teams webhook request is received"): a message with one Adaptive Card.</summary>
    public static JsonObject Teams(RenderedMessage m)
    {
        var body = new JsonArray
        {
            new JsonObject { ["type"] = "TextBlock", ["text"] = m.Title, ["weight"] = "Bolder", ["size"] = "Medium", ["wrap"] = true },
            new JsonObject
            {
                ["type"] = "FactSet",
                ["facts"] = new JsonArray([.. m.Facts.Select(f => (JsonNode)new JsonObject { ["title"] = f.Name, ["value"] = f.Value })]),
            },
        };
        foreach (var line in m.Lines)
        {
            body.Add(new JsonObject { ["type"] = "TextBlock", ["text"] = line, ["wrap"] = true });
        }
        var card = new JsonObject
        {
            ["$schema"] = "http://adaptivecards.io/schemas/adaptive-card.json",
            ["type"] = "AdaptiveCard",
            ["version"] = "1.4",
            ["body"] = body,
        };
        if (m.Link is not null)
        {
            card["actions"] = new JsonArray(new JsonObject { ["type"] = "Action.OpenUrl", ["title"] = RenderedMessage.LinkTitle, ["url"] = m.Link });
        }
        return new JsonObject
        {
            ["type"] = "message",
            ["attachments"] = new JsonArray(new JsonObject
            {
                ["contentType"] = "application/vnd.microsoft.card.adaptive",
                ["contentUrl"] = null,
                ["content"] = card,
            }),
        };
    }

    /// <summary>Telegram's <c>sendMessage</c> in HTML mode (its Markdown needs every dot escaped).</summary>
    public static JsonObject Telegram(RenderedMessage m, string chatId)
    {
        var text = new System.Text.StringBuilder("<b>").Append(WebUtility.HtmlEncode(m.Title)).Append("</b>\n");
        foreach (var (name, value) in m.Facts)
        {
            text.Append("<b>").Append(WebUtility.HtmlEncode(name)).Append(":</b> ").Append(WebUtility.HtmlEncode(value)).Append('\n');
        }
        foreach (var line in m.Lines)
        {
            text.Append(WebUtility.HtmlEncode(line)).Append('\n');
        }
        var link = m.Link is null ? "" : $"\n<a href=\"{WebUtility.HtmlEncode(m.Link)}\">{RenderedMessage.LinkTitle}</a>";
        var message = text.ToString();
        if (message.Length + link.Length > TelegramMaxLength)
        {
            // Cut at a line break so that no tag is left open.
            var cut = message.LastIndexOf('\n', TelegramMaxLength - link.Length - 2);
            message = message[..Math.Max(0, cut)] + "\n…";
        }
        return new JsonObject
        {
            ["chat_id"] = chatId,
            ["text"] = message + link,
            ["parse_mode"] = "HTML",
            ["disable_web_page_preview"] = true,
        };
    }

    // Slack's mrkdwn treats &, < and > as control characters; everything else is literal enough.
    private static string SlackEscape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    private static string Cut(string text, int max) => text.Length <= max ? text : string.Concat(text.AsSpan(0, max - 1), "…");
}
