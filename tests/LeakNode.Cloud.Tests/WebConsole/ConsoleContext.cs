using Bunit;
using LeakNode.Cloud.Attacks;
using LeakNode.Cloud.Auth;
using LeakNode.Cloud.Configuration;
using LeakNode.Cloud.Leaks;
using LeakNode.Cloud.Nodes;
using LeakNode.Cloud.Tests.Support;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;

namespace LeakNode.Cloud.Tests.WebConsole;

/// <summary>
/// bUnit over a real cloud: the console's components get the cloud's own stores (SQLite in a temporary folder, or
/// PostgreSQL), a signed-in user of the given role, and MudBlazor with its JavaScript calls answered loosely.
/// </summary>
internal sealed class ConsoleContext : IAsyncDisposable
{
    private ConsoleContext(CloudHarness cloud, BunitContext bunit)
    {
        Cloud = cloud;
        Bunit = bunit;
    }

    public CloudHarness Cloud { get; }

    public BunitContext Bunit { get; }

    public LeakStore Leaks => Cloud.Service<LeakStore>();

    public NavigationManager Navigation => Bunit.Services.GetRequiredService<NavigationManager>();

    public static async Task<ConsoleContext> StartAsync(string role, IDictionary<string, string?>? settings = null)
    {
        var cloud = await CloudHarness.StartAsync(settings);
        var bunit = new BunitContext();
        bunit.JSInterop.Mode = JSRuntimeMode.Loose;
        bunit.Services.AddMudServices();
        bunit.Services.AddSingleton(cloud.Service<LeakStore>());
        bunit.Services.AddSingleton(cloud.Service<AttackStore>());
        bunit.Services.AddSingleton(cloud.Service<NodeRegistry>());
        bunit.Services.AddSingleton(cloud.Service<CloudConfiguration>());
        bunit.Services.AddSingleton(cloud.Service<LeakNode.Cloud.Notifications.IntegrationService>());
        bunit.Services.AddSingleton(cloud.Service<LeakNode.Cloud.Sources.SourceStore>());
        bunit.AddAuthorization().SetAuthorized($"{role}@test.example").SetRoles(role);
        // As on a live circuit: the pages' periodic refresh runs too. (Last: the renderer locks the services.)
        bunit.Renderer.SetRendererInfo(new RendererInfo("Server", isInteractive: true));
        return new ConsoleContext(cloud, bunit);
    }

    /// <summary>Renders a page the way the layout hosts it: beside MudBlazor's popover provider (selects need it).</summary>
    public IRenderedComponent<TPage> Render<TPage>(Action<ComponentParameterCollectionBuilder<TPage>>? parameters = null)
        where TPage : IComponent
    {
        Bunit.Render<MudPopoverProvider>();
        return Bunit.Render(parameters ?? (_ => { }));
    }

    public Task<LeakView> AddLeakAsync(string name, int risk) =>
        Leaks.CreateAsync(
            new NewLeak(name, "", risk, ["ghp_" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(18))], LeakSources.Manual, null, null),
            "test", CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        await Bunit.DisposeAsync();
        await Cloud.DisposeAsync();
    }
}

/// <summary>The roles as the tests name them.</summary>
internal static class Roles
{
    public const string Admin = ApiRoles.Admin;
    public const string Analyst = ApiRoles.Analyst;
}
