using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace LeakNode.Hosting;

/// <summary>The hosting choices the node and the cloud share, kept in one place so that they cannot drift apart.</summary>
public static class HostingDefaults
{
    /// <summary>
    /// Listens on <paramref name="url"/> through Kestrel's API rather than <c>UseUrls</c>: <c>UseUrls</c> writes the
    /// "urls" key into the configuration, and hosts that chain one configuration (the node's proxy and admin
    /// listeners) would each take the other's URL.
    /// </summary>
    public static void Listen(KestrelServerOptions kestrel, Uri url, Action<ListenOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
        ArgumentNullException.ThrowIfNull(url);
        var port = url.Port;
        switch (url.Host)
        {
            case "localhost":
                kestrel.ListenLocalhost(port, configure);
                break;
            case "0.0.0.0" or "*" or "+":
                kestrel.ListenAnyIP(port, configure);
                break;
            default:
                if (IPAddress.TryParse(url.Host.Trim('[', ']'), out var address))
                {
                    kestrel.Listen(address, port, configure);
                }
                else
                {
                    // A host name, as UseUrls treats it: every address of this machine.
                    kestrel.ListenAnyIP(port, configure);
                }
                break;
        }
    }

    /// <summary>
    /// One line a message to the console, UTC timestamps, levels from the <c>Logging</c> section — but never below
    /// Warning for ASP.NET Core and <paramref name="quietCategories"/>, whatever the configuration says: they log
    /// request URLs (query strings can hold a leaked token) or payload details at Information and below. A listener
    /// that cannot start is reported once, as the caller's start-up problem, not as the host's trace.
    /// </summary>
    public static void ConfigureLogging(WebApplicationBuilder builder, Action<ILoggingBuilder>? logging, params string[] quietCategories)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Logging.ClearProviders();
        builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging"));
        builder.Logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            console.UseUtcTimestamp = true;
        });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        foreach (var category in quietCategories)
        {
            builder.Logging.AddFilter(category, LogLevel.Warning);
        }
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
        logging?.Invoke(builder.Logging);
    }
}
