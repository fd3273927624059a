using System.Buffers;
using LeakNode.Matching.Rules;
using LeakNode.Matching.Tests.Support;
using LeakNode.Testing;

namespace LeakNode.Matching.Tests;

public sealed class MatchScannerTests
{
    private struct CountingSink : IMatchSink
    {
        public int Count;

        public void OnMatch(in TokenMatch match) => Count++;
    }

    [Fact]
    public void Write_SteadyState_AllocatesNothing()
    {
        var factory = new TokenFactory(21);
        var rules = new TestRules();
        var tokens = Enumerable.Range(0, 500).Select(_ => factory.Mixed()).ToArray();
        rules.Put("leak", RuleAction.Block, tokens);
        var matcher = rules.Build();
        var data = Haystacks.Plant(new Random(2), Haystacks.Noise(new Random(2), 64 * 1024), tokens, 50);
        var expected = Oracle.Find(data, rules.Tokens).Count;

        int Run()
        {
            var sink = new CountingSink();
            using var scanner = matcher.RentScanner();
            for (var offset = 0; offset < data.Length; offset += 1000)
            {
                scanner.Write(data.AsSpan(offset, Math.Min(1000, data.Length - offset)), ref sink);
            }
            return sink.Count;
        }

        Assert.Equal(expected, Run());   // warm: pool, buffers, JIT
        var counts = new int[5];
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < counts.Length; i++)
        {
            counts[i] = Run();
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(expected > 0);
        Assert.All(counts, count => Assert.Equal(expected, count));
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Write_Sequence_SameAsSpans()
    {
        var rules = new TestRules();
        var token = "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"u8.ToArray();
        rules.Put("leak", RuleAction.Block, token);
        var matcher = rules.Build();
        byte[] data = [.. "abc "u8, .. token, .. " def "u8, .. token];
        var sequence = Segments.Of(data, 5, 11, 3, 30);

        var sink = new CountingSink();
        using var scanner = matcher.RentScanner();
        scanner.Write(sequence, ref sink);

        Assert.Equal(2, sink.Count);
        Assert.Equal(data.Length, scanner.Position);
    }

    [Fact]
    public void Reset_StartsNewStream_ForgetsCarryAndOffsets()
    {
        var rules = new TestRules();
        var token = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"u8.ToArray();
        rules.Put("leak", RuleAction.Block, token);
        var matcher = rules.Build();
        var sink = new Scan.CollectingSink();
        using var scanner = matcher.RentScanner();

        scanner.Write(token.AsSpan(0, 20), ref sink);
        scanner.Reset();
        scanner.Write(token.AsSpan(20), ref sink);
        Assert.Empty(sink.Matches);

        scanner.Reset();
        scanner.Write(token, ref sink);
        Assert.Equal(0, Assert.Single(sink.Matches).Offset);
    }

    [Fact]
    public void Dispose_ReturnsToPool_NextRentIsClean()
    {
        var rules = new TestRules();
        var token = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"u8.ToArray();
        rules.Put("leak", RuleAction.Block, token);
        var matcher = rules.Build();
        var sink = new Scan.CollectingSink();

        var first = matcher.RentScanner();
        first.Write(token.AsSpan(0, 30), ref sink);
        first.Dispose();
        Assert.Throws<ObjectDisposedException>(() => first.Matcher);

        using var second = matcher.RentScanner();
        Assert.Equal(0, second.Position);
        second.Write(token.AsSpan(30), ref sink);
        Assert.Empty(sink.Matches);
    }

    [Fact]
    public void Rent_AfterUpdate_ForgetsHashesRememberedAsAbsent()
    {
        // Saturate the filters (a matcher grown far past its build size by updates) so that every window of the
        // traffic passes them and the scanner remembers each as absent from the table; then add a leak whose token
        // the traffic holds. A scanner rented from the new version must look its windows up again.
        var factory = new TokenFactory(31);
        var rules = new TestRules();
        rules.Put("seed", RuleAction.Block, factory.RealWorld());
        var matcher = rules.Build();
        for (var i = 0; i < 300; i++)
        {
            matcher = matcher.Apply(RuleSetDelta.Upsert(rules.Version, rules.NextVersion(), rules.Put($"l{i}", RuleAction.Block, factory.RealWorld(), factory.Bytes(12, 16), factory.Bytes(20, 26))));
        }
        var tokens = new[] { factory.RealWorld(), factory.Bytes(12, 16), factory.Bytes(20, 26) };
        byte[] traffic = [.. tokens[0], .. " x "u8, .. tokens[1], .. " y "u8, .. tokens[2]];

        for (var i = 0; i < 3; i++)
        {
            Assert.Empty(matcher.FindAll(traffic));
        }
        var next = matcher.Apply(RuleSetDelta.Upsert(rules.Version, rules.NextVersion(), rules.Put("new", RuleAction.Block, tokens)));

        Assert.Equal(3, next.FindAll(traffic).Count);
    }

    [Fact]
    public void Dispose_PooledScanner_DoesNotKeepItsVersionAlive()
    {
        var (oldVersion, newVersion) = ScanOldVersionThenUpdate();

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.False(oldVersion.IsAlive, "a scanner back in the pool still holds the version it scanned for");
        Assert.Single(newVersion.FindAll("ghp_abcdefghijklmnopqrstuvwxyz0123456789"u8));
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static (WeakReference OldVersion, TokenMatcher NewVersion) ScanOldVersionThenUpdate()
    {
        var rules = new TestRules();
        rules.Put("a", RuleAction.Block, "ghp_abcdefghijklmnopqrstuvwxyz0123456789"u8.ToArray());
        var matcher = rules.Build();
        Assert.Single(matcher.FindAll("x ghp_abcdefghijklmnopqrstuvwxyz0123456789 y"u8));
        var next = matcher.Apply(RuleSetDelta.Upsert(rules.Version, rules.NextVersion(), rules.Put("b", RuleAction.Block, "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"u8.ToArray())));
        return (new WeakReference(matcher), next);
    }

    private sealed class Segments : ReadOnlySequenceSegment<byte>
    {
        private Segments(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public static ReadOnlySequence<byte> Of(byte[] data, params int[] sizes)
        {
            Segments? first = null;
            Segments? last = null;
            var offset = 0;
            foreach (var size in sizes.Append(int.MaxValue))
            {
                var take = Math.Min(size, data.Length - offset);
                if (take <= 0)
                {
                    break;
                }
                var segment = new Segments(data.AsMemory(offset, take), offset);
                if (last is null)
                {
                    first = segment;
                }
                else
                {
                    last.Next = segment;
                }
                last = segment;
                offset += take;
            }
            return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
        }
    }
}
