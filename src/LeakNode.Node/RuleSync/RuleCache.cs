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
/// and then (<see cref="CompactionDue"/>), after the ack, so that start-up never replays a long history.
/// </para>
/// <para>
/// Every record is checksummed (<see cref="StateFiles"/>): a crash during an append leaves a torn last record,
/// which was never acked and is cut off at the next start. A log whose snapshot id is not the snapshot's (a crash
/// between writing a new snapshot and starting its log) is ignored whole.
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
    private long _snapshotBytes;
    private long _logBytes;
    private int _logDeltas;

    public RuleCache(string stateDir, ILogger logger)
    {
        _folder = Path.GetFullPath(stateDir);
        _logger = logger;
    }

    private string KeyPath => Path.Combine(_folder, KeyFileName);

    private string SnapshotPath => Path.Combine(_folder, SnapshotFileName);

    private string DeltaPath => Path.Combine(_folder, DeltaFileName);

    /// <summary>True when the delta log should be folded into the snapshot (<see cref="Compact"/>).</summary>
    public bool CompactionDue => _logDeltas >= CompactAfterDeltas || _logBytes > Math.Max(CompactAfterBytes, _snapshotBytes / 4);

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
        CloseLog();
        File.Delete(DeltaPath);
        File.Delete(SnapshotPath);
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
            OpenLog(state.SnapshotId, state.ValidLogLength);
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
        CloseLog();
        var snapshotId = Guid.NewGuid().ToString("N");
        StateFiles.ReplaceAtomically(SnapshotPath, file =>
        {
            file.Write(SnapshotMagic);
            StateFiles.WriteRecord(file, Encoding.UTF8.GetBytes($"{keyId}\n{snapshotId}"));
            foreach (var part in parts)
            {
                StateFiles.WriteRecord(file, part.ToByteArray());
            }
            _snapshotBytes = file.Length;
        });
        OpenLog(snapshotId, validLength: null);
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

    /// <summary>Folds the delta log into a new snapshot of the same version.</summary>
    public void Compact(string keyId)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var state = ReadState(keyId) ?? throw new InvalidDataException("The rule cache cannot be read back for compaction.");
        var leaks = state.Leaks;
        var version = state.Version;
        foreach (var update in state.Deltas)
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
        var deltas = state.Deltas.Count;
        WriteSnapshot(keyId, [.. RuleMapping.ToSnapshotParts(new RuleSet(version, [.. leaks.Values]))]);
        Log.Compacted(_logger, deltas, version, (long)System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    private sealed record CachedState(string SnapshotId, long Version, Dictionary<string, LeakRule> Leaks, List<RuleUpdate> Deltas, long? ValidLogLength);

    private CachedState? ReadState(string keyId)
    {
        if (!File.Exists(SnapshotPath))
        {
            return null;
        }
        string snapshotId;
        long version = 0;
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
            _snapshotBytes = file.Length;
        }
        catch (Exception error) when (error is IOException or InvalidProtocolBufferException or UnauthorizedAccessException)
        {
            Log.CacheUnusable(_logger, SnapshotPath, error.Message);
            return null;
        }

        var (deltas, validLength) = ReadDeltas(snapshotId, version);
        return new CachedState(snapshotId, version, leaks, deltas, validLength);
    }

    /// <summary>The deltas that continue the snapshot, in order, and the length of the log's whole part (null: start a new log).</summary>
    private (List<RuleUpdate> Deltas, long? ValidLength) ReadDeltas(string snapshotId, long version)
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
            _logBytes = 0;
            while (StateFiles.ReadRecord(file, out _) is { } record)
            {
                var delta = RuleUpdate.Parser.ParseFrom(record);
                if (delta.FromVersion != version)
                {
                    Log.CacheUnusable(_logger, DeltaPath, $"a delta from version {delta.FromVersion} follows version {version}; the rest of the log is dropped");
                    break;
                }
                deltas.Add(delta);
                version = delta.Version;
                valid = file.Position;
            }
            _logBytes = valid;
            _logDeltas = deltas.Count;
            return (deltas, valid);
        }
        catch (Exception error) when (error is IOException or InvalidProtocolBufferException or UnauthorizedAccessException)
        {
            Log.CacheUnusable(_logger, DeltaPath, error.Message);
            return (deltas, null);
        }
    }

    private void OpenLog(string snapshotId, long? validLength)
    {
        CloseLog();
        if (validLength is null)
        {
            StateFiles.ReplaceAtomically(DeltaPath, file =>
            {
                file.Write(DeltaMagic);
                StateFiles.WriteRecord(file, Encoding.UTF8.GetBytes(snapshotId));
            });
            _logBytes = _logDeltas = 0;
        }
        // Buffer size 0: each append goes to the file as one write, and Flush(true) makes it durable.
        _log = new FileStream(DeltaPath, StateFiles.OwnerOnly(FileMode.Open, FileAccess.Write, bufferSize: 0));
        if (validLength is { } length)
        {
            // Cut off a torn last record (never acked) and anything after a break in the version line.
            _log.SetLength(length);
        }
        _log.Seek(0, SeekOrigin.End);
    }

    private void CloseLog()
    {
        _log?.Dispose();
        _log = null;
    }

    public void Dispose() => CloseLog();

    private static partial class Log
    {
        [LoggerMessage(Diagnostics.EventIds.RuleCacheUnusable, LogLevel.Warning, "The rule cache {Path} is not used: {Reason}")]
        public static partial void CacheUnusable(ILogger logger, string path, string reason);

        [LoggerMessage(Diagnostics.EventIds.RuleCacheCompacted, LogLevel.Information, "Rule cache compacted: {Deltas} deltas folded into a snapshot of version {Version} in {Ms} ms")]
        public static partial void Compacted(ILogger logger, int deltas, long version, long ms);
    }
}
