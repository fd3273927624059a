using System.Net;
using Microsoft.AspNetCore.Http;

namespace LeakNode.Node.Inspection;

/// <summary>
/// The client's address for events: the connection's peer, or — when that peer is a trusted proxy
/// (<c>Network:TrustedProxies</c>) — the address it reports in <c>X-Forwarded-For</c>, walking the list from the
/// right while each hop is trusted, as ASP.NET Core's ForwardedHeadersMiddleware does. The request itself is not
/// changed: the upstream sees the header as the client sent it (YARP appends the node's hop).
/// </summary>
internal sealed class ClientAddress
{
    private readonly IPAddress[] _proxies;
    private readonly System.Net.IPNetwork[] _networks;

    public ClientAddress(IEnumerable<string> trusted)
    {
        var proxies = new List<IPAddress>();
        var networks = new List<System.Net.IPNetwork>();
        foreach (var entry in trusted)
        {
            if (IPAddress.TryParse(entry, out var address))
            {
                proxies.Add(Normalize(address));
            }
            else if (System.Net.IPNetwork.TryParse(entry, out var network))
            {
                networks.Add(network);
            }
        }
        _proxies = [.. proxies];
        _networks = [.. networks];
    }

    public string Resolve(HttpContext context)
    {
        var peer = context.Connection.RemoteIpAddress is { } remote ? Normalize(remote) : null;
        if (peer is null)
        {
            return "unknown";
        }
        if (!IsTrusted(peer))
        {
            return peer.ToString();
        }

        var forwarded = context.Request.Headers["X-Forwarded-For"];
        var hops = forwarded.Count == 0 ? [] : string.Join(',', forwarded.ToArray()).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var client = peer;
        for (var i = hops.Length - 1; i >= 0; i--)
        {
            if (!IPAddress.TryParse(hops[i], out var hop) && !IPEndPoint.TryParse(hops[i], out _))
            {
                break;
            }
            client = Normalize(hop ?? IPEndPoint.Parse(hops[i]).Address);
            if (!IsTrusted(client))
            {
                break;
            }
        }
        return client.ToString();
    }

    private bool IsTrusted(IPAddress address)
    {
        foreach (var proxy in _proxies)
        {
            if (proxy.Equals(address))
            {
                return true;
            }
        }
        foreach (var network in _networks)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }
        return false;
    }

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
