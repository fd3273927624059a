using System.Data.Common;
using LeakNode.Cloud.Notifications.Channels;
using LeakNode.Cloud.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LeakNode.Cloud.Notifications;

/// <summary>
/// Sends stored notifications: claims due ones (<see cref="DeliveryStore"/>), sends them in parallel, and records
/// each try. A failed try is due again after an exponential backoff (<c>Notifications:InitialBackoff</c> doubled per
/// try, at most <c>Notifications:MaxBackoff</c>, ±20 % jitter so that many failures do not come back together),
/// until <c>Notifications:MaxAttempts</c>. Also runs the daily digest and prunes the log.
/// </summary>
internal sealed partial class DeliveryWorker(
    DeliveryStore deliveries, IntegrationStore integrations, ChannelSender sender, NotificationOutbox outbox, DailyDigest digest,
    NotificationOptions options, TimeProvider clock, ILogger<DeliveryWorker> logger) : BackgroundService
{
    private static readonly TimeSpan PruneEvery = TimeSpan.FromHours(1);

    // One claim id per worker: what it claimed can be given back when it stops.
    private readonly string _claimId = Ids.New("wk_");
    private DateTimeOffset _nextPrune;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var woken = outbox.Woken;
                var busy = false;
                try
                {
                    await digest.RunIfDueAsync(stoppingToken);
                    busy = await SendDueAsync(stoppingToken);
                    await PruneIfDueAsync(stoppingToken);
                }
                catch (Exception error) when (error is not OperationCanceledException)
                {
                    // A database that is away for a moment must not end the worker (an exception out of a hosted
                    // service stops the host): it tries again at the next poll.
                    Log.WorkerFailed(logger, error);
                }
                if (!busy)
                {
                    await Task.WhenAny(woken, Task.Delay(options.PollInterval, clock, stoppingToken));
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            try
            {
                await deliveries.ReleaseAsync(_claimId, CancellationToken.None);
            }
            catch (DbException error)
            {
                Log.WorkerFailed(logger, error);
            }
        }
    }

    /// <summary>Sends one claimed batch; true when the batch was full (more may be due).</summary>
    private async Task<bool> SendDueAsync(CancellationToken cancellationToken)
    {
        var claimed = await deliveries.ClaimAsync(_claimId, options.BatchSize, options.ClaimLease, cancellationToken);
        if (claimed.Count == 0)
        {
            return false;
        }
        await Task.WhenAll(claimed.Select(d => SendOneAsync(d, cancellationToken)));
        return claimed.Count == options.BatchSize;
    }

    private async Task SendOneAsync(ClaimedDelivery delivery, CancellationToken cancellationToken)
    {
        var channel = await integrations.GetAsync(delivery.IntegrationId, cancellationToken);
        if (channel is null)
        {
            // Deleted after the claim: its deliveries went with it.
            return;
        }
        var outcome = channel.Enabled
            ? await sender.SendAsync(channel, delivery.Event, delivery.Id, cancellationToken)
            : new SendOutcome(false, true, null, "the channel is disabled");
        var attempt = delivery.Attempts + 1;
        if (outcome.Delivered)
        {
            await deliveries.CompleteAsync(delivery.Id, _claimId, DeliveryStatuses.Sent, null, outcome.Status, null, CancellationToken.None);
            Log.Delivered(logger, delivery.Id, delivery.Event.Kind, channel.Id, channel.Kind, attempt);
        }
        else if (outcome.Permanent || attempt >= options.MaxAttempts)
        {
            await deliveries.CompleteAsync(delivery.Id, _claimId, DeliveryStatuses.Failed, null, outcome.Status, outcome.Error, CancellationToken.None);
            Log.GaveUp(logger, delivery.Id, channel.Id, channel.Kind, attempt, outcome.Error);
        }
        else
        {
            // A receiver that says when to come back (Retry-After) is believed, up to Notifications:MaxBackoff.
            var wait = Backoff(attempt);
            if (outcome.RetryAfter is { } asked && asked > wait)
            {
                wait = asked < options.MaxBackoff ? asked : options.MaxBackoff;
            }
            var retryAt = clock.GetUtcNow() + wait;
            await deliveries.CompleteAsync(delivery.Id, _claimId, DeliveryStatuses.Pending, retryAt, outcome.Status, outcome.Error, CancellationToken.None);
            Log.WillRetry(logger, delivery.Id, channel.Id, channel.Kind, attempt, retryAt, outcome.Error);
        }
    }

    /// <summary>The wait after try <paramref name="attempt"/> (1-based): InitialBackoff × 2^(attempt−1), capped, with ±20 % jitter.</summary>
    internal TimeSpan Backoff(int attempt)
    {
        var exponent = Math.Min(attempt - 1, 30);
        var delay = Math.Min(options.InitialBackoff.TotalMilliseconds * Math.Pow(2, exponent), options.MaxBackoff.TotalMilliseconds);
#pragma warning disable CA5394 // Jitter spreads retries; it protects nothing.
        var jitter = 0.8 + (Random.Shared.NextDouble() * 0.4);
#pragma warning restore CA5394
        return TimeSpan.FromMilliseconds(Math.Min(delay * jitter, options.MaxBackoff.TotalMilliseconds));
    }

    private async Task PruneIfDueAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (now < _nextPrune)
        {
            return;
        }
        _nextPrune = now + PruneEvery;
        await deliveries.PruneAsync(options.DeliveryRetention, cancellationToken);
    }
}
