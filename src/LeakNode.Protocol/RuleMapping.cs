using Google.Protobuf;
using LeakNode.Protocol.V1;
using LeakRule = LeakNode.Matching.Rules.LeakRule;
using LeakActionChange = LeakNode.Matching.Rules.LeakActionChange;
using RuleSet = LeakNode.Matching.Rules.RuleSet;
using RuleSetDelta = LeakNode.Matching.Rules.RuleSetDelta;
using TokenDigest = LeakNode.Matching.Digests.TokenDigest;
using MatchingRuleAction = LeakNode.Matching.Rules.RuleAction;
using ProtoRuleAction = LeakNode.Protocol.V1.RuleAction;

namespace LeakNode.Protocol;

/// <summary>
/// Maps the matcher's rule types to and from their wire form. Both directions carry digests only: the wire has
/// no field a plaintext token could travel in.
/// </summary>
public static class RuleMapping
{
    public static LeakRule FromWire(V1.LeakRule leak)
    {
        ArgumentNullException.ThrowIfNull(leak);
        var tokens = new TokenDigest[leak.Tokens.Count];
        for (var i = 0; i < tokens.Length; i++)
        {
            tokens[i] = FromWire(leak.Tokens[i]);
        }
        return new LeakRule(leak.Id, FromWire(leak.Action), tokens);
    }

    public static TokenDigest FromWire(V1.TokenDigest token)
    {
        ArgumentNullException.ThrowIfNull(token);
        var windows = new uint[token.Windows.Count];
        token.Windows.CopyTo(windows, 0);
        return new TokenDigest(
            token.Id, token.Length, token.SpanStart, windows, token.Hmac.ToByteArray(),
            string.IsNullOrEmpty(token.Preview) ? null : token.Preview);
    }

    public static MatchingRuleAction FromWire(ProtoRuleAction action) => action switch
    {
        ProtoRuleAction.Block => MatchingRuleAction.Block,
        _ => MatchingRuleAction.Monitor,
    };

    public static V1.LeakRule ToWire(LeakRule leak)
    {
        ArgumentNullException.ThrowIfNull(leak);
        var wire = new V1.LeakRule { Id = leak.Id, Action = ToWire(leak.Action) };
        foreach (var token in leak.Tokens)
        {
            wire.Tokens.Add(ToWire(token));
        }
        return wire;
    }

    public static V1.TokenDigest ToWire(TokenDigest token)
    {
        ArgumentNullException.ThrowIfNull(token);
        var wire = new V1.TokenDigest
        {
            Id = token.Id,
            Length = token.Length,
            SpanStart = token.SpanStart,
            Hmac = ByteString.CopyFrom(token.Hmac),
            Preview = token.Preview ?? string.Empty,
        };
        wire.Windows.Add(token.Windows);
        return wire;
    }

    public static ProtoRuleAction ToWire(MatchingRuleAction action) =>
        action == MatchingRuleAction.Block ? ProtoRuleAction.Block : ProtoRuleAction.Monitor;

    /// <summary>A delta update's matcher form. Throws <see cref="ArgumentException"/> for a snapshot.</summary>
    public static RuleSetDelta ToDelta(RuleUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);
        if (update.Snapshot)
        {
            throw new ArgumentException("A snapshot is not a delta.", nameof(update));
        }
        return new RuleSetDelta(
            update.FromVersion,
            update.Version,
            [.. update.Upserted.Select(FromWire)],
            [.. update.Removed],
            [.. update.ActionChanged.Select(c => new LeakActionChange(c.LeakId, FromWire(c.Action)))]);
    }

    /// <summary>A delta in wire form.</summary>
    public static RuleUpdate ToWire(RuleSetDelta delta)
    {
        ArgumentNullException.ThrowIfNull(delta);
        var update = new RuleUpdate { Version = delta.ToVersion, FromVersion = delta.FromVersion, Last = true };
        update.Upserted.Add(delta.Upserted.Select(ToWire));
        update.Removed.Add(delta.Removed);
        update.ActionChanged.Add(delta.ActionChanged.Select(c => new ActionChange { LeakId = c.LeakId, Action = ToWire(c.Action) }));
        return update;
    }

    /// <summary>
    /// Splits a rule set into snapshot parts of at most <paramref name="maxTokensPerPart"/> tokens each (a leak is
    /// never split), so that no message exceeds the gRPC message limit. An empty rule set is one empty part.
    /// </summary>
    public static IEnumerable<RuleUpdate> ToSnapshotParts(RuleSet rules, int maxTokensPerPart = SnapshotTokensPerPart)
    {
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTokensPerPart, 1);
        var part = new RuleUpdate { Version = rules.Version, Snapshot = true, Part = 0 };
        var tokens = 0;
        foreach (var leak in rules.Leaks)
        {
            if (tokens > 0 && tokens + leak.Tokens.Count > maxTokensPerPart)
            {
                yield return part;
                part = new RuleUpdate { Version = rules.Version, Snapshot = true, Part = part.Part + 1 };
                tokens = 0;
            }
            part.Upserted.Add(ToWire(leak));
            tokens += leak.Tokens.Count;
        }
        part.Last = true;
        yield return part;
    }

    /// <summary>
    /// Tokens in one snapshot part. A token is about 80 bytes on the wire (a short id, 4–8 window hashes, the
    /// 16-byte HMAC, a preview) and at most about 360 (a 255-byte id, a 64-byte preview), so 10,000 tokens stay
    /// under gRPC's default 4 MB message limit even with the longest ids.
    /// </summary>
    public const int SnapshotTokensPerPart = 10_000;

    /// <summary>The public id of a deployment key: the first 8 bytes of SHA-256 over a fixed label and the key, in hex.</summary>
    public static string KeyId(ReadOnlySpan<byte> key)
    {
        Span<byte> hash = stackalloc byte[32];
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        sha.AppendData("leaknode/v1/key-id"u8);
        sha.AppendData(key);
        sha.GetHashAndReset(hash);
        return Convert.ToHexStringLower(hash[..8]);
    }
}
