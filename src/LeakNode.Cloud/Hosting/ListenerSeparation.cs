using LeakNode.Cloud.Configuration;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using KestrelListenOptions = Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions;

namespace LeakNode.Cloud.Hosting;

/// <summary>
/// Which listener a connection came in on. Each listener's connections are tagged when they open (Kestrel
/// connection middleware), which works for port 0 too, where the port is only known once bound.
/// </summary>
internal sealed class ListenerPorts(CloudListenOptions configured)
{
    public const string Http = "http";
    public const string Grpc = "grpc";

    /// <summary>The connection item that names the listener.</summary>
    public const string ItemKey = "leaknode.listener";

    private readonly Dictionary<string, KestrelListenOptions> _bound = new(StringComparer.Ordinal);

    public void Bind(string listener, KestrelListenOptions options)
    {
        _bound[listener] = options;
        options.Use(next => connection =>
        {
            connection.Items[ItemKey] = listener;
            return next(connection);
        });
    }

    /// <summary>The listener's URL: configured scheme and host, bound port (Kestrel writes the real one back after binding port 0).</summary>
    public Uri Url(string listener)
    {
        var url = new Uri(listener == Http ? configured.Http : configured.Grpc);
        var builder = new UriBuilder(url);
        if (_bound.TryGetValue(listener, out var options) && options.IPEndPoint is { Port: > 0 } endpoint)
        {
            builder.Port = endpoint.Port;
        }
        if (builder.Host is "0.0.0.0" or "*" or "+" or "[::]")
        {
            builder.Host = "127.0.0.1";
        }
        return builder.Uri;
    }
}

/// <summary>
/// Keeps each endpoint on its listener: endpoints marked <see cref="HttpOnly"/> (REST, OpenAPI, health) answer
/// on <c>Listen:Http</c> only, everything else (gRPC) on <c>Listen:Grpc</c> only; elsewhere they are not found.
/// </summary>
internal sealed class ListenerSeparation(RequestDelegate next)
{
    /// <summary>Endpoint metadata: this endpoint belongs to the REST listener.</summary>
    public static readonly object HttpOnly = new HttpOnlyMarker();

    public Task InvokeAsync(HttpContext context)
    {
        var endpoint = context.GetEndpoint();
        if (endpoint is not null)
        {
            var listener = context.Features.Get<IConnectionItemsFeature>()?.Items.TryGetValue(ListenerPorts.ItemKey, out var value) == true ? value as string : null;
            var restEndpoint = endpoint.Metadata.GetMetadata<HttpOnlyMarker>() is not null;
            if (restEndpoint != (listener == ListenerPorts.Http))
            {
                // Not found, rather than forbidden: the other listener's endpoints do not exist here.
                context.SetEndpoint(null);
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }
        }
        return next(context);
    }

    private sealed class HttpOnlyMarker;
}
