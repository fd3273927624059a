using LeakNode.Protocol;
using WireAttackEvent = LeakNode.Protocol.V1.AttackEvent;

namespace LeakNode.Cloud.Sync;

/// <summary>
/// Checks an attack event from a node and turns it into an <see cref="IncomingAttack"/>. A malformed event is
/// skipped, not a reason to refuse its batch: a refused batch comes back from the node's spool again and again,
/// and would hold every good event in it hostage to one bad one ("nothing lost" beats "nothing odd").
/// </summary>
internal static class IncomingEvents
{
    public const string VirtualPatch = "vpatch";
    public const string Blocked = "blocked";
    public const string Monitored = "monitored";

    // DateTimeOffset's range in Unix milliseconds: 9999-12-31T23:59:59.999Z.
    private const long MaxUnixMilliseconds = 253_402_300_799_999;

    /// <summary>The event as the store takes it, or null and what is wrong with it (naming the field, never a token).</summary>
    public static IncomingAttack? Map(WireAttackEvent wire, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(wire);
        problem = Check(wire);
        if (problem is not null)
        {
            return null;
        }
        return new IncomingAttack(
            wire.Id,
            wire.Type,
            DateTimeOffset.FromUnixTimeMilliseconds(wire.TimeUnixMs),
            wire.LeakId,
            wire.TokenId,
            wire.TokenFingerprint,
            string.IsNullOrEmpty(wire.TokenPreview) ? null : wire.TokenPreview,
            wire.Action,
            wire.Hits,
            wire.ClientIp,
            wire.Method,
            Cut(wire.Host, EventBatchLimits.MaxHostLength),
            Cut(wire.Path, EventBatchLimits.MaxPathLength),
            wire.Location,
            wire.StatusCode);
    }

    private static string? Check(WireAttackEvent wire)
    {
        if (string.IsNullOrEmpty(wire.Id) || wire.Id.Length > EventBatchLimits.MaxEventIdLength)
        {
            return $"id must be 1 to {EventBatchLimits.MaxEventIdLength} characters (a UUIDv7), is {wire.Id.Length}";
        }
        var which = $"event {wire.Id}";
        if (wire.Type != VirtualPatch)
        {
            return $"{which}: type must be '{VirtualPatch}'";
        }
        if (wire.Action is not (Blocked or Monitored))
        {
            return $"{which}: action must be '{Blocked}' or '{Monitored}'";
        }
        if (wire.TimeUnixMs is <= 0 or > MaxUnixMilliseconds)
        {
            return $"{which}: time_unix_ms {wire.TimeUnixMs} is not a time";
        }
        if (wire.Hits < 1)
        {
            return $"{which}: hits must be at least 1, is {wire.Hits}";
        }
        if (wire.StatusCode != 0 && wire.StatusCode is < 100 or > 599)
        {
            return $"{which}: status_code {wire.StatusCode} is not an HTTP status";
        }
        return Length(which, "leak_id", wire.LeakId, 1, EventBatchLimits.MaxIdLength)
            ?? Length(which, "token_id", wire.TokenId, 1, EventBatchLimits.MaxIdLength)
            ?? Length(which, "token_fingerprint", wire.TokenFingerprint, 0, EventBatchLimits.MaxTokenTextLength)
            ?? Length(which, "token_preview", wire.TokenPreview, 0, EventBatchLimits.MaxTokenTextLength)
            ?? Length(which, "client_ip", wire.ClientIp, 0, EventBatchLimits.MaxClientIpLength)
            ?? Length(which, "method", wire.Method, 0, EventBatchLimits.MaxMethodLength)
            ?? Length(which, "location", wire.Location, 0, EventBatchLimits.MaxLocationLength);
    }

    private static string? Length(string which, string field, string value, int min, int max) =>
        value.Length >= min && value.Length <= max ? null : $"{which}: {field} must be {min} to {max} characters, is {value.Length}";

    // Host and path describe the request and may be long for a good reason (a long query string); cut, they still
    // say where the attempt went, and the event still counts.
    private static string Cut(string value, int max) => value.Length <= max ? value : string.Concat(value.AsSpan(0, max - 1), "…");
}
