using LeakNode.Cloud.Configuration;
using LeakNode.Cloud.Hosting;
using LeakNode.Cloud.Users;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace LeakNode.Cloud.WebConsole;

/// <summary>
/// The console: Blazor components with interactive server rendering (MudBlazor), served on <c>Listen:Http</c> at
/// <c>/</c> beside the REST API. The components call the cloud's stores in process, never the API over HTTP.
/// </summary>
internal static class ConsoleHosting
{
    public static IServiceCollection AddWebConsole(this IServiceCollection services, CloudConfiguration settings)
    {
        services.AddConsoleAuthentication(settings);
        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddMudServices();
        services.AddAntiforgery(o => o.Cookie.Name = "leaknode.antiforgery");
        return services;
    }

    /// <summary>The console's endpoints: pages, the Blazor circuit, static files, sign-out. All on the REST listener only.</summary>
    public static void MapWebConsole(this WebApplication app)
    {
        // The static files (blazor.web.js, MudBlazor's CSS and JS) come from the host's static-web-assets manifest,
        // which the CLI's build and publish write. A host without one (the in-process test hosts) serves the pages
        // without scripts, which nothing of theirs needs.
        var manifest = Path.Combine(AppContext.BaseDirectory, app.Environment.ApplicationName + ".staticwebassets.endpoints.json");
        if (File.Exists(manifest))
        {
            app.MapStaticAssets(manifest).WithMetadata(ListenerSeparation.HttpOnly);
        }
        app.MapRazorComponents<App>()
            .AddInteractiveServerRenderMode()
            .WithMetadata(ListenerSeparation.HttpOnly);
        app.MapPost(ConsoleAuthentication.SignOutPath, SignOutAsync).WithMetadata(ListenerSeparation.HttpOnly).ExcludeFromDescription();
    }

    private static async Task<IResult> SignOutAsync(HttpContext context, IAntiforgery antiforgery)
    {
        if (!await antiforgery.IsRequestValidAsync(context))
        {
            return TypedResults.BadRequest();
        }
        await context.SignOutAsync(IdentityConstants.ApplicationScheme);
        return TypedResults.LocalRedirect(ConsoleAuthentication.SignInPath);
    }
}
