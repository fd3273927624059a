using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using LeakNode.Matching.Digests;
using LeakNode.Matching.Engine;
using LeakNode.Matching.Rules;

namespace LeakNode.Matching;

/// <summary>
/// An immutable, compiled rule set that finds every occurrence of every leaked token in bytes. Built from
/// digests only; holds no plaintext. Scan with a <see cref="MatchScanner"/> from <see cref="RentScanner"/>.
/// </summary>
/// <remarks>
/// <para>
/// Versions form a line: <see cref="Apply"/> makes the next version from this one by copying only the pages an
/// update touches (milliseconds at a million tokens), and <see cref="Compact"/> rebuilds the same version
/// compactly in the background. Scans in progress keep the version they started with.
/// </para>
/// <para>How it works, and why each constant is what it is: docs/DESIGN.md.</para>
/// </remarks>
public sealed class TokenMatcher
{
    // 512 records a page (16 KiB of tokens, 10 KiB of leaks): small enough that a small rule set does not pay
    // for mostly empty pages (with 2048 a page, a thousand tokens took 340 bytes each), large enough that a fork
    // at a million tokens copies a page table of only 2,000 references.
    private const int TokenPageBits = 9;
    private const int LeakPageBits = 9;

    /// <summary>Compaction is recommended once this share of stored tokens belongs to removed leaks.</summary>
    private const double DeadShareForCompaction = 0.10;

    /// <summary>… or once a filter holds this many times the anchors it was sized for (its false positives grow).</summary>
    private const double FilterGrowthForCompaction = 1.25;

    private static long s_instances;

    private readonly LeakIdMap _leakMap;
    private readonly int _deadTokens;

    private TokenMatcher(
        DigestKey key,
        MatcherLimits limits,
        long version,
        AnchorGroup?[] groups,
        PagedStore<TokenRecord> tokens,
        PagedStore<LeakRecord> leaks,
        IdStore ids,
        LeakIdMap leakMap,
        int liveTokens,
        int liveLeaks,
        int deadTokens,
        ScannerPool pool)
    {
        Key = key;
        Limits = limits;
        Version = version;
        Instance = Interlocked.Increment(ref s_instances);
        Groups = groups;
        TokenStore = tokens;
        LeakStore = leaks;
        Ids = ids;
        _leakMap = leakMap;
        TokenCount = liveTokens;
        LeakCount = liveLeaks;
        _deadTokens = deadTokens;
        Pool = pool;

        tokens.Freeze();
        leaks.Freeze();
        ids.Freeze();
        var maxLength = 0;
        foreach (var group in groups)
        {
            group?.Table.Freeze();
            maxLength = Math.Max(maxLength, group?.MaxTokenLength ?? 0);
        }
        MaxTokenLength = maxLength;
    }

    /// <summary>The rule-set version this matcher enforces.</summary>
    public long Version { get; }

    /// <summary>Tokens watched (of leaks not removed).</summary>
    public int TokenCount { get; }

    /// <summary>Leaks watched.</summary>
    public int LeakCount { get; }

    /// <summary>The longest stored token: a scanner keeps this many bytes minus one between chunks.</summary>
    public int MaxTokenLength { get; }

    /// <summary>The bounds this matcher and its successors enforce.</summary>
    public MatcherLimits Limits { get; }

    /// <summary>
    /// True when removed leaks or in-place additions have accumulated enough that <see cref="Compact"/> would
    /// win back memory or scan speed. <see cref="LiveMatcher"/> acts on it in the background.
    /// </summary>
    public bool CompactionRecommended
    {
        get
        {
            if (_deadTokens > 0 && _deadTokens >= DeadShareForCompaction * TokenStore.Count)
            {
                return true;
            }
            foreach (var group in Groups)
            {
                if (group is not null && group.Filter.Anchors > (FilterGrowthForCompaction * group.Filter.DesignAnchors) + 64)
                {
                    return true;
                }
            }
            return false;
        }
    }

    /// <summary>Bytes held by this version's structures, counting pages it shares with other versions in full.</summary>
    public long MemoryBytes
    {
        get
        {
            var bytes = TokenStore.Bytes + LeakStore.Bytes + Ids.Bytes + _leakMap.Bytes;
            foreach (var group in Groups)
            {
                if (group is not null)
                {
                    bytes += group.Filter.Bytes + group.Table.Bytes;
                }
            }
            return bytes;
        }
    }

    internal DigestKey Key { get; }

    /// <summary>A number no other matcher instance in this process has (versions of two lines may share a version number).</summary>
    internal long Instance { get; }

    internal AnchorGroup?[] Groups { get; }

    internal PagedStore<TokenRecord> TokenStore { get; }

    internal PagedStore<LeakRecord> LeakStore { get; }

    internal IdStore Ids { get; }

    internal ScannerPool Pool { get; }

    /// <summary>The id of a matched token.</summary>
    public string GetTokenId(int token) => Ids.Get(TokenStore[token].IdRef);

    /// <summary>A matched token's masked preview (e.g. <c>ghp_…9f3a</c>), when its digest carried one.</summary>
    public string? GetTokenPreview(int token) => Ids.GetAttached(TokenStore[token].IdRef);

    /// <summary>A matched token's fingerprint: 16 hex digits of its keyed HMAC, the same in the cloud and on every node.</summary>
    public string GetTokenFingerprint(int token) => TokenDigest.FormatFingerprint(TokenStore[token].Hmac0);

    /// <summary>The id of a matched token's leak.</summary>
    public string GetLeakId(int leak) => Ids.Get(LeakStore[leak].IdRef);

    /// <summary>A scanner for one stream (one request body, one header value, …), from a pool. Dispose it to return it.</summary>
    public MatchScanner RentScanner() => Pool.Rent(this);

    /// <summary>Every match in one buffer. Allocates the list; the streaming <see cref="RentScanner"/> API does not.</summary>
    public List<TokenMatch> FindAll(ReadOnlySpan<byte> data)
    {
        var sink = new ListSink();
        using var scanner = RentScanner();
        scanner.Write(data, ref sink);
        return sink.Matches;
    }

    /// <summary>Compiles a rule set.</summary>
    /// <exception cref="RuleSetRejectedException">The rule set is malformed or exceeds <paramref name="limits"/>.</exception>
    public static TokenMatcher Build(DigestKey key, RuleSet rules, MatcherLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(rules);
        limits ??= MatcherLimits.Default;

        var problems = new List<string>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var anchors = new long[WindowPlan.GroupCount];
        long tokenCount = 0;
        long idBytes = 0;
        foreach (var leak in rules.Leaks)
        {
            if (leak is null)
            {
                problems.Add("the rule set holds a null leak");
                continue;
            }
            ValidateLeak(leak, limits, problems);
            if (!string.IsNullOrEmpty(leak.Id) && !ids.Add(leak.Id))
            {
                problems.Add($"leak id '{leak.Id}' appears more than once");
            }
            idBytes += IdCost(leak.Id);
            foreach (var token in leak.Tokens ?? [])
            {
                if (token is null || token.Length < WindowPlan.MinTokenLength)
                {
                    continue;
                }
                tokenCount++;
                idBytes += IdCost(token.Id, token.Preview);
                var group = WindowPlan.GroupOf(token.Length);
                anchors[group] += WindowPlan.StrideOfGroup(group);
            }
        }

        CheckSize(limits, tokenCount, rules.Leaks.Count, tokenCount, rules.Leaks.Count, anchors, idBytes, problems);
        if (problems.Count > 0)
        {
            throw new RuleSetRejectedException(problems);
        }

        var groups = new AnchorGroup?[WindowPlan.GroupCount];
        for (var g = 0; g < groups.Length; g++)
        {
            if (anchors[g] > 0)
            {
                groups[g] = AnchorGroup.CreateForBuild(g, anchors[g]);
            }
        }

        var sketch = WindowSketch.Of(rules);
        var tokenStore = new PagedStore<TokenRecord>(TokenPageBits, (int)tokenCount);
        var leakStore = new PagedStore<LeakRecord>(LeakPageBits, rules.Leaks.Count);
        var idStore = new IdStore();
        var leakMap = new LeakIdMap(rules.Leaks.Count);
        foreach (var leak in rules.Leaks)
        {
            AddLeak(leak, groups, tokenStore, leakStore, idStore, (_, hash) => sketch.Count(hash));
            leakMap.Set(leakStore.Count - 1, idStore, leakStore);
        }
        foreach (var group in groups)
        {
            group?.FinishBuild();
        }

        return new TokenMatcher(
            key, limits, rules.Version, groups, tokenStore, leakStore, idStore, leakMap,
            (int)tokenCount, rules.Leaks.Count, deadTokens: 0, new ScannerPool());
    }

    /// <summary>
    /// The next version: this one with <paramref name="delta"/> applied. Copies only what the delta touches, so
    /// it takes milliseconds whatever the size of the rule set; this version stays valid for scans in progress.
    /// </summary>
    /// <exception cref="RuleSetRejectedException">
    /// The delta is not for this version, names unknown leaks, is malformed, or would exceed the limits. Nothing changed.
    /// </exception>
    public TokenMatcher Apply(RuleSetDelta delta)
    {
        ArgumentNullException.ThrowIfNull(delta);

        var problems = new List<string>();
        if (delta.FromVersion != Version)
        {
            problems.Add($"the delta applies to version {delta.FromVersion}, but the current version is {Version}");
        }
        if (delta.ToVersion <= delta.FromVersion)
        {
            problems.Add($"the delta goes from version {delta.FromVersion} to {delta.ToVersion}; versions only increase");
        }

        var removed = new HashSet<string>(StringComparer.Ordinal);
        var removedTokens = 0;
        foreach (var id in delta.Removed)
        {
            var index = FindLiveLeak(id);
            if (index < 0)
            {
                problems.Add($"cannot remove leak '{id}': it is not in version {Version}");
            }
            else if (!removed.Add(id))
            {
                problems.Add($"leak '{id}' is removed twice");
            }
            else
            {
                removedTokens += LeakStore[index].TokenCount;
            }
        }

        var upserted = new HashSet<string>(StringComparer.Ordinal);
        var anchors = new long[WindowPlan.GroupCount];
        long addedTokens = 0;
        long idBytes = 0;
        var replacedLeaks = 0;
        foreach (var leak in delta.Upserted)
        {
            if (leak is null)
            {
                problems.Add("the delta holds a null leak");
                continue;
            }
            ValidateLeak(leak, Limits, problems);
            if (string.IsNullOrEmpty(leak.Id))
            {
                continue;
            }
            if (!upserted.Add(leak.Id))
            {
                problems.Add($"leak '{leak.Id}' is added twice");
                continue;
            }
            var existing = removed.Contains(leak.Id) ? -1 : FindLiveLeak(leak.Id);
            if (existing >= 0)
            {
                removedTokens += LeakStore[existing].TokenCount;
                replacedLeaks++;
            }
            idBytes += IdCost(leak.Id);
            foreach (var token in leak.Tokens ?? [])
            {
                if (token is null || token.Length < WindowPlan.MinTokenLength)
                {
                    continue;
                }
                addedTokens++;
                idBytes += IdCost(token.Id, token.Preview);
                var group = WindowPlan.GroupOf(token.Length);
                anchors[group] += WindowPlan.StrideOfGroup(group);
            }
        }

        foreach (var change in delta.ActionChanged)
        {
            if (!upserted.Contains(change.LeakId) && (removed.Contains(change.LeakId) || FindLiveLeak(change.LeakId) < 0))
            {
                problems.Add($"cannot change the action of leak '{change.LeakId}': it is not in the rule set after this delta");
            }
        }

        var liveTokens = TokenCount - removedTokens + addedTokens;
        var liveLeaks = LeakCount - removed.Count - replacedLeaks + upserted.Count;
        var storedTokens = TokenStore.Count + addedTokens;
        for (var g = 0; g < anchors.Length; g++)
        {
            anchors[g] += Groups[g]?.Table.Count ?? 0;
        }
        CheckSize(Limits, liveTokens, liveLeaks, storedTokens, LeakStore.Count + upserted.Count, anchors, idBytes + Ids.Bytes, problems);
        if (problems.Count > 0)
        {
            throw new RuleSetRejectedException(problems);
        }

        var tokens = TokenStore.Fork();
        var leaks = LeakStore.Fork();
        var ids = Ids.Fork();
        var leakMap = _leakMap.Clone();
        var groups = new AnchorGroup?[Groups.Length];
        for (var g = 0; g < groups.Length; g++)
        {
            groups[g] = Groups[g]?.Fork();
        }

        var dead = _deadTokens;
        foreach (var id in delta.Removed)
        {
            dead += MarkRemoved(leaks, FindLiveLeak(id));
        }
        foreach (var leak in delta.Upserted)
        {
            if (!removed.Contains(leak.Id))
            {
                var existing = FindLiveLeak(leak.Id);
                if (existing >= 0)
                {
                    dead += MarkRemoved(leaks, existing);
                }
            }
            for (var g = 0; g < groups.Length; g++)
            {
                if (groups[g] is null && leak.Tokens.Any(t => WindowPlan.GroupOf(t.Length) == g))
                {
                    groups[g] = AnchorGroup.Create(g, anchors[g]);
                }
            }
            AddLeak(leak, groups, tokens, leaks, ids, (g, hash) => groups[g]!.Table.CountOf(hash));
            leakMap.Set(leaks.Count - 1, ids, leaks);
        }
        foreach (var change in delta.ActionChanged)
        {
            var index = leakMap.Find(change.LeakId, ids, leaks);
            var record = leaks[index];
            record.Action = change.Action;
            leaks.Set(index, record);
        }

        return new TokenMatcher(
            Key, Limits, delta.ToVersion, groups, tokens, leaks, ids, leakMap,
            (int)liveTokens, liveLeaks, dead, Pool);
    }

    /// <summary>
    /// The same version, rebuilt without removed leaks and with filters sized to what is live. Runs off the hot
    /// path (it takes about as long as a build); <see cref="LiveMatcher"/> calls it in the background.
    /// </summary>
    public TokenMatcher Compact()
    {
        var tokens = new PagedStore<TokenRecord>(TokenPageBits, TokenCount);
        var leaks = new PagedStore<LeakRecord>(LeakPageBits, LeakCount);
        var ids = new IdStore();
        var leakMap = new LeakIdMap(LeakCount);
        var remap = new int[TokenStore.Count];
        Array.Fill(remap, -1);
        var anchors = new long[WindowPlan.GroupCount];

        for (var l = 0; l < LeakStore.Count; l++)
        {
            var leak = LeakStore[l];
            if (leak.Removed)
            {
                continue;
            }
            var newLeak = leaks.Count;
            var first = tokens.Count;
            for (var t = leak.FirstToken; t < leak.FirstToken + leak.TokenCount; t++)
            {
                var record = TokenStore[t];
                record.Leak = newLeak;
                record.IdRef = ids.Add(Ids.Get(record.IdRef), Ids.GetAttached(record.IdRef));
                remap[t] = tokens.Add(record);
                var group = WindowPlan.GroupOf(record.Length);
                anchors[group] += WindowPlan.StrideOfGroup(group);
            }
            leaks.Add(leak with { IdRef = ids.Add(Ids.Get(leak.IdRef)), FirstToken = first });
            leakMap.Set(newLeak, ids, leaks);
        }

        var groups = new AnchorGroup?[Groups.Length];
        for (var g = 0; g < groups.Length; g++)
        {
            if (Groups[g] is { } old && anchors[g] > 0)
            {
                groups[g] = old.Compacted(anchors[g], remap, tokens);
            }
        }

        return new TokenMatcher(
            Key, Limits, Version, groups, tokens, leaks, ids, leakMap,
            TokenCount, LeakCount, deadTokens: 0, Pool);
    }

    private int FindLiveLeak(string id)
    {
        if (string.IsNullOrEmpty(id))
        {
            return -1;
        }
        var index = _leakMap.Find(id, Ids, LeakStore);
        return index >= 0 && !LeakStore[index].Removed ? index : -1;
    }

    private static int MarkRemoved(PagedStore<LeakRecord> leaks, int index)
    {
        var record = leaks[index];
        record.Removed = true;
        leaks.Set(index, record);
        return record.TokenCount;
    }

    private static void AddLeak(
        LeakRule leak,
        AnchorGroup?[] groups,
        PagedStore<TokenRecord> tokens,
        PagedStore<LeakRecord> leaks,
        IdStore ids,
        Func<int, uint, int> anchorCount)
    {
        var leakIndex = leaks.Count;
        var first = tokens.Count;
        foreach (var digest in leak.Tokens)
        {
            var g = WindowPlan.GroupOf(digest.Length);
            var group = groups[g]!;
            var choice = ChooseAnchors(digest.Windows, group.Stride, g, anchorCount);
            var tokenIndex = tokens.Add(new TokenRecord
            {
                Hmac0 = BinaryPrimitives.ReadUInt64LittleEndian(digest.Hmac),
                Hmac1 = BinaryPrimitives.ReadUInt64LittleEndian(digest.Hmac.AsSpan(8)),
                Leak = leakIndex,
                IdRef = ids.Add(digest.Id, digest.Preview),
                Length = (ushort)digest.Length,
                AnchorOffset = (ushort)(digest.SpanStart + choice),
                CheckFirst = (ushort)digest.Windows[choice],
                CheckLast = (ushort)digest.Windows[choice + group.Stride - 1],
            });
            group.AddToken(tokenIndex, digest.Length, digest.Windows.AsSpan(choice, group.Stride));
        }
        leaks.Add(new LeakRecord
        {
            IdRef = ids.Add(leak.Id),
            FirstToken = first,
            TokenCount = leak.Tokens.Count,
            Action = leak.Action,
        });
    }

    /// <summary>
    /// Picks the <paramref name="stride"/> consecutive windows of the span that the fewest other anchors share
    /// (the last such run on a tie), so that no window of the set carries many tokens: a shared window costs a
    /// table walk and possibly an HMAC every time traffic holds it.
    /// </summary>
    internal static int ChooseAnchors(ReadOnlySpan<uint> windows, int stride, int group, Func<int, uint, int> count)
    {
        Debug.Assert(windows.Length >= stride);
        if (windows.Length == stride)
        {
            return 0;
        }

        Span<int> counts = stackalloc int[windows.Length];
        for (var i = 0; i < windows.Length; i++)
        {
            counts[i] = count(group, windows[i]);
        }

        var sum = 0;
        for (var j = 0; j < stride; j++)
        {
            sum += counts[j];
        }
        var best = 0;
        var bestSum = sum;
        for (var start = 1; start + stride <= windows.Length; start++)
        {
            sum += counts[start + stride - 1] - counts[start - 1];
            if (sum <= bestSum)
            {
                best = start;
                bestSum = sum;
            }
        }
        return best;
    }

    private static void ValidateLeak(LeakRule leak, MatcherLimits limits, List<string> problems)
    {
        if (string.IsNullOrEmpty(leak.Id))
        {
            problems.Add("a leak has an empty id");
        }
        else if (Encoding.UTF8.GetByteCount(leak.Id) > TokenDigest.MaxIdBytes)
        {
            problems.Add($"leak id '{leak.Id[..Math.Min(40, leak.Id.Length)]}…' is longer than {TokenDigest.MaxIdBytes} UTF-8 bytes");
        }
        if (leak.Action is not (RuleAction.Block or RuleAction.Monitor))
        {
            problems.Add($"leak '{leak.Id}' has an unknown action {(int)leak.Action}");
        }
        if (leak.Tokens is null || leak.Tokens.Count == 0)
        {
            problems.Add($"leak '{leak.Id}' has no tokens");
            return;
        }
        foreach (var token in leak.Tokens)
        {
            if (token is null)
            {
                problems.Add($"leak '{leak.Id}' holds a null token");
                continue;
            }
            if (token.Validate() is { } problem)
            {
                problems.Add($"leak '{leak.Id}': {problem}");
            }
            else if (token.Length > limits.MaxTokenLength)
            {
                problems.Add($"leak '{leak.Id}': token '{token.Id}' has {token.Length} bytes, over the limit of {limits.MaxTokenLength} (MaxTokenLength)");
            }
        }
    }

    private static void CheckSize(
        MatcherLimits limits,
        long liveTokens,
        long liveLeaks,
        long storedTokens,
        long storedLeaks,
        ReadOnlySpan<long> anchors,
        long idBytes,
        List<string> problems)
    {
        if (liveTokens > limits.MaxTokens)
        {
            problems.Add($"{liveTokens} tokens, over the limit of {limits.MaxTokens} (MaxTokens)");
        }
        if (liveLeaks > limits.MaxLeaks)
        {
            problems.Add($"{liveLeaks} leaks, over the limit of {limits.MaxLeaks} (MaxLeaks)");
        }
        if (storedTokens > AnchorTable.MaxTokenIndex)
        {
            problems.Add($"{storedTokens} stored tokens, over the matcher's hard limit of {AnchorTable.MaxTokenIndex}");
        }

        var bytes = EstimateBytes(storedTokens, storedLeaks, anchors, idBytes);
        if (bytes > limits.MaxMemoryBytes)
        {
            problems.Add($"the matcher would need about {bytes / (1024 * 1024)} MiB, over the limit of {limits.MaxMemoryBytes / (1024 * 1024)} MiB (MaxMemoryBytes)");
        }
    }

    /// <summary>What a build of this size will hold, within a few percent: checked before any allocation.</summary>
    internal static long EstimateBytes(long tokens, long leaks, ReadOnlySpan<long> anchors, long idBytes)
    {
        var bytes = PagedBytes(tokens, TokenPageBits, 32)
            + PagedBytes(leaks, LeakPageBits, 20)
            + PagedBytes(idBytes, IdStore.PageBits, 1)
            + LeakIdMap.BytesFor(leaks);
        foreach (var count in anchors)
        {
            if (count > 0)
            {
                bytes += AnchorFilter.ForAnchorsBytes(count) + AnchorTable.ForAnchorsBytes(count);
            }
        }
        return bytes;
    }

    private static long PagedBytes(long items, int pageBits, int itemBytes) =>
        Math.Max(1, (items + (1L << pageBits) - 1) >> pageBits) * (1L << pageBits) * itemBytes;

    private static long IdCost(string? id, string? attached = null) =>
        (string.IsNullOrEmpty(id) ? 0 : Encoding.UTF8.GetByteCount(id) + 1) + (attached is null ? 1 : Encoding.UTF8.GetByteCount(attached) + 1);

    private sealed class ListSink : IMatchSink
    {
        public List<TokenMatch> Matches { get; } = [];

        public void OnMatch(in TokenMatch match) => Matches.Add(match);
    }
}
