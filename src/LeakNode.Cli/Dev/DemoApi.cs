using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace LeakNode.Cli.Dev;

/// <summary>
/// The small API that <c>leaknode dev</c> puts behind its node: a few JSON endpoints that read a bearer token the
/// way real APIs do, so that the walkthrough shows a request passing and then being blocked.
/// </summary>
internal static class DemoApi
{
    private static readonly string[] Endpoints = ["GET /api/orders", "POST /api/echo"];

    public static async Task<WebApplication> StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production });
        builder.Logging.ClearProviders();
        // Port 0: the demo API is only reached through the node, which is told the real port.
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));

        var app = builder.Build();
        app.MapGet("/", () => Results.Json(new { service = "leaknode demo API", endpoints = Endpoints }));
        app.MapGet("/api/orders", (HttpRequest request) =>
        {
            // A real API would check the token; the demo only says whether one came, never echoing it.
            var authorized = request.Headers.Authorization.Count > 0;
            return Results.Json(new
            {
                authorized,
                orders = new[]
                {
                    new { id = 1001, item = "keyboard", total = 49.90 },
                    new { id = 1002, item = "monitor", total = 189.00 },
                },
            });
        });
        app.MapPost("/api/echo", async (HttpRequest request) =>
        {
            using var reader = new StreamReader(request.Body);
            var body = await reader.ReadToEndAsync();
            return Results.Json(new { received = body.Length });
        });
        await app.StartAsync(cancellationToken);
        return app;
    }

    public static Uri Address(WebApplication app) =>
        new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
}
