using System.Globalization;
using LeakNode.Cloud.Diagnostics;
using LeakNode.Cloud.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace LeakNode.Cloud.Rules;

/// <summary>
/// The rule-version signal of several cloud replicas over one PostgreSQL database: a version committed by any
/// replica reaches the waiters (node streams) of every replica through <c>LISTEN/NOTIFY</c>, PostgreSQL's own
/// publish/subscribe, so there is no cluster protocol of our own to run.
/// </summary>
/// <remarks>
/// <para>Each replica keeps one connection that LISTENs on <see cref="Channel"/>. <see cref="Publish"/> (called after
/// the committing transaction) signals this replica's waiters at once and sends <c>pg_notify</c> with the version
/// for the others; PostgreSQL delivers a notification to every listening session, in commit order.</para>
/// <para>A notification can be missed: the listening connection may drop (a failover, a restart of the server),
/// and a <c>pg_notify</c> sent on a connection that fails is lost. So every time the listener (re)connects, and
/// every <see cref="PollInterval"/> while it waits, it reads the newest version from the database: a missed
/// notification costs at most that long, never a version.</para>
/// </remarks>
internal sealed partial class PostgresRuleVersionSignal : IRuleVersionSignal, IHostedService, IAsyncDisposable
{
    /// <summary>The NOTIFY channel; the payload is the version, in decimal.</summary>
    public const string Channel = "leaknode_rule_version";

    /// <summary>
    /// How often a waiting listener reads the newest version anyway. Short enough that a lost notification is
    /// healed well within a human's patience, long enough to be one tiny query every few seconds per replica.
    /// </summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private readonly InProcessRuleVersionSignal _local;
    private readonly CloudDatabase _database;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private Task? _listening;
    private int _stopped;

    public PostgresRuleVersionSignal(CloudDatabase database, long initial, ILogger<PostgresRuleVersionSignal> logger)
    {
        _database = database;
        _local = new InProcessRuleVersionSignal(initial);
        _logger = logger;
    }

    public long Latest => _local.Latest;

    /// <summary>Completes when the listener has LISTENed once (tests; start-up does not wait for it).</summary>
    public TaskCompletionSource Listening { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Publish(long version)
    {
        _local.Publish(version);
        _ = NotifyAsync(version);
    }

    public Task WaitAsync(long afterVersion, CancellationToken cancellationToken) => _local.WaitAsync(afterVersion, cancellationToken);

    private async Task NotifyAsync(long version)
    {
        try
        {
            await using var connection = await _database.OpenAsync(_stop.Token);
            await using var notify = connection.CreateCommand();
            notify.CommandText = "SELECT pg_notify(@channel, @payload)";
            notify.Parameters.Add(new NpgsqlParameter("channel", Channel));
            notify.Parameters.Add(new NpgsqlParameter("payload", version.ToString(CultureInfo.InvariantCulture)));
            await notify.ExecuteNonQueryAsync(_stop.Token);
        }
        catch (Exception error) when (error is NpgsqlException or InvalidOperationException or OperationCanceledException)
        {
            // The other replicas read the version within PollInterval anyway.
            if (!_stop.IsCancellationRequested)
            {
                Log.NotifyFailed(_logger, version, error.Message);
            }
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _listening = Task.Run(() => ListenAsync(_stop.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task ListenAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await using var connection = (NpgsqlConnection)await _database.OpenAsync(stop);
                connection.Notification += (_, notification) =>
                {
                    if (long.TryParse(notification.Payload, NumberStyles.None, CultureInfo.InvariantCulture, out var version))
                    {
                        _local.Publish(version);
                    }
                };
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stop);
                }
                Log.Listening(_logger, Channel);
                Listening.TrySetResult();
                // Versions committed while no one listened (start-up, a reconnect) are read, not waited for.
                await CatchUpAsync(stop);
                while (!stop.IsCancellationRequested)
                {
                    if (!await connection.WaitAsync(PollInterval, stop))
                    {
                        await CatchUpAsync(stop);
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception error) when (error is NpgsqlException or InvalidOperationException or System.IO.IOException or TimeoutException)
            {
                Log.ListenFailed(_logger, error.Message, RetryDelay);
                try
                {
                    await Task.Delay(RetryDelay, stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task CatchUpAsync(CancellationToken stop) =>
        _local.Publish(await _database.ReadAsync(RuleFeed.CurrentAsync, stop));

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }
        await _stop.CancelAsync();
        if (_listening is not null)
        {
            await _listening.WaitAsync(cancellationToken);
        }
    }

    // The container holds this one instance under three services (itself, the signal, the hosted service) and
    // disposes it once for each: stopping twice is a no-op, and the token source is left to the GC.
    public ValueTask DisposeAsync() => new(StopAsync(CancellationToken.None));

    private static partial class Log
    {
        [LoggerMessage(EventIds.RuleSignalListening, LogLevel.Debug, "Listening for rule versions of other replicas on PostgreSQL channel {Channel}")]
        public static partial void Listening(ILogger logger, string channel);

        [LoggerMessage(EventIds.RuleSignalFailed, LogLevel.Warning, "Listening for other replicas' rule versions failed ({Reason}); retrying in {Delay}. Nodes on this replica see other replicas' changes once it is back")]
        public static partial void ListenFailed(ILogger logger, string reason, TimeSpan delay);

        [LoggerMessage(EventIds.RuleSignalNotifyFailed, LogLevel.Warning, "Could not notify other replicas of rule version {Version} ({Reason}); they read it within the poll interval")]
        public static partial void NotifyFailed(ILogger logger, long version, string reason);
    }
}
