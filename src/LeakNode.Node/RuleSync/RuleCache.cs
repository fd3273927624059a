using System.Text;
using Google.Protobuf;
using LeakNode.Matching;
using LeakNode.Matching.Digests;
using LeakNode.Matching.Rules;
using LeakNode.Node.Storage;
using LeakNode.Protocol;
using LeakNode.Protocol.V1;
using Microsoft.Extensions.Logging;
using LeakRule = LeakNode.Matching.Rules.LeakRule;

namespace LeakNode.Node.RuleSync;

/// <summary>
/// The cloud's rules as this node last acknowledged them, kept in <c>StateDir</c> so that a node restarting
/// without the cloud enforces them at once. Holds digests only, exactly as received: no plaintext token ever
/// reaches a node.
/// </summary>
/// <remarks>
/// <para>Three files:</para>
/// <list type="bullet">
/// <item><c>deployment.key</c>: the 32-byte deployment key (owner-only), whose id <see cref="RuleMapping.KeyId"/> names it.</item>
/// <item><c>rules.snapshot</c>: magic <c>LNRULES1</c>, a header record (key id, snapshot id), then one record per
/// snapshot part (a <see cref="RuleUpdate"/> as the cloud sent it). Replaced whole, atomically.</item>
/// <item><c>rules.deltas</c>: magic <c>LNDELTA1</c>, a header record (the id of the snapshot it continues), then one
/// record per delta (a <see cref="RuleUpdate"/>), appended and flushed to disk before the delta is acked.</item>
/// </list>
/// <para>
/// Why a snapshot plus an append-only log: a virtual patch is a delta of a few dozen bytes, and appending it costs
/// one small write and one flush, whatever the size of the rule set; rewriting a snapshot of 100,000 tokens (8 MB)
/// for every patch would cost tens of milliseconds and wear the disk. The log is folded into a new snapshot now
/// and then (<see cref="CompactionDue"/>), so that start-up never replays a long history. The folding runs in the
/// background (it took 600 ms at 100,000 tokens, and would hold up the next virtual patch by as much); only putting
/// the result in place (<see cref="FinishCompaction"/>: a short log and two renames) happens between two updates.
/// </para>
/// <para>
/// Every record is checksummed (<see cref="StateFiles"/>): a crash during an append leaves a torn last record,
/// which was never acked and is cut off at the next start. A log whose snapshot id is not the snapshot's (a crash
/// between writing a new snapshot from the cloud and starting its log) is ignored whole. A compaction writes the log
/// that continues its snapshot (<c>rules.deltas.next</c>) before it renames the snapshot into place, so that a crash
/// between the two renames finds the right log beside it.
/// </para>
/// </remarks>
internal sealed partial class RuleCache : IDisposable
{
    public const string KeyFileName = "deployment.key";
    public const string SnapshotFileName = "rules.snapshot";
    public const string DeltaFileName = "rules.deltas";

    /// <summary>Deltas after which the log is folded into the snapshot: replaying each costs a few milliseconds at start.</summary>
    private const int CompactAfterDeltas = 256;

    /// <summary>… or log bytes past this, or past a quarter of the snapshot, whichever is larger.</summary>
    private const long CompactAfterBytes = 1 << 20;

    private static ReadOnlySpan<byte> SnapshotMagic => "LNRULES1"u8;

    private static ReadOnlySpan<byte> DeltaMagic => "LNDELTA1"u8;

    private readonly string _folder;
    private readonly ILogger _logger;
    private FileStream? _log;
    private string? _snapshotId;
    private long _snapshotBytes;
    private long _logBytes;
    private int _logDeltas;

    /// <summary>Moves on whenever the cache is replaced (a snapshot from the cloud, a new key): a compaction of an older one is thrown away.</summary>
    private long _generation;
    private Task<Compacted>? _compaction;
    private long _compactionGeneration;

    public RuleCache(string stateDir, ILogger logger)
    {
        _folder = Path.GetFullPath(stateDir);
        _logger = logger;
    }

    private string KeyPath => Path.Combine(_folder, KeyFileName);

    private string SnapshotPath => Path.Combine(_folder, SnapshotFileName);

    private string DeltaPath => Path.Combine(_folder, DeltaFileName);

    private string CompactedPath => SnapshotPath + ".compacted";

    private string NextLogPath => DeltaPath + ".next";

    /// <summary>The compaction under way or finished and not yet put in place, if any (for tests).</summary>
    internal Task? Compaction => _compaction;

    /// <summary>True when the delta log should be folded into the snapshot (<see cref="StartCompaction"/>) and no compaction is under way.</summary>
    public bool CompactionDue =>
        _compaction is null && _log is not null && (_logDeltas >= CompactAfterDeltas || _logBytes > Math.Max(CompactAfterBytes, _snapshotBytes / 4));

    /// <summary>The deployment key kept from the cloud, or null when there is none (first start) or it is unusable.</summary>
    public byte[]? LoadKey()
    {
        if (!File.Exists(KeyPath))
        {
            return null;
        }
        var bytes = File.ReadAllBytes(KeyPath);
        if (bytes.Length != DigestKey.Size)
        {
            Log.CacheUnusable(_logger, KeyPath, $"it holds {bytes.Length} bytes, a deployment key {DigestKey.Size}; the cloud sends the key again");
            return null;
        }
        return bytes;
    }

    /// <summary>
    /// Keeps a new deployment key. Rules made with another key are void, so the cached rules are removed first: a
    /// crash in between leaves no rules rather than rules the key does not fit.
    /// </summary>
    public void SaveKey(ReadOnlySpan<byte> key)
    {
        StateFiles.CreateDirectory(_folder);
        Replacing();
        File.Delete(DeltaPath);
        File.Delete(NextLogPath);
        File.Delete(SnapshotPath);
        _snapshotId = null;
        _snapshotBytes = _logBytes = _logDeltas = 0;
        var bytes = key.ToArray();
        StateFiles.ReplaceAtomically(KeyPath, file => file.Write(bytes));
    }

    /// <summary>
    /// Builds the cached rules made with <paramref name="keyId"/>: the snapshot, then every delta of its log. Null
    /// when there are none or they cannot be used (each reason logged); the cloud then sends a snapshot.
    /// </summary>
    public TokenMatcher? LoadRules(DigestKey key, string keyId, MatcherLimits limits)
    {
        RecoverInterruptedCompaction();
        var state = ReadState(keyId);
        if (state is null)
        {
            return null;
        }
        try
        {
            var matcher = TokenMatcher.Build(key, new RuleSet(state.Version, [.. state.Leaks.Values]), limits);
            foreach (var delta in state.Deltas)
            {
                matcher = matcher.Apply(RuleMapping.ToDelta(delta));
            }
            _snapshotBytes = state.SnapshotBytes;
            OpenLog(state.SnapshotId, state.ValidLogLength, state.Deltas.Count);
            return matcher;
        }
        catch (RuleSetRejectedException error)
        {
            // It was valid when acked: only a different build of the matcher (stricter limits) refuses it now.
            Log.CacheUnusable(_logger, SnapshotPath, string.Join("; ", error.Problems.Take(5)));
            return null;
        }
    }

    /// <summary>Replaces the cache with a snapshot (its parts as received) and starts an empty delta log after it.</summary>
    public void WriteSnapshot(string keyId, IReadOnlyList<RuleUpdate> parts)
    {
        StateFiles.CreateDirectory(_folder);
        Replacing();
        var snapshotId = NewSnapshotId();
        StateFiles.ReplaceAtomically(SnapshotPath, file => _snapshotBytes = WriteSnapshot(file, keyId, snapshotId, parts));
        OpenLog(snapshotId, validLength: null, deltas: 0);
    }

    /// <summary>Appends a delta to the log and flushes it to disk: once this returns, a restart replays it.</summary>
    public void AppendDelta(RuleUpdate delta)
    {
        var log = _log ?? throw new InvalidOperationException("No snapshot to append a delta to.");
        var start = log.Position;
        try
        {
            StateFiles.WriteRecord(log, delta.ToByteArray());
            log.Flush(flushToDisk: true);
        }
        catch (IOException)
        {
            // Leave no half record behind for the next append to follow (the checksum would cut the log there).
            log.SetLength(start);
            throw;
        }
        _logBytes += log.Position - start;
        _logDeltas++;
    }

    /// <summary>Starts folding the deltas logged so far into a new snapshot, in the background.</summary>
    public void StartCompaction(string keyId)
    {
        if (_compaction is not null)
        {
            return;
        }
        var fold = _logDeltas;
        _compactionGeneration = _generation;
        _compaction = Task.Run(() => Compact(keyId, fold));
    }

    /// <summary>
    /// Puts a finished compaction in place; does nothing while it runs. Called by the one writer between updates, so
    /// that no delta is appended meanwhile.
    /// </summary>
    public void FinishCompaction()
    {
        if (_compaction is not { IsCompleted: true } task)
        {
            return;
        }
        _compaction = null;
        var current = _compactionGeneration == _generation;
        try
        {
            if (current && task.IsCompletedSuccessfully)
            {
                Install(task.Result);
                return;
            }
            if (current && task.Exception?.InnerException is { } error)
            {
                Log.CompactionFailed(_logger, error.Message);
            }
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            // The snapshot and log in place are still whole and consistent; the next ack tries again.
            Log.CompactionFailed(_logger, error.Message);
        }
        File.Delete(CompactedPath);
        File.Delete(NextLogPath);
    }

    private sealed record Compacted(string SnapshotId, long Version, long SnapshotBytes, int FoldedDeltas, long Ms);

    /// <summary>Folds the first <paramref name="fold"/> deltas of the log into a new snapshot, written beside the one in place.</summary>
    private Compacted Compact(string keyId, int fold)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var state = ReadState(keyId);
        if (state is null || state.Deltas.Count < fold)
        {
            // The cache was replaced meanwhile (FinishCompaction then drops this), or it is damaged.
            throw new InvalidDataException("the rule cache changed while it was being compacted");
        }
        var leaks = state.Leaks;
        var version = state.Version;
        foreach (var update in state.Deltas.Take(fold))
        {
            var delta = RuleMapping.ToDelta(update);
            foreach (var id in delta.Removed)
            {
                leaks.Remove(id);
            }
            foreach (var leak in delta.Upserted)
            {
                leaks[leak.Id] = leak;
            }
            foreach (var change in delta.ActionChanged)
            {
                leaks[change.LeakId] = leaks[change.LeakId] with { Action = change.Action };
            }
            version = delta.ToVersion;
        }
        var snapshotId = NewSnapshotId();
        long bytes;
        using (var file = new FileStream(CompactedPath, StateFiles.OwnerOnly(FileMode.Create, FileAccess.Write)))
        {
            bytes = WriteSnapshot(file, keyId, snapshotId, [.. RuleMapping.ToSnapshotParts(new RuleSet(version, [.. leaks.Values]))]);
            file.Flush(flushToDisk: true);
        }
        return new Compacted(snapshotId, version, bytes, fold, (long)System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    private void Install(Compacted built)
    {
        // The deltas logged since the compaction started continue the new snapshot: they go to its log, which is on
        // disk before the snapshot is renamed into place.
        var later = ReadDeltas(_snapshotId!, version: null).Deltas.Skip(built.FoldedDeltas).ToList();
        StateFiles.ReplaceAtomically(NextLogPath, file => WriteLog(file, built.SnapshotId, later));
        File.Move(CompactedPath, SnapshotPath, overwrite: true);
        CloseLog();
        File.Move(NextLogPath, DeltaPath, overwrite: true);
        _snapshotBytes = built.SnapshotBytes;
        OpenLog(built.SnapshotId, new FileInfo(DeltaPath).Length, later.Count);
        Log.Compacted(_logger, built.FoldedDeltas, built.Version, built.Ms);
    }

    /// <summary>A crash between a compaction's two renames leaves the new snapshot with its log still named <c>.next</c>.</summary>
    private void RecoverInterruptedCompaction()
    {
        File.Delete(CompactedPath);
        if (!File.Exists(NextLogPath))
        {
            return;
        }
        var snapshotId = ReadHeader(SnapshotPath, SnapshotMagic)?.Split('\n') is [_, var id] ? id : null;
        if (snapshotId is not null && ReadHeader(NextLogPath, DeltaMagic) == snapshotId)
        {
            File.Move(NextLogPath, DeltaPath, overwrite: true);
        }
        else
        {
            File.Delete(NextLogPath);
        }
    }

    /// <summary>Abandons any compaction and closes the log: the cache is about to be replaced.</summary>
    private void Replacing()
    {
        _generation++;
        CloseLog();
    }

    private static string NewSnapshotId() => Guid.NewGuid().ToString("N");

    private static long WriteSnapshot(FileStream file, string keyId, string snapshotId, IReadOnlyList<RuleUpdate> parts)
    {
        file.Write(SnapshotMagic);
        StateFiles.WriteRecord(file, Encoding.UTF8.GetBytes($"{keyId}\n{snapshotId}"));
        foreach (var part in parts)
        {
            StateFiles.WriteRecord(file, part.ToByteArray());
        }
        return file.Length;
    }

    private static void WriteLog(FileStream file, string snapshotId, IEnumerable<RuleUpdate> deltas)
    {
        file.Write(DeltaMagic);
        StateFiles.WriteRecord(file, Encoding.UTF8.GetBytes(snapshotId));
        foreach (var delta in deltas)
        {
            StateFiles.WriteRecord(file, delta.ToByteArray());
        }
    }

    /// <param name="SnapshotBytes">The snapshot file's size, which sets how large its log may grow.</param>
    /// <param name="ValidLogLength">The length of the log's whole part, or null when the log does not continue this snapshot.</param>
    private sealed record CachedState(
        string SnapshotId, long Version, Dictionary<string, LeakRule> Leaks, List<RuleUpdate> Deltas, long? ValidLogLength, long SnapshotBytes);

    /// <summary>Reads the snapshot made with <paramref name="keyId"/> and the deltas that continue it. Reads only: safe beside the writer.</summary>
    private CachedState? ReadState(string keyId)
    {
        if (!File.Exists(SnapshotPath))
        {
            return null;
        }
        string snapshotId;
        long version = 0;
        long bytes;
        var leaks = new Dictionary<string, LeakRule>(StringComparer.Ordinal);
        try
        {
            using var file = new FileStream(SnapshotPath, StateFiles.OwnerOnly(FileMode.Open, FileAccess.Read));
            var header = StateFiles.ReadMagic(file, SnapshotMagic) ? StateFiles.ReadRecord(file, out _) : null;
            var fields = header is null ? Array.Empty<string>() : Encoding.UTF8.GetString(header).Split('\n');
            if (fields.Length != 2)
            {
                Log.CacheUnusable(_logger, SnapshotPath, "not a rule cache of this node version");
                return null;
            }
            if (fields[0] != keyId)
            {
                Log.CacheUnusable(_logger, SnapshotPath, $"made with deployment key {fields[0]}, not {keyId}");
                return null;
            }
            snapshotId = fields[1];
            byte[]? record;
            bool torn;
            while ((record = StateFiles.ReadRecord(file, out torn)) is not null)
            {
                var part = RuleUpdate.Parser.ParseFrom(record);
                version = part.Version;
                foreach (var leak in part.Upserted)
                {
                    leaks[leak.Id] = RuleMapping.FromWire(leak);
                }
            }
            if (torn)
            {
                // The snapshot is replaced whole, so a torn one is damage, not a crash: none of it is trusted.
                Log.CacheUnusable(_logger, SnapshotPath, "damaged (a record fails its checksum)");
                return null;
            }
            bytes = file.Length;
        }
        catch (Exception error) when (error is IOException or InvalidProtocolBufferException or UnauthorizedAccessException)
        {
            Log.CacheUnusable(_logger, SnapshotPath, error.Message);
            return null;
        }

        var (deltas, validLength) = ReadDeltas(snapshotId, version);
        return new CachedState(snapshotId, version, leaks, deltas, validLength, bytes);
    }

    /// <summary>
    /// The deltas of the log that continue snapshot <paramref name="snapshotId"/>, in order, and the length of the
    /// log's whole part (null: the log does not continue it). With a <paramref name="version"/>, the version line is
    /// checked from there and the log cut at a break.
    /// </summary>
    private (List<RuleUpdate> Deltas, long? ValidLength) ReadDeltas(string snapshotId, long? version)
    {
        var deltas = new List<RuleUpdate>();
        if (!File.Exists(DeltaPath))
        {
            return (deltas, null);
        }
        try
        {
            using var file = new FileStream(DeltaPath, StateFiles.OwnerOnly(FileMode.Open, FileAccess.Read));
            var header = StateFiles.ReadMagic(file, DeltaMagic) ? StateFiles.ReadRecord(file, out _) : null;
            if (header is null || Encoding.UTF8.GetString(header) != snapshotId)
            {
                return (deltas, null);
            }
            var valid = file.Position;
            while (StateFiles.ReadRecord(file, out _) is { } record)
            {
                var delta = RuleUpdate.Parser.ParseFrom(record);
                if (version is { } expected && delta.FromVersion != expected)
                {
                    Log.CacheUnusable(_logger, DeltaPath, $"a delta from version {delta.FromVersion} follows version {expected}; the rest of the log is dropped");
                    break;
                }
                deltas.Add(delta);
                version = version is null ? null : delta.Version;
                valid = file.Position;
            }
            return (deltas, valid);
        }
        catch (Exception error) when (error is IOException or InvalidProtocolBufferException or UnauthorizedAccessException)
        {
            Log.CacheUnusable(_logger, DeltaPath, error.Message);
            return (deltas, null);
        }
    }

    private static string? ReadHeader(string path, ReadOnlySpan<byte> magic)
    {
        try
        {
            using var file = new FileStream(path, StateFiles.OwnerOnly(FileMode.Open, FileAccess.Read));
            return StateFiles.ReadMagic(file, magic) && StateFiles.ReadRecord(file, out _) is { } header ? Encoding.UTF8.GetString(header) : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Opens the log for appends: a new one when <paramref name="validLength"/> is null, else the one in place cut to its whole part.</summary>
    private void OpenLog(string snapshotId, long? validLength, int deltas)
    {
        CloseLog();
        if (validLength is null)
        {
            StateFiles.ReplaceAtomically(DeltaPath, file => WriteLog(file, snapshotId, []));
        }
        // Buffer size 0: each append goes to the file as one write, and Flush(true) makes it durable.
        _log = new FileStream(DeltaPath, StateFiles.OwnerOnly(FileMode.Open, FileAccess.Write, bufferSize: 0));
        if (validLength is { } length)
        {
            // Cut off a torn last record (never acked) and anything after a break in the version line.
            _log.SetLength(length);
        }
        _log.Seek(0, SeekOrigin.End);
        _snapshotId = snapshotId;
        _logBytes = _log.Length;
        _logDeltas = deltas;
    }

    private void CloseLog()
    {
        _log?.Dispose();
        _log = null;
    }

    public void Dispose()
    {
        _generation++;
        CloseLog();
        try
        {
            // A compaction still writing would race with the next start's clean-up; it is abandoned, not installed.
            _compaction?.Wait(TimeSpan.FromSeconds(30));
        }
        catch (AggregateException)
        {
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Diagnostics.EventIds.RuleCacheUnusable, LogLevel.Warning, "The rule cache {Path} is not used: {Reason}")]
        public static partial void CacheUnusable(ILogger logger, string path, string reason);

        [LoggerMessage(Diagnostics.EventIds.RuleCacheCompacted, LogLevel.Information, "Rule cache compacted: {Deltas} deltas folded into a snapshot of version {Version} in {Ms} ms (in the background)")]
        public static partial void Compacted(ILogger logger, int deltas, long version, long ms);

        [LoggerMessage(Diagnostics.EventIds.RuleCacheCompactionFailed, LogLevel.Warning, "Rule cache compaction failed; the snapshot and log in place stay and keep working: {Error}")]
        public static partial void CompactionFailed(ILogger logger, string error);
    }
}
