namespace LeakNode.Cloud.Sync;

/// <summary>
/// Records nodes' acks in groups (group commit): acks that arrive while a group is being written wait and go
/// together in the next one. A change reaches every node within milliseconds and 200 acks come back at once; one
/// transaction a group instead of one a node keeps SQLite's single writer free for the next change (measured with
/// bench <c>propagation</c>: 200 separate writes put hundreds of milliseconds of lock waits in front of it).
/// </summary>
/// <remarks>
/// Each caller's task completes when its ack is written, so a stream records one node's answers in order. A group
/// that fails fails every caller in it; the stream that gets the error ends (UNAVAILABLE), and the node reconnects.
/// </remarks>
internal sealed class AppliedBatcher(INodeRegistry registry)
{
    private readonly Lock _lock = new();
    private List<(NodeApplied Ack, TaskCompletionSource Written)> _waiting = [];
    private bool _writing;

    public Task AppliedAsync(string nodeId, long version, CancellationToken cancellationToken)
    {
        var written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bool start;
        lock (_lock)
        {
            _waiting.Add((new NodeApplied(nodeId, version), written));
            start = !_writing;
            _writing = true;
        }
        if (start)
        {
            // On the pool: the store may do its I/O synchronously, and the caller's stream should not carry it.
            _ = Task.Run(WriteGroupsAsync, CancellationToken.None);
        }
        return written.Task.WaitAsync(cancellationToken);
    }

    private async Task WriteGroupsAsync()
    {
        while (true)
        {
            List<(NodeApplied Ack, TaskCompletionSource Written)> group;
            lock (_lock)
            {
                if (_waiting.Count == 0)
                {
                    _writing = false;
                    return;
                }
                group = _waiting;
                _waiting = [];
            }

            // A node that acked twice in one group runs the later version: write that one.
            var latest = new Dictionary<string, NodeApplied>(group.Count, StringComparer.Ordinal);
            foreach (var (ack, _) in group)
            {
                latest[ack.NodeId] = ack;
            }
            try
            {
                await registry.AppliedAsync([.. latest.Values], CancellationToken.None);
                group.ForEach(g => g.Written.TrySetResult());
            }
            catch (Exception error)
            {
                group.ForEach(g => g.Written.TrySetException(error));
            }
        }
    }
}
