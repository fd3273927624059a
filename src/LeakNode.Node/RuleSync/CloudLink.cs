using LeakNode.Matching;
using LeakNode.Node.Configuration;
using LeakNode.Node.Diagnostics;
using LeakNode.Node.Events;
using LeakNode.Node.Rules;
using LeakNode.Node.Storage;
using Microsoft.Extensions.Logging;

namespace LeakNode.Node.RuleSync;

/// <summary>
/// Everything a node with a cloud runs besides its listeners: the rule sync, the event shipper, and the channels
/// and connection state they share. Created before the listeners (so that the cached rules are in force when they
/// open) and started after them.
/// </summary>
internal sealed class CloudLink : IDisposable
{
    private readonly CloudChannels _channels;
    private readonly RuleSyncService _sync;

    private CloudLink(CloudChannels channels, CloudConnection connection, RuleSyncService sync, EventShipper shipper)
    {
        _channels = channels;
        Connection = connection;
        _sync = sync;
        Shipper = shipper;
    }

    public CloudConnection Connection { get; }

    public EventShipper Shipper { get; }

    /// <summary>Opens the state directory, loads the cached key and rules into <paramref name="rules"/>, and opens the spool.</summary>
    /// <exception cref="IOException">The state directory cannot be used.</exception>
    /// <exception cref="UnauthorizedAccessException">The state directory cannot be used.</exception>
    public static CloudLink Create(NodeConfiguration settings, RuleState rules, EventQueue queue, NodeMetrics metrics, ILoggerFactory loggers)
    {
        StateFiles.CreateDirectory(settings.StateDir);
        var channels = new CloudChannels(settings.Cloud);
        var connection = new CloudConnection();
        var sync = new RuleSyncService(
            channels, connection, new RuleCache(settings.StateDir, loggers.CreateLogger("LeakNode.Rules")), rules, settings.Node.Mode,
            MatcherLimits.Default, metrics, loggers.CreateLogger("LeakNode.RuleSync"));
        sync.LoadCache();
        var eventLogger = loggers.CreateLogger("LeakNode.Events");
        var spool = new EventSpool(settings.StateDir, settings.Events.SpoolMaxBytes, metrics, eventLogger);
        var shipper = new EventShipper(channels, queue, spool, settings.Events, metrics, eventLogger);
        metrics.SpoolBytes = () => spool.Bytes;
        metrics.CloudConnected = () => connection.IsConnected ? 1 : 0;
        return new CloudLink(channels, connection, sync, shipper);
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _sync.StartAsync(cancellationToken);
        await Shipper.StartAsync(cancellationToken);
    }

    /// <summary>Stops both streams; the events still in memory go to the spool. Call after the last event was queued.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _sync.StopAsync(cancellationToken);
        await Shipper.StopAsync(cancellationToken);
    }

    public void Dispose()
    {
        _sync.Dispose();
        Shipper.Dispose();
        _channels.Dispose();
    }
}
