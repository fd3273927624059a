using Wire = LeakNode.Protocol.V1.AttackEvent;

namespace LeakNode.Node.Events;

/// <summary>An attack event in its wire form. The node id is not sent: the cloud knows the node from its token and fills in its own id.</summary>
internal static class EventWire
{
    public static Wire ToWire(AttackEvent attack) => new()
    {
        Id = attack.Id,
        Type = attack.Type,
        TimeUnixMs = attack.Time.ToUnixTimeMilliseconds(),
        LeakId = attack.LeakId,
        TokenId = attack.TokenId,
        TokenFingerprint = attack.TokenFingerprint,
        TokenPreview = attack.TokenPreview ?? "",
        Action = attack.Action,
        Hits = attack.Hits,
        ClientIp = attack.ClientIp,
        Method = attack.Method,
        Host = attack.Host,
        Path = attack.Path,
        Location = attack.Location,
        StatusCode = attack.StatusCode,
    };
}
