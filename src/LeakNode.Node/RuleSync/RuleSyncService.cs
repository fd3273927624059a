using System.Reflection;
using LeakNode.Matching;
using LeakNode.Matching.Digests;
using LeakNode.Matching.Rules;
using LeakNode.Node.Configuration;
using LeakNode.Node.Diagnostics;
using LeakNode.Node.Rules;
using LeakNode.Protocol;
using LeakNode.Protocol.V1;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using LeakRule = LeakNode.Matching.Rules.LeakRule;
using TokenDigest = LeakNode.Matching.Digests.TokenDigest;

namespace LeakNode.Node.RuleSync;

/// <summary>
/// The node's side of <c>SyncRules</c>: keeps a stream open to the cloud, says which rules it has, and turns every
/// rule version the cloud sends into the rules in force, or refuses it. A version is acked only once it is built,
/// persisted (<see cref="RuleCache"/>) and in force, in that order, so that an acked version survives a crash; a
/// refused one (nack, with the reason) leaves the last good rules in force. Without the cloud the node goes on
/// enforcing what it has and reconnects in the background (<see cref="Reconnector"/>).
/// </summary>
/// <remarks>
/// One loop does everything (connect, read, build, persist, ack), so the key, the cache and the version in force
/// only ever change on one thread, in the order the cloud sent the updates.
/// </remarks>
internal sealed partial class RuleSyncService : BackgroundService
{
    private const string SourceCloud = "cloud";
    private const string SourceCache = "cache";

    private static readonly string SoftwareVersion =
        typeof(RuleSyncService).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    private readonly CloudChannels _channels;
    private readonly CloudConnection _connection;
    private readonly RuleCache _cache;
    private readonly RuleState _rules;
    private readonly NodeMode _mode;
    private readonly MatcherLimits _limits;
    private readonly NodeMetrics _metrics;
    private readonly ILogger _logger;
    private readonly List<RuleUpdate> _parts = [];
    private DigestKey? _key;
    private string? _keyId;
    private string? _rulesKeyId;
    private long _brokenSnapshot = -1;
    private bool _outageAnnounced;

    public RuleSyncService(
        CloudChannels channels, CloudConnection connection, RuleCache cache, RuleState rules, NodeMode mode, MatcherLimits limits, NodeMetrics metrics, ILogger logger)
    {
        _channels = channels;
        _connection = connection;
        _cache = cache;
        _rules = rules;
        _mode = mode;
        _limits = limits;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>
    /// Puts the cached rules in force, if there are any made with the cached key: called at start-up, before the
    /// listeners open, so that a node restarting without the cloud is ready at once.
    /// </summary>
    public void LoadCache()
    {
        var key = _cache.LoadKey();
        if (key is null)
        {
            return;
        }
        _key = DigestKey.FromBytes(key);
        _keyId = RuleMapping.KeyId(key);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var matcher = _cache.LoadRules(_key, _keyId, _limits);
        if (matcher is null)
        {
            return;
        }
        _rules.Replace(matcher, SourceCache);
        _rulesKeyId = _keyId;
        Log.CacheLoaded(_logger, matcher.Version, matcher.LeakCount, matcher.TokenCount, _keyId, (long)System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    /// <summary>The version the node enforces, as far as the cloud is concerned: 0 when it has none made with the current key.</summary>
    private long VersionInForce => _rulesKeyId is not null && _rulesKeyId == _keyId ? _rules.Current?.Version ?? 0 : 0;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reconnector = _channels.NewReconnector();
        while (!stoppingToken.IsCancellationRequested)
        {
            var endpoint = reconnector.Endpoint;
            _connection.Connecting(endpoint, afterFailure: reconnector.Failing);
            if (reconnector.Failing)
            {
                _metrics.Reconnects.Add(1, new KeyValuePair<string, object?>("stream", "rules"));
            }
            Log.Connecting(_logger, endpoint);
            TimeSpan wait;
            try
            {
                await RunStreamAsync(endpoint, reconnector, stoppingToken);
                // The cloud ended the stream in good order (a replica shutting down): reconnect, to another replica first.
                _connection.Disconnected(endpoint, "the cloud closed the stream");
                Log.Disconnected(_logger, endpoint, "the cloud closed the stream");
                wait = reconnector.Failed(refused: false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception error)
            {
                // Whatever went wrong, the loop goes on: a node whose rule sync died would enforce stale rules silently.
                _parts.Clear();
                var (message, refused) = CloudChannels.Describe(error);
                wait = reconnector.Failed(refused);
                if (refused)
                {
                    _connection.Refused(endpoint, message);
                    Log.TokenRefused(_logger, endpoint, message, wait);
                }
                else
                {
                    _connection.Disconnected(endpoint, message);
                    if (error is CloudProtocolException)
                    {
                        Log.ProtocolError(_logger, endpoint, message);
                    }
                    else if (!CloudChannels.IsConnectionFailure(error))
                    {
                        Log.Unexpected(_logger, endpoint, error);
                    }
                    else if (_outageAnnounced)
                    {
                        Log.StillDisconnected(_logger, endpoint, message, wait);
                    }
                    else
                    {
                        // Once per outage at Warning: /status and the metrics tell the rest.
                        Log.Disconnected(_logger, endpoint, message);
                        _outageAnnounced = true;
                    }
                }
            }
            try
            {
                await Task.Delay(wait, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private async Task RunStreamAsync(string endpoint, Reconnector reconnector, CancellationToken cancellationToken)
    {
        using var call = _channels.Client(endpoint).SyncRules(_channels.Headers, cancellationToken: cancellationToken);
        var hello = new NodeHello
        {
            RuleVersion = VersionInForce,
            KeyId = _keyId ?? "",
            Mode = _mode.ToString().ToLowerInvariant(),
            SoftwareVersion = SoftwareVersion,
        };
        await call.RequestStream.WriteAsync(new RulesRequest { Hello = hello }, cancellationToken);

        var keyed = false;
        while (await call.ResponseStream.MoveNext(cancellationToken))
        {
            var response = call.ResponseStream.Current;
            switch (response.KindCase)
            {
                case RulesResponse.KindOneofCase.Key:
                    AcceptKey(response.Key);
                    if (!keyed)
                    {
                        keyed = true;
                        _outageAnnounced = false;
                        reconnector.Succeeded();
                        _connection.Connected(endpoint);
                        Log.Connected(_logger, endpoint, _keyId!, hello.RuleVersion);
                    }
                    break;
                case RulesResponse.KindOneofCase.Update when keyed:
                    // A compaction that finished in the background is put in place between updates, never during one.
                    _cache.FinishCompaction();
                    if (Handle(response.Update) is { } ack)
                    {
                        await call.RequestStream.WriteAsync(new RulesRequest { Ack = ack }, cancellationToken);
                        if (ack.Applied && _cache.CompactionDue)
                        {
                            _cache.StartCompaction(_keyId!);
                        }
                    }
                    break;
                case RulesResponse.KindOneofCase.Update:
                    throw new CloudProtocolException("the cloud sent a rule update before its deployment key");
                default:
                    throw new CloudProtocolException($"the cloud sent a message this node does not know ({response.KindCase}); is the node older than the cloud?");
            }
        }
    }

    private void AcceptKey(DeploymentKey message)
    {
        if (message.DigestScheme != TokenDigest.Scheme)
        {
            throw new CloudProtocolException($"the cloud makes digests with scheme {message.DigestScheme}; this node knows scheme {TokenDigest.Scheme} only: upgrade the node");
        }
        if (message.Key.Length != DigestKey.Size)
        {
            throw new CloudProtocolException($"the deployment key has {message.Key.Length} bytes, not {DigestKey.Size}");
        }
        var id = RuleMapping.KeyId(message.Key.Span);
        if (!string.IsNullOrEmpty(message.KeyId) && message.KeyId != id)
        {
            throw new CloudProtocolException($"the deployment key's id {message.KeyId} does not match the key (its id is {id})");
        }
        if (id == _keyId)
        {
            return;
        }

        // A new key (first contact, or the cloud's key was replaced): the cached rules were made with another key and
        // are void; SaveKey removes them. The rules in force stay until a snapshot replaces them (their digests still
        // find the tokens they were made for), but no delta can apply to them any more (VersionInForce is 0).
        var previous = _keyId;
        _cache.SaveKey(message.Key.Span);
        _key = DigestKey.FromBytes(message.Key.Span);
        _keyId = id;
        _parts.Clear();
        if (previous is not null)
        {
            Log.KeyChanged(_logger, previous, id);
        }
    }

    /// <summary>Handles one update; returns the ack or nack to send, or null while a snapshot's parts are still arriving.</summary>
    private RuleAck? Handle(RuleUpdate update)
    {
        if (!update.Snapshot)
        {
            return ApplyDelta(update);
        }
        if (update.Part == 0)
        {
            _parts.Clear();
            _brokenSnapshot = -1;
        }
        if (_brokenSnapshot == update.Version)
        {
            // Already refused for a part out of order; the rest of its parts are dropped quietly.
            return null;
        }
        if (update.Part != _parts.Count || (_parts.Count > 0 && _parts[0].Version != update.Version))
        {
            var expected = _parts.Count;
            _parts.Clear();
            _brokenSnapshot = update.Version;
            return Refuse(update.Version, $"snapshot part {update.Part} of version {update.Version} arrived where part {expected} was expected; send the snapshot again from part 0");
        }
        _parts.Add(update);
        if (!update.Last)
        {
            return null;
        }
        var parts = _parts.ToArray();
        _parts.Clear();
        return ApplySnapshot(parts);
    }

    private RuleAck ApplySnapshot(RuleUpdate[] parts)
    {
        var version = parts[0].Version;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        TokenMatcher matcher;
        try
        {
            var leaks = new List<LeakRule>();
            foreach (var part in parts)
            {
                leaks.AddRange(part.Upserted.Select(RuleMapping.FromWire));
            }
            matcher = TokenMatcher.Build(_key!, new RuleSet(version, leaks), _limits);
        }
        catch (RuleSetRejectedException error)
        {
            return Refuse(version, Reason(error));
        }
        if (Persist(version, () => _cache.WriteSnapshot(_keyId!, parts)) is { } failed)
        {
            return failed;
        }
        _rules.Replace(matcher, SourceCloud);
        _rulesKeyId = _keyId;
        return Applied(version, "snapshot", matcher, started);
    }

    private RuleAck ApplyDelta(RuleUpdate update)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var current = _rules.Current;
        var inForce = VersionInForce;
        // Version 0 is a real base when it came from this key: the cloud's empty rule set before its first leak.
        if (current is null || _rulesKeyId is null || _rulesKeyId != _keyId)
        {
            return Refuse(update.Version, $"no rule set made with deployment key {_keyId} is in force here, so there is nothing to apply a delta to; send a snapshot");
        }
        if (update.FromVersion == inForce && update.Version == inForce && update.Upserted.Count == 0 && update.Removed.Count == 0 && update.ActionChanged.Count == 0)
        {
            // "Nothing changed since your version": the node has it already.
            _rules.Confirm(SourceCloud);
            return new RuleAck { Version = inForce, Applied = true };
        }
        RuleSetDelta delta;
        try
        {
            delta = RuleMapping.ToDelta(update);
            // Built once here only to check it: LiveMatcher.Apply below builds it again (milliseconds: it copies the
            // pages the delta touches) so that it also schedules a compaction when the line needs one, and the
            // version is in force only after it is on disk.
            current.Apply(delta);
        }
        catch (RuleSetRejectedException error)
        {
            return Refuse(update.Version, Reason(error));
        }
        if (Persist(update.Version, () => _cache.AppendDelta(update)) is { } failed)
        {
            return failed;
        }
        var matcher = _rules.Apply(delta, SourceCloud);
        return Applied(update.Version, "delta", matcher, started);
    }

    /// <summary>Runs a cache write; on failure, the nack to send (the version is not in force, since it would not survive a restart).</summary>
    private RuleAck? Persist(long version, Action write)
    {
        try
        {
            write();
            return null;
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            Log.CacheWriteFailed(_logger, version, error.Message);
            return Refuse(version, $"the node cannot persist the rules to its state directory: {error.Message}");
        }
    }

    private RuleAck Applied(long version, string kind, TokenMatcher matcher, long started)
    {
        _metrics.RuleVersionsApplied.Add(1, new KeyValuePair<string, object?>("kind", kind));
        Log.VersionApplied(_logger, kind, version, matcher.LeakCount, matcher.TokenCount, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return new RuleAck { Version = version, Applied = true };
    }

    private RuleAck Refuse(long version, string reason)
    {
        _metrics.RuleVersionsRefused.Add(1);
        Log.VersionRefused(_logger, version, reason);
        return new RuleAck { Version = version, Applied = false, Error = reason };
    }

    private static string Reason(RuleSetRejectedException error) =>
        error.Problems.Count <= 10 ? string.Join("; ", error.Problems) : string.Join("; ", error.Problems.Take(10)) + $"; … and {error.Problems.Count - 10} more";

    public override void Dispose()
    {
        base.Dispose();
        _cache.Dispose();
    }
}

/// <summary>The cloud broke the protocol (a message out of order, a key that does not fit): the stream is dropped and opened again.</summary>
internal sealed class CloudProtocolException : Exception
{
    public CloudProtocolException(string message)
        : base(message)
    {
    }

    public CloudProtocolException()
        : base("the cloud broke the node protocol")
    {
    }

    public CloudProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
