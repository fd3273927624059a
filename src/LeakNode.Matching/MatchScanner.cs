using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using LeakNode.Matching.Digests;
using LeakNode.Matching.Engine;

namespace LeakNode.Matching;

/// <summary>
/// Scans one stream of bytes, given in chunks in order, for the tokens of one <see cref="TokenMatcher"/>
/// version, and reports every occurrence, including tokens that straddle chunks. Not thread-safe: one scanner
/// per stream. Rent one from <see cref="TokenMatcher.RentScanner"/> and dispose it to return it to the pool:
/// in steady state a scan allocates nothing.
/// </summary>
/// <remarks>
/// <para>
/// The methods of the scan path are <see cref="MethodImplOptions.AggressiveOptimization"/>: a node spends its
/// time here from its first request on, and under tiered compilation they ran as tier-0 code for whole benchmark
/// runs (0.8 GB/s instead of 3+), the call counts never promoting them. Nothing in them gains from PGO.
/// </para>
/// <para>
/// Between chunks the scanner keeps the last <c>MaxTokenLength − 1</c> bytes of the stream (the carry) and
/// the candidates whose token runs past the end of the chunk so far (each waits for the bytes it needs, then
/// is confirmed or dropped). Matches are reported once each, in the order they are confirmed, which is not
/// always the order of their offsets.
/// </para>
/// </remarks>
public sealed class MatchScanner : IDisposable
{
    private readonly ScannerPool _pool;
    private TokenMatcher? _matcher;

    // The stream's last bytes before _position live in _carry[_carryStart.._carryEnd). The buffer is twice the
    // carry so that small chunks append without moving bytes each time (amortised O(1) a byte).
    private byte[] _carry = [];
    private int _carryStart;
    private int _carryEnd;
    private int _carryLimit;

    private byte[] _scratch = [];
    private Pending[] _pending = [];
    private int _pendingCount;

    // The HMAC of the last candidate span: identical tokens (the same token in several leaks) share their
    // anchors, so one probe can yield many candidates over the same bytes, and one HMAC serves them all.
    private long _memoStart = -1;
    private int _memoLength;
    private ulong _memo0;
    private ulong _memo1;

    // One HMAC context a scanner, reused: the one-shot HMACSHA256.HashData sets the key up on every call
    // (1.7 µs against 0.7 µs here, for a 40-byte token) and allocates a little each time.
    private IncrementalHash? _hmac;
    private DigestKey? _hmacKey;

    // Hashes that passed a filter but have no table entry, in this matcher version: ordinary traffic repeats
    // itself (every request carries "Accept: application/json"), so one unlucky window that passes the filter
    // passes it again and again. In the HTTP corpus the ten most frequent passing windows made over half of all
    // passes; remembering them here skips their table walks. Direct-mapped by the hash's low bits, each slot
    // holding the group and the hash (zero when empty). Cleared when the scanner binds another version.
    private readonly ulong[] _absent = new ulong[AbsentSlots];
    // The matcher the memo is for, by its instance number: a reference would keep an old version (and all its
    // pages) alive in every pooled scanner.
    private long _absentFor;

    private long _position;

    internal MatchScanner(ScannerPool pool) => _pool = pool;

    private const int AbsentSlots = 256;

    /// <summary>The matcher version this scanner reports for.</summary>
    public TokenMatcher Matcher => _matcher ?? throw new ObjectDisposedException(nameof(MatchScanner));

    /// <summary>Bytes consumed so far: the stream offset of the next chunk.</summary>
    public long Position => _position;

    /// <summary>Scans the next chunk of the stream.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Write<TSink>(ReadOnlySpan<byte> chunk, ref TSink sink)
        where TSink : IMatchSink, allows ref struct
    {
        var matcher = Matcher;
        if (chunk.IsEmpty)
        {
            return;
        }

        if (_pendingCount > 0)
        {
            ConfirmPending(matcher, chunk, ref sink);
        }

        foreach (var group in matcher.Groups)
        {
            if (group is not null)
            {
                ScanGroup(matcher, group, chunk, ref sink);
            }
        }

        AppendCarry(chunk);
        _position += chunk.Length;
    }

    /// <summary>Scans the next chunks of the stream.</summary>
    public void Write<TSink>(in ReadOnlySequence<byte> chunks, ref TSink sink)
        where TSink : IMatchSink, allows ref struct
    {
        foreach (var segment in chunks)
        {
            Write(segment.Span, ref sink);
        }
    }

    /// <summary>Starts a new stream: forgets the carry, waiting candidates and position.</summary>
    public void Reset()
    {
        _position = 0;
        _carryStart = _carryEnd = 0;
        _pendingCount = 0;
        _memoStart = -1;
    }

    /// <summary>Returns the scanner to its pool. The scanner must not be used afterwards.</summary>
    public void Dispose()
    {
        if (_matcher is null)
        {
            return;
        }
        _matcher = null;
        Reset();
        _pool.Return(this);
    }

    internal void Bind(TokenMatcher matcher)
    {
        _matcher = matcher;
        _carryLimit = Math.Max(7, matcher.MaxTokenLength - 1);
        if (_carry.Length < 2 * _carryLimit)
        {
            Replace(ref _carry, 2 * _carryLimit);
        }
        if (_scratch.Length < matcher.MaxTokenLength)
        {
            Replace(ref _scratch, matcher.MaxTokenLength);
        }
        if (_pending.Length == 0)
        {
            _pending = ArrayPool<Pending>.Shared.Rent(16);
        }
        if (_absentFor != matcher.Instance)
        {
            Array.Clear(_absent);
            _absentFor = matcher.Instance;
        }
        if (!ReferenceEquals(_hmacKey, matcher.Key))
        {
            _hmac?.Dispose();
            _hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, matcher.Key.HmacKey);
            _hmacKey = matcher.Key;
        }
        Reset();
    }

    internal void ReleaseBuffers()
    {
        ArrayPool<byte>.Shared.Return(_carry);
        ArrayPool<byte>.Shared.Return(_scratch);
        ArrayPool<Pending>.Shared.Return(_pending);
        _carry = _scratch = [];
        _pending = [];
        _hmac?.Dispose();
        _hmac = null;
        _hmacKey = null;
        _absentFor = 0;
    }

    private static void Replace(ref byte[] buffer, int size)
    {
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        buffer = ArrayPool<byte>.Shared.Rent(size);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ScanGroup<TSink>(TokenMatcher matcher, AnchorGroup group, ReadOnlySpan<byte> chunk, ref TSink sink)
        where TSink : IMatchSink, allows ref struct
    {
        var stride = group.Stride;
        var width = group.Width;
        var start = _position;
        var end = start + chunk.Length;

        // Windows that begin in the carry and end in this chunk: the previous chunk could not probe them.
        var x = AlignUp(Math.Max(0, start - width + 1), stride);
        for (; x < start && x + width <= end; x += stride)
        {
            ProbeSlow(matcher, group, x, chunk, ref sink);
        }

        // Windows inside the chunk. The fast loop reads 8 bytes at a time; the last few windows are probed slowly.
        x = AlignUp(start, stride);
        var first = (int)(x - start);
        var next = ScanBody(matcher, group, chunk, first, ref sink);
        for (x = start + next; x + width <= end; x += stride)
        {
            ProbeSlow(matcher, group, x, chunk, ref sink);
        }
    }

    /// <summary>
    /// Probes every stride-th window of the chunk from <paramref name="first"/>, handing the filter passes to
    /// the table. Returns the first index it did not probe (the last few windows are left to the slow path).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int ScanBody<TSink>(TokenMatcher matcher, AnchorGroup group, ReadOnlySpan<byte> chunk, int first, ref TSink sink)
        where TSink : IMatchSink, allows ref struct
    {
        Span<ulong> passes = stackalloc ulong[WindowProbe.PassBuffer];
        var i = first;
        var last = chunk.Length - sizeof(ulong);
        var key0 = matcher.Key.WindowKey0;
        var key1 = matcher.Key.WindowKey1;
        while (i <= last)
        {
            i = WindowProbe.Run(group, key0, key1, chunk, i, passes, out var count);
            if (count > 1)
            {
                // Start every table walk's first cache miss at once: past L2 each walk would otherwise wait
                // alone (at 1M tokens a pass cost about 250 ns before this).
                foreach (var pass in passes[..count])
                {
                    group.Table.Prefetch((uint)(pass >> 32));
                }
            }
            foreach (var pass in passes[..count])
            {
                OnFilterPass(matcher, group, _position + (uint)pass, (uint)(pass >> 32), chunk, ref sink);
            }
        }
        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ProbeSlow<TSink>(TokenMatcher matcher, AnchorGroup group, long x, ReadOnlySpan<byte> chunk, ref TSink sink)
        where TSink : IMatchSink, allows ref struct
    {
        var hash = HashAt(matcher, group, x, chunk);
        if (group.Filter.MayContain(hash))
        {
            OnFilterPass(matcher, group, x, hash, chunk, ref sink);
        }
    }

    /// <summary>The hash of the window at stream offset <paramref name="x"/>, which must be in the carry or the chunk.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private uint HashAt(TokenMatcher matcher, AnchorGroup group, long x, ReadOnlySpan<byte> chunk)
    {
        ulong window = 0;
        for (var k = group.Width - 1; k >= 0; k--)
        {
            window = (window << 8) | ByteAt(x + k, chunk);
        }
        return WindowHash.Hash(window, matcher.Key.WindowKey0, matcher.Key.WindowKey1);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private void OnFilterPass<TSink>(TokenMatcher matcher, AnchorGroup group, long x, uint hash, ReadOnlySpan<byte> chunk, ref TSink sink)
        where TSink : IMatchSink, allows ref struct
    {
        // Groups share the memo: a hash absent from one group's table may be present in another's, so the
        // group is remembered with the hash (as group + 1, which also keeps every remembered value non-zero).
        var remembered = ((ulong)(group.Index + 1) << 32) | hash;
        ref var absent = ref _absent[hash & (AbsentSlots - 1)];
        if (absent == remembered)
        {
            return;
        }

        var table = group.Table;
        var page = table.Page(hash, out var slot);
        var found = false;
        var mask = table.SlotMask;
        for (var entry = page[slot]; entry != 0; entry = page[slot = (slot + 1) & mask])
        {
            if (AnchorTable.HashOf(entry) == hash)
            {
                found = true;
                OnCandidate(matcher, group, entry, x, chunk, ref sink);
            }
        }

        if (table.Overflow is { } overflow && overflow.TryGetValue(hash, out var spilled))
        {
            found = true;
            foreach (var entry in spilled)
            {
                OnCandidate(matcher, group, entry, x, chunk, ref sink);
            }
        }

        if (!found)
        {
            absent = remembered;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void OnCandidate<TSink>(TokenMatcher matcher, AnchorGroup group, ulong entry, long x, ReadOnlySpan<byte> chunk, ref TSink sink)
        where TSink : IMatchSink, allows ref struct
    {
        var token = AnchorTable.TokenOf(entry);
        ref readonly var record = ref matcher.TokenStore[token];
        var anchor = AnchorTable.AnchorOf(entry);
        var start = x - record.AnchorOffset - anchor;
        if (start < 0 || matcher.LeakStore[record.Leak].Removed)
        {
            return;
        }

        // Check another anchor's window before anything costlier. The first anchor's window always lies in the
        // carry or the chunk (it starts at or before x); the last one may not have arrived yet.
        if (anchor != 0)
        {
            if ((ushort)HashAt(matcher, group, x - anchor, chunk) != record.CheckFirst)
            {
                return;
            }
        }
        else if (group.Stride > 1)
        {
            var last = x + group.Stride - 1;
            if (last + group.Width <= _position + chunk.Length && (ushort)HashAt(matcher, group, last, chunk) != record.CheckLast)
            {
                return;
            }
        }

        if (start + record.Length <= _position + chunk.Length)
        {
            Confirm(matcher, token, start, chunk, ref sink);
        }
        else
        {
            AddPending(token, start);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ConfirmPending<TSink>(TokenMatcher matcher, ReadOnlySpan<byte> chunk, ref TSink sink)
        where TSink : IMatchSink, allows ref struct
    {
        var end = _position + chunk.Length;
        for (var i = 0; i < _pendingCount;)
        {
            var pending = _pending[i];
            if (pending.Start + matcher.TokenStore[pending.Token].Length <= end)
            {
                _pending[i] = _pending[--_pendingCount];
                Confirm(matcher, pending.Token, pending.Start, chunk, ref sink);
            }
            else
            {
                i++;
            }
        }
    }

    /// <summary>Computes the HMAC of the candidate span and reports the token when it equals the token's.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Confirm<TSink>(TokenMatcher matcher, int token, long start, ReadOnlySpan<byte> chunk, ref TSink sink)
        where TSink : IMatchSink, allows ref struct
    {
        ref readonly var record = ref matcher.TokenStore[token];
        int length = record.Length;
        if (start != _memoStart || length != _memoLength)
        {
            ReadOnlySpan<byte> bytes;
            if (start >= _position)
            {
                bytes = chunk.Slice((int)(start - _position), length);
            }
            else
            {
                var fromCarry = (int)(_position - start);
                Debug.Assert(fromCarry <= _carryEnd - _carryStart);
                _carry.AsSpan(_carryEnd - fromCarry, fromCarry).CopyTo(_scratch);
                chunk[..(length - fromCarry)].CopyTo(_scratch.AsSpan(fromCarry));
                bytes = _scratch.AsSpan(0, length);
            }

            Span<byte> hmac = stackalloc byte[32];
            _hmac!.AppendData(bytes);
            _hmac.GetHashAndReset(hmac);
            _memo0 = BinaryPrimitives.ReadUInt64LittleEndian(hmac);
            _memo1 = BinaryPrimitives.ReadUInt64LittleEndian(hmac[8..]);
            _memoStart = start;
            _memoLength = length;
        }

        if (_memo0 == record.Hmac0 && _memo1 == record.Hmac1)
        {
            ref readonly var leak = ref matcher.LeakStore[record.Leak];
            sink.OnMatch(new TokenMatch(token, record.Leak, start, length, leak.Action));
        }
    }

    private void AddPending(int token, long start)
    {
        if (_pendingCount == _pending.Length)
        {
            var grown = ArrayPool<Pending>.Shared.Rent(_pending.Length * 2);
            _pending.AsSpan(0, _pendingCount).CopyTo(grown);
            ArrayPool<Pending>.Shared.Return(_pending);
            _pending = grown;
        }
        _pending[_pendingCount++] = new Pending(token, start);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private byte ByteAt(long x, ReadOnlySpan<byte> chunk)
    {
        if (x >= _position)
        {
            return chunk[(int)(x - _position)];
        }
        Debug.Assert(_position - x <= _carryEnd - _carryStart);
        return _carry[_carryEnd - (int)(_position - x)];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void AppendCarry(ReadOnlySpan<byte> chunk)
    {
        var limit = _carryLimit;
        if (chunk.Length >= limit)
        {
            chunk[^limit..].CopyTo(_carry);
            _carryStart = 0;
            _carryEnd = limit;
            return;
        }

        if (_carryEnd + chunk.Length > _carry.Length)
        {
            var keep = Math.Min(_carryEnd - _carryStart, limit - chunk.Length);
            _carry.AsSpan(_carryEnd - keep, keep).CopyTo(_carry);
            _carryStart = 0;
            _carryEnd = keep;
        }
        chunk.CopyTo(_carry.AsSpan(_carryEnd));
        _carryEnd += chunk.Length;
        _carryStart = Math.Max(_carryStart, _carryEnd - limit);
    }

    private static long AlignUp(long value, int stride)
    {
        var remainder = value % stride;
        return remainder == 0 ? value : value + stride - remainder;
    }

    private readonly record struct Pending(int Token, long Start);
}
