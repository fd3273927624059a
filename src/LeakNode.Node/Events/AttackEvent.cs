using System.Text.Json;
using System.Text.Json.Serialization;

namespace LeakNode.Node.Events;

/// <summary>
/// One attempt to use a leaked token, as the contract defines it (type <c>vpatch</c>). Carries the token only as
/// its id, fingerprint and masked preview; host and path have any token in them masked the same way.
/// </summary>
/// <param name="Id">Unique and time-ordered (a UUIDv7), so that a resend is recognised as the same event.</param>
/// <param name="Hits">Identical attempts within the aggregation window that this event stands for.</param>
/// <param name="Action"><c>blocked</c> or <c>monitored</c>.</param>
/// <param name="Location">Where the token was found: <c>header:Authorization</c>, <c>query:api_key</c>, <c>body:json</c>, <c>cookie:sid</c>, <c>path</c>…</param>
public sealed record AttackEvent(
    string Id,
    string Type,
    DateTimeOffset Time,
    string NodeId,
    string LeakId,
    string TokenId,
    string TokenFingerprint,
    string? TokenPreview,
    string Action,
    int Hits,
    string ClientIp,
    string Method,
    string Host,
    string Path,
    string Location,
    int StatusCode)
{
    public const string VirtualPatch = "vpatch";
    public const string Blocked = "blocked";
    public const string Monitored = "monitored";
}

[JsonSerializable(typeof(AttackEvent))]
internal sealed partial class EventJsonContext : JsonSerializerContext
{
    /// <summary>Web defaults, and previews' ellipsis (…) kept as itself: the JSON goes to logs that people read.</summary>
    public static EventJsonContext Readable { get; } = new(new JsonSerializerOptions(JsonSerializerDefaults.Web)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
