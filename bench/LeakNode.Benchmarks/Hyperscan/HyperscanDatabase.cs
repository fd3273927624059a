using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;

using static LeakNode.Benchmarks.Hyperscan.HyperscanNative;

namespace LeakNode.Benchmarks.Hyperscan;

/// <summary>
/// A Hyperscan block-mode database of literal byte strings plus the scratch space to scan with it:
/// the reference our token matcher is benchmarked against.
/// </summary>
/// <remarks>
/// <para>
/// Match semantics: every occurrence of every literal is reported, overlapping ones included, as
/// (literal index, offset one past the match's last byte). Hyperscan reports END offsets only; the
/// start is <c>End - literals[Id].Length</c>. Matches of different literals ending at the same
/// offset come in no documented order.
/// </para>
/// <para>
/// Not thread-safe: there is one scratch block per database, and Hyperscan refuses a second
/// concurrent scan on it with <c>HS_SCRATCH_IN_USE</c>, which surfaces here as an exception.
/// </para>
/// </remarks>
internal sealed unsafe class HyperscanDatabase : IDisposable
{
    private readonly DatabaseHandle _database;
    private readonly ScratchHandle _scratch;

    private HyperscanDatabase(DatabaseHandle database, ScratchHandle scratch, int literalCount, long databaseBytes)
    {
        _database = database;
        _scratch = scratch;
        LiteralCount = literalCount;
        DatabaseBytes = databaseBytes;
    }

    public int LiteralCount { get; }

    /// <summary>Size of the compiled database (<c>hs_database_size</c>); scratch space is extra.</summary>
    public long DatabaseBytes { get; }

    /// <summary><c>hs_version()</c>, e.g. "5.4.0 2021-01-26".</summary>
    public static string Version => Marshal.PtrToStringUTF8((nint)hs_version()) ?? string.Empty;

    /// <summary>
    /// True when <c>libhs.so.5</c> (or a library called <c>hs</c>) loads and <c>hs_valid_platform()</c>
    /// accepts this CPU; otherwise <paramref name="reason"/> says what is missing, so a benchmark can
    /// print it and skip Hyperscan instead of crashing.
    /// </summary>
    public static bool IsAvailable(out string reason)
    {
        if (!HyperscanNative.TryLoad(out reason))
        {
            return false;
        }

        int result;
        try
        {
            result = hs_valid_platform();
        }
        catch (DllNotFoundException e)
        {
            reason = e.Message;
            return false;
        }
        catch (EntryPointNotFoundException e)
        {
            reason = $"the loaded library is not Hyperscan: {e.Message}";
            return false;
        }

        if (result != Success)
        {
            reason = $"hs_valid_platform() returned {ErrorName(result)}";
            return false;
        }

        reason = string.Empty;
        return true;
    }

    /// <summary>
    /// Compiles <paramref name="literals"/> with <c>hs_compile_lit_multi</c> in block mode. Literal
    /// <c>i</c> gets id <c>i</c> and flags 0: case-sensitive, every occurrence reported. Literals are
    /// raw bytes with explicit lengths, so any byte, NUL included, is allowed.
    /// </summary>
    /// <exception cref="ArgumentException">No literals, a null or empty literal, or Hyperscan
    /// rejected a particular literal (the message is Hyperscan's and names its index).</exception>
    /// <exception cref="InvalidOperationException">The compile failed for a reason not tied to one
    /// literal (for example out of memory).</exception>
    public static HyperscanDatabase CompileLiterals(IReadOnlyList<byte[]> literals)
    {
        ArgumentNullException.ThrowIfNull(literals);

        var count = literals.Count;
        if (count == 0)
        {
            // An empty array pins to NULL, which Hyperscan reports as "expressions is NULL".
            throw new ArgumentException("Hyperscan cannot compile an empty set of literals.", nameof(literals));
        }

        // Snapshot the arrays: the copy below relies on the lengths measured here.
        var snapshot = new byte[count][];
        var lengths = new nuint[count];
        var ids = new uint[count];
        var flags = new uint[count];
        long totalBytes = 0;
        for (var i = 0; i < count; i++)
        {
            var literal = literals[i] ?? throw new ArgumentException($"Literal {i} is null.", nameof(literals));
            if (literal.Length == 0)
            {
                // Hyperscan 5.4 does not reject an empty literal: next to others it crashes the compiler
                // (intel/hyperscan#302; Debian's 5.4.0-2 dies with SIGSEGV in hs_compile_lit_multi),
                // and alone it compiles into a database that hs_scan reads out of bounds (#304).
                throw new ArgumentException($"Literal {i} is empty; Hyperscan 5.4 mishandles empty literals.", nameof(literals));
            }

            snapshot[i] = literal;
            lengths[i] = (nuint)literal.Length;
            ids[i] = (uint)i;
            totalBytes += literal.Length;
        }

        // One contiguous native copy instead of pinning up to a million small arrays: a GCHandle per
        // literal would cost more than the copy, and a native block is not limited to 2 GB.
        var pointers = new nint[count];
        var bytes = (byte*)NativeMemory.Alloc((nuint)totalBytes);
        DatabaseHandle? database = null;
        try
        {
            var next = bytes;
            for (var i = 0; i < count; i++)
            {
                var literal = snapshot[i];
                literal.CopyTo(new Span<byte>(next, literal.Length));
                pointers[i] = (nint)next;
                next += literal.Length;
            }

            int result;
            CompileError* error;
            fixed (nint* expressions = pointers)
            fixed (uint* flagsPointer = flags)
            fixed (uint* idsPointer = ids)
            fixed (nuint* lengthsPointer = lengths)
            {
                result = hs_compile_lit_multi(
                    (byte**)expressions,
                    flagsPointer,
                    idsPointer,
                    lengthsPointer,
                    (uint)count,
                    ModeBlock,
                    platform: null,
                    out database,
                    out error);
            }

            if (result != Success)
            {
                ThrowCompileFailed(result, error, nameof(literals));
            }

            return WithScratch(database, count);
        }
        catch
        {
            database?.Dispose();
            throw;
        }
        finally
        {
            NativeMemory.Free(bytes);
        }
    }

    /// <summary>Counts every match in <paramref name="data"/>. Allocates nothing on the managed heap.</summary>
    public long Scan(ReadOnlySpan<byte> data)
    {
        long count = 0;
        var result = ScanCore(data, &CountMatch, (nint)(&count));
        if (result != Success)
        {
            ThrowScanFailed(result);
        }

        return count;
    }

    /// <summary>Appends every match in <paramref name="data"/> to <paramref name="matches"/>, in the
    /// order Hyperscan reports them. For tests: allocates, unlike <see cref="Scan"/>.</summary>
    public void ScanCollect(ReadOnlySpan<byte> data, List<(int Id, long End)> matches)
    {
        ArgumentNullException.ThrowIfNull(matches);

        var collector = new Collector(matches);
        var handle = GCHandle.Alloc(collector);
        int result;
        try
        {
            result = ScanCore(data, &CollectMatch, GCHandle.ToIntPtr(handle));
        }
        finally
        {
            handle.Free();
        }

        if (collector.Failure is not null)
        {
            ExceptionDispatchInfo.Throw(collector.Failure);
        }

        if (result != Success)
        {
            ThrowScanFailed(result);
        }
    }

    public void Dispose()
    {
        _scratch.Dispose();
        _database.Dispose();
    }

    private int ScanCore(
        ReadOnlySpan<byte> data,
        delegate* unmanaged[Cdecl]<uint, ulong, ulong, uint, nint, int> onMatch,
        nint context)
    {
        // hs_scan rejects a NULL data pointer with HS_INVALID even when the length is 0, and an empty
        // span pins to NULL, so an empty buffer is scanned through a valid one-byte placeholder.
        byte placeholder = 0;
        fixed (byte* pinned = data)
        {
            var start = data.IsEmpty ? &placeholder : pinned;
            return hs_scan(_database, start, (uint)data.Length, flags: 0, _scratch, onMatch, context);
        }
    }

    private static HyperscanDatabase WithScratch(DatabaseHandle database, int count)
    {
        var result = hs_database_size(database, out var size);
        if (result != Success)
        {
            throw new InvalidOperationException($"hs_database_size failed: {ErrorName(result)}.");
        }

        var scratch = new ScratchHandle();
        nint rawScratch = 0;
        result = hs_alloc_scratch(database, ref rawScratch);
        if (result != Success)
        {
            scratch.Dispose();
            throw new InvalidOperationException($"hs_alloc_scratch failed: {ErrorName(result)}.");
        }

        Marshal.InitHandle(scratch, rawScratch);
        return new HyperscanDatabase(database, scratch, count, (long)size);
    }

    // Hyperscan calls back from native code on the scanning thread; an exception must not unwind
    // through its frames, so neither callback can throw: CountMatch cannot, CollectMatch catches.

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int CountMatch(uint id, ulong from, ulong to, uint flags, nint context)
    {
        (*(long*)context)++;
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    [SuppressMessage(
        "Design",
        "CA1031:Do not catch general exception types",
        Justification = "An exception cannot cross the native hs_scan frames; it is stored, the scan is stopped, and ScanCollect rethrows it.")]
    private static int CollectMatch(uint id, ulong from, ulong to, uint flags, nint context)
    {
        var collector = (Collector)GCHandle.FromIntPtr(context).Target!;
        try
        {
            collector.Matches.Add(((int)id, (long)to));
            return 0;
        }
        catch (Exception e)
        {
            collector.Failure = e;
            return 1; // non-zero stops the scan; hs_scan then returns HS_SCAN_TERMINATED
        }
    }

    [DoesNotReturn]
    private static void ThrowCompileFailed(int result, CompileError* error, string paramName)
    {
        if (error is null)
        {
            throw new InvalidOperationException($"hs_compile_lit_multi failed: {ErrorName(result)}.");
        }

        var message = Marshal.PtrToStringUTF8((nint)error->Message) ?? string.Empty;
        var expression = error->Expression;
        _ = hs_free_compile_error(error);
        if (expression >= 0)
        {
            throw new ArgumentException($"Hyperscan rejected literal {expression}: {message}", paramName);
        }

        throw new InvalidOperationException($"hs_compile_lit_multi failed: {message}");
    }

    [DoesNotReturn]
    private static void ThrowScanFailed(int result) =>
        throw new InvalidOperationException($"hs_scan failed: {ErrorName(result)}.");

    private sealed class Collector(List<(int Id, long End)> matches)
    {
        public List<(int Id, long End)> Matches { get; } = matches;

        public Exception? Failure { get; set; }
    }
}
