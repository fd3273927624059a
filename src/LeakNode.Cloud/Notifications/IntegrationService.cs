using System.Globalization;
using System.Text;
using LeakNode.Cloud.Api;
using LeakNode.Cloud.Configuration;
using LeakNode.Cloud.Notifications.Channels;
using LeakNode.Cloud.Storage;
using Microsoft.Extensions.Logging;

namespace LeakNode.Cloud.Notifications;

/// <summary>The answer to a change of a channel: the channel, or the problems with the request per field, or "no such channel".</summary>
public sealed record IntegrationResult(IntegrationView? Value, IReadOnlyDictionary<string, string[]>? Errors, bool NotFound, string? Conflict)
{
    public bool Succeeded => Value is not null;
}

/// <summary>A page of a channel's delivery log; <see cref="NextCursor"/> is null on the last page.</summary>
public sealed record DeliveryPage(IReadOnlyList<DeliveryView> Items, string? NextCursor);

/// <summary>
/// Notification channels as one service for the REST API and the console's Settings page: list, read, create,
/// change, delete, "Send test", and the delivery log. Validation reports every problem at once, per field.
/// </summary>
internal sealed partial class IntegrationService(
    IntegrationStore store, DeliveryStore deliveries, ChannelSender sender, CloudConfiguration configuration, TimeProvider clock, ILogger<IntegrationService> logger)
{
    public async Task<IReadOnlyList<IntegrationView>> ListAsync(CancellationToken cancellationToken) =>
        (await store.ListAsync(cancellationToken)).Select(i => i.View()).ToList();

    public async Task<IntegrationView?> GetAsync(string id, CancellationToken cancellationToken) =>
        (await store.GetAsync(id, cancellationToken))?.View();

    public async Task<IntegrationResult> CreateAsync(IntegrationRequest request, string actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var errors = new Errors();
        var valid = IntegrationValidation.Check(request, null, configuration.Limits, errors);
        if (valid is null)
        {
            return new IntegrationResult(null, errors.ToDictionary(), false, null);
        }
        var created = await store.CreateAsync(valid, configuration.Notifications.MaxChannels, cancellationToken);
        if (created is null)
        {
            return new IntegrationResult(null, null, false, $"the cloud has {configuration.Notifications.MaxChannels} channels, its most (Notifications:MaxChannels)");
        }
        Log.Changed(logger, created.Id, created.Kind, "created", actor);
        return new IntegrationResult(created.View(), null, false, null);
    }

    public async Task<IntegrationResult> UpdateAsync(string id, IntegrationRequest request, string actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var existing = await store.GetAsync(id, cancellationToken);
        if (existing is null)
        {
            return new IntegrationResult(null, null, true, null);
        }
        var errors = new Errors();
        var valid = IntegrationValidation.Check(request, existing, configuration.Limits, errors);
        if (valid is null)
        {
            return new IntegrationResult(null, errors.ToDictionary(), false, null);
        }
        if (!await store.UpdateAsync(id, valid, existing.CreatedAt, cancellationToken))
        {
            return new IntegrationResult(null, null, true, null);
        }
        Log.Changed(logger, id, existing.Kind, "changed", actor);
        return new IntegrationResult((await store.GetAsync(id, cancellationToken))?.View(), null, false, null);
    }

    public async Task<bool> DeleteAsync(string id, string actor, CancellationToken cancellationToken)
    {
        var existing = await store.GetAsync(id, cancellationToken);
        if (existing is null || !await store.DeleteAsync(id, cancellationToken))
        {
            return false;
        }
        Log.Changed(logger, id, existing.Kind, "deleted", actor);
        return true;
    }

    /// <summary>
    /// Sends a test notification now, once, and records it in the delivery log; null when there is no such channel.
    /// The answer says how it went, so that a wrong setting shows at once rather than after the retries.
    /// </summary>
    public async Task<DeliveryView?> TestAsync(string id, string actor, CancellationToken cancellationToken)
    {
        var channel = await store.GetAsync(id, cancellationToken);
        if (channel is null)
        {
            return null;
        }
        var deliveryId = Ids.New("dl_");
        var notice = new NotificationEvent(Ids.New("ev_"), NotificationKinds.Test, clock.GetUtcNow(), null, actor, null, null, null, null);
        var outcome = await sender.SendAsync(channel, notice, deliveryId, cancellationToken);
        await deliveries.RecordAsync(
            deliveryId, id, notice, new SendOutcomeRecord(outcome.Delivered ? DeliveryStatuses.Sent : DeliveryStatuses.Failed, outcome.Status, outcome.Error),
            cancellationToken);
        return await deliveries.GetAsync(deliveryId, cancellationToken);
    }

    /// <summary>A page of the channel's deliveries, newest first. Null page: no such channel; a problem: the cursor is not one of ours.</summary>
    public async Task<(DeliveryPage? Page, string? CursorProblem)> DeliveriesAsync(string id, string? cursor, int limit, CancellationToken cancellationToken)
    {
        if (await store.GetAsync(id, cancellationToken) is null)
        {
            return (null, null);
        }
        (long, string)? after = null;
        if (!string.IsNullOrEmpty(cursor))
        {
            if (ReadCursor(cursor) is not { } parsed)
            {
                return (null, "is not a cursor of this list");
            }
            after = parsed;
        }
        var (items, next) = await deliveries.ListAsync(id, after, limit, cancellationToken);
        return (new DeliveryPage(items, next is { } n ? Ids.Base64Url(Encoding.UTF8.GetBytes($"{n.CreatedAt.ToString(CultureInfo.InvariantCulture)}:{n.Id}")) : null), null);
    }

    private static (long, string)? ReadCursor(string cursor)
    {
        try
        {
            var text = Encoding.UTF8.GetString(Ids.FromBase64Url(cursor));
            var colon = text.IndexOf(':', StringComparison.Ordinal);
            return colon > 0 && long.TryParse(text.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var at) ? (at, text[(colon + 1)..]) : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
