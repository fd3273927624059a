using System.Numerics;
using LeakNode.Matching.Rules;

namespace LeakNode.Matching.Engine;

/// <summary>
/// Approximate counts of every window hash of a rule set, for choosing each token's rarest anchors at build
/// time: saturating byte counters, about one for every four windows and at most 4 MiB, so that counting
/// stays in the cache (two slots a window took a third of a million-token build in cache misses). Collisions
/// add a little noise to every count; a window that many tokens share still stands far above it. An
/// overcount only makes a choice slightly worse, never wrong.
/// </summary>
internal sealed class WindowSketch
{
    private readonly byte[] _counts;
    private readonly int _shift;

    private WindowSketch(long windows)
    {
        var slots = BitOperations.RoundUpToPowerOf2((ulong)Math.Clamp(windows / 4, 1024, 4L << 20));
        _counts = new byte[slots];
        _shift = 32 - BitOperations.Log2(slots);
    }

    public static WindowSketch Of(RuleSet rules)
    {
        long windows = 0;
        foreach (var leak in rules.Leaks)
        {
            foreach (var token in leak.Tokens)
            {
                windows += token.Windows.Length;
            }
        }

        var sketch = new WindowSketch(windows);
        foreach (var leak in rules.Leaks)
        {
            foreach (var token in leak.Tokens)
            {
                foreach (var window in token.Windows)
                {
                    ref var count = ref sketch._counts[sketch.Slot(window)];
                    if (count < byte.MaxValue)
                    {
                        count++;
                    }
                }
            }
        }
        return sketch;
    }

    public int Count(uint hash) => _counts[Slot(hash)];

    // Fibonacci hashing: the window hashes are already uniform, this only decorrelates the slot from the
    // filter's word index, which uses the same high bits.
    private int Slot(uint hash) => (int)((hash * 0x2545F491u) >> _shift);
}
