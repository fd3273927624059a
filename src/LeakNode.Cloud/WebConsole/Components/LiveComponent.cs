using System.Data.Common;
using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;

namespace LeakNode.Cloud.WebConsole.Components;

/// <summary>
/// A console page that keeps itself current: it loads when opened, then reloads what it shows every
/// <see cref="RefreshInterval"/> while it is open, so new leaks and new attempts appear without a reload.
/// </summary>
/// <remarks>
/// A periodic refresh (a <see cref="PeriodicTimer"/> per open page) rather than change notifications: with several
/// cloud replicas a change can be made on any of them, and the pages read little (one page of a list and a few
/// counts, only what is on screen), so polling the database every few seconds is simple and cheap. The timer only
/// runs on a live circuit, not while the page is prerendered.
/// </remarks>
public abstract class LiveComponent : ComponentBase, IAsyncDisposable
{
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(3);

    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    [CascadingParameter]
    private Task<AuthenticationState>? AuthenticationState { get; set; }

    /// <summary>True until the first load ends.</summary>
    protected bool Loading { get; private set; } = true;

    /// <summary>Why the last load failed, shown on the page; null when it worked.</summary>
    protected string? LoadError { get; private set; }

    protected CancellationToken Stopping => _stop.Token;

    /// <summary>Reads what the page shows; called at first, when parameters change, and on every refresh.</summary>
    protected abstract Task LoadAsync(CancellationToken cancellationToken);

    /// <summary>Loads now, recording a failure instead of throwing it (the page shows it and retries at the next refresh).</summary>
    protected async Task ReloadAsync()
    {
        try
        {
            await LoadAsync(_stop.Token);
            LoadError = null;
        }
        catch (Exception error) when (error is DbException or TimeoutException)
        {
            LoadError = "The database did not answer; the page retries every few seconds. (" + error.Message + ")";
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            return;
        }
        finally
        {
            Loading = false;
        }
    }

    /// <summary>The signed-in user: their email is the actor of the changes they make.</summary>
    protected async Task<ClaimsPrincipal> UserAsync() =>
        AuthenticationState is null ? new ClaimsPrincipal() : (await AuthenticationState).User;

    protected async Task<string> ActorAsync() => (await UserAsync()).Identity?.Name ?? "console";

    protected static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    protected override void OnAfterRender(bool firstRender)
    {
        if (firstRender && RendererInfo.IsInteractive)
        {
            _loop = RefreshLoopAsync();
        }
    }

    private async Task RefreshLoopAsync()
    {
        using var timer = new PeriodicTimer(RefreshInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                await InvokeAsync(async () =>
                {
                    await ReloadAsync();
                    StateHasChanged();
                });
            }
        }
        catch (OperationCanceledException)
        {
            // The page was closed.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_loop is not null)
        {
            await _loop;
        }
        _stop.Dispose();
        GC.SuppressFinalize(this);
    }
}
