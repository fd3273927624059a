using System.Collections.Concurrent;

namespace LeakNode.Matching.Engine;

/// <summary>
/// Scanners shared by every version of one matcher line, so that a rule-set update does not empty the pool.
/// A scanner is bound to a version when rented and unbound when returned.
/// </summary>
internal sealed class ScannerPool
{
    // Enough for every request in flight on a busy node; beyond it, returned scanners are dropped for the GC.
    private static readonly int MaxPooled = Math.Max(64, Environment.ProcessorCount * 32);

    private readonly ConcurrentQueue<MatchScanner> _scanners = new();
    private int _count;

    public MatchScanner Rent(TokenMatcher matcher)
    {
        if (_scanners.TryDequeue(out var scanner))
        {
            Interlocked.Decrement(ref _count);
        }
        else
        {
            scanner = new MatchScanner(this);
        }
        scanner.Bind(matcher);
        return scanner;
    }

    public void Return(MatchScanner scanner)
    {
        if (Interlocked.Increment(ref _count) <= MaxPooled)
        {
            _scanners.Enqueue(scanner);
        }
        else
        {
            Interlocked.Decrement(ref _count);
            scanner.ReleaseBuffers();
        }
    }
}
