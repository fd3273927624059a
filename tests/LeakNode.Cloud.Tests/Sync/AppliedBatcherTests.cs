using LeakNode.Cloud.Sync;
using LeakNode.Cloud.Tests.Support;

namespace LeakNode.Cloud.Tests.Sync;

/// <summary>Acks are written in groups: those that arrive while one group is written go together in the next.</summary>
public sealed class AppliedBatcherTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly InMemoryNodeRegistry _registry = new();
    private readonly TaskCompletionSource _writing = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly AppliedBatcher _batcher;

    public AppliedBatcherTests()
    {
        // Every group is held at its start until the test releases it.
        _registry.BeforeApplied = () =>
        {
            _writing.TrySetResult();
            return _release.Task;
        };
        _batcher = new AppliedBatcher(_registry);
    }

    [Fact]
    public async Task AcksArrivingWhileAGroupIsWritten_AreWrittenTogetherInTheNext()
    {
        var first = _batcher.AppliedAsync("n0", 1, Ct);
        await _writing.Task.WaitAsync(Ct);
        var rest = Enumerable.Range(1, 9).Select(i => _batcher.AppliedAsync($"n{i}", 1, Ct)).ToList();
        var again = _batcher.AppliedAsync("n1", 2, Ct);
        Assert.False(rest[0].IsCompleted);

        _release.SetResult();
        await Task.WhenAll([first, again, .. rest]);

        Assert.Equal(2, _registry.AppliedGroups);
        Assert.Equal(10, _registry.Journal.Count);
        Assert.Contains("applied n1 2", _registry.Journal);
        Assert.DoesNotContain("applied n1 1", _registry.Journal);
    }

    [Fact]
    public async Task FailedGroup_FailsEveryCallerInItAndTheNextGroupIsWritten()
    {
        var first = _batcher.AppliedAsync("n0", 1, Ct);
        await _writing.Task.WaitAsync(Ct);

        _release.SetException(new TimeoutException("database is locked (test)"));

        await Assert.ThrowsAsync<TimeoutException>(() => first);
        _registry.BeforeApplied = null;
        await _batcher.AppliedAsync("n1", 1, Ct);
        Assert.Equal(["applied n1 1"], _registry.Journal);
    }
}
