namespace LeakNode.Node.RuleSync;

/// <summary>Where the rule stream to the cloud stands, as <c>/status</c> shows it.</summary>
internal enum CloudConnectionState
{
    /// <summary>Opening a stream (first start, or again after a failure).</summary>
    Connecting,

    /// <summary>The stream is open and the cloud has sent its deployment key.</summary>
    Connected,

    /// <summary>The cloud refused the node token (UNAUTHENTICATED or PERMISSION_DENIED).</summary>
    Refused,

    /// <summary>The stream failed or ended; the node waits before reconnecting and enforces its last good rules.</summary>
    Disconnected,
}

/// <summary>
/// The state of the node's connection to the cloud, written by the rule sync and read by <c>/status</c> and the
/// metrics. <see cref="Snapshot.Since"/> moves only when the node gains or loses the connection, so that a node cycling
/// between connecting and disconnected still says how long it has been without the cloud.
/// </summary>
internal sealed class CloudConnection
{
    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private Snapshot _current;

    public CloudConnection(TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _current = new Snapshot(CloudConnectionState.Connecting, null, _time.GetUtcNow(), null, null, 0);
    }

    /// <param name="State">See <see cref="CloudConnectionState"/>.</param>
    /// <param name="Endpoint">The cloud URL in use (or last tried).</param>
    /// <param name="Since">Connected: since when. Otherwise: since when the node has been without the cloud.</param>
    /// <param name="LastError">Why the last attempt or stream failed (never the token).</param>
    /// <param name="Reconnects">Attempts after a failure since start.</param>
    public sealed record Snapshot(CloudConnectionState State, string? Endpoint, DateTimeOffset Since, string? LastError, DateTimeOffset? LastErrorAt, long Reconnects);

    public Snapshot Current
    {
        get
        {
            lock (_gate)
            {
                return _current;
            }
        }
    }

    public bool IsConnected => Current.State == CloudConnectionState.Connected;

    public void Connecting(string endpoint, bool afterFailure) => Set(s => s with
    {
        State = CloudConnectionState.Connecting,
        Endpoint = endpoint,
        Reconnects = s.Reconnects + (afterFailure ? 1 : 0),
    });

    public void Connected(string endpoint) => Set(s => s with { State = CloudConnectionState.Connected, Endpoint = endpoint, Since = _time.GetUtcNow() });

    public void Refused(string endpoint, string reason) => Failed(CloudConnectionState.Refused, endpoint, reason);

    public void Disconnected(string endpoint, string error) => Failed(CloudConnectionState.Disconnected, endpoint, error);

    private void Failed(CloudConnectionState state, string endpoint, string error)
    {
        var now = _time.GetUtcNow();
        Set(s => s with
        {
            State = state,
            Endpoint = endpoint,
            Since = s.State == CloudConnectionState.Connected ? now : s.Since,
            LastError = error,
            LastErrorAt = now,
        });
    }

    private void Set(Func<Snapshot, Snapshot> change)
    {
        lock (_gate)
        {
            _current = change(_current);
        }
    }
}
