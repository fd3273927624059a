using Microsoft.Extensions.Logging;
using LeakNode.Node.Diagnostics;

namespace LeakNode.Node.Events;

internal sealed partial class EventShipper
{
    private static partial class Log
    {
        [LoggerMessage(EventIds.EventsShipping, LogLevel.Debug, "Event batch {BatchId} acknowledged: {Events} events ({Stored} stored, {Duplicates} already stored), {Dropped} dropped reported")]
        public static partial void Shipped(ILogger logger, ulong batchId, int events, int stored, int duplicates, ulong dropped);

        [LoggerMessage(EventIds.ShippingFailed, LogLevel.Warning, "Cannot deliver attack events to the cloud at {Endpoint} ({Error}); they are spooled on disk ({Spooled} now) and delivered once it is back")]
        public static partial void ShippingFailed(ILogger logger, string endpoint, string error, long spooled);

        [LoggerMessage(EventIds.ShippingUnexpected, LogLevel.Error, "Event shipping to the cloud at {Endpoint} failed unexpectedly; the events are spooled")]
        public static partial void Unexpected(ILogger logger, string endpoint, Exception error);

        [LoggerMessage(EventIds.EventsSpooled, LogLevel.Debug, "{Count} attack events spooled for the cloud; the spool holds {Spooled} events, {Bytes} bytes")]
        public static partial void Spooled(ILogger logger, int count, long spooled, long bytes);

        [LoggerMessage(EventIds.SpoolDelivered, LogLevel.Information, "Delivered {Count} spooled attack events to the cloud at {Endpoint}")]
        public static partial void SpoolDelivered(ILogger logger, long count, string endpoint);
    }
}
