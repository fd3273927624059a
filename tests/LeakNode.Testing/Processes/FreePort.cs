using System.Net;
using System.Net.Sockets;

namespace LeakNode.Testing.Processes;

/// <summary>
/// A loopback port free right now. Processes are configured through files, and a cloud restarted on the same data
/// must come back on the same port for its nodes, so the tests choose ports rather than asking for port 0.
/// </summary>
public static class FreePort
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
