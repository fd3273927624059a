using LeakNode.Cloud.Diagnostics;
using Microsoft.Extensions.Logging;

namespace LeakNode.Cloud.Notifications;

// Deliveries are logged by id, event kind and channel id: never a message (it names leaks and previews) and never a
// setting (webhook URLs and bot tokens are secrets). Errors are the scrubbed ones the delivery log shows.
internal sealed partial class DeliveryWorker
{
    private static partial class Log
    {
        [LoggerMessage(EventIds.NotificationDelivered, LogLevel.Information, "Notification {DeliveryId} ({Event}) sent to channel {ChannelId} ({Kind}) at try {Attempt}")]
        public static partial void Delivered(ILogger logger, string deliveryId, string @event, string channelId, string kind, int attempt);

        [LoggerMessage(EventIds.NotificationRetry, LogLevel.Warning, "Notification {DeliveryId} to channel {ChannelId} ({Kind}) failed at try {Attempt}; next try at {RetryAt}: {Error}")]
        public static partial void WillRetry(ILogger logger, string deliveryId, string channelId, string kind, int attempt, DateTimeOffset retryAt, string? error);

        [LoggerMessage(EventIds.NotificationFailed, LogLevel.Error, "Notification {DeliveryId} to channel {ChannelId} ({Kind}) given up after {Attempt} tries: {Error}")]
        public static partial void GaveUp(ILogger logger, string deliveryId, string channelId, string kind, int attempt, string? error);

        [LoggerMessage(EventIds.NotificationWorkerFailed, LogLevel.Error, "The notification worker could not use the database; it tries again at the next poll")]
        public static partial void WorkerFailed(ILogger logger, Exception error);
    }
}

internal sealed partial class IntegrationService
{
    private static partial class Log
    {
        [LoggerMessage(EventIds.IntegrationChanged, LogLevel.Information, "Notification channel {ChannelId} ({Kind}) {Change} by {Actor}")]
        public static partial void Changed(ILogger logger, string channelId, string kind, string change, string actor);
    }
}
