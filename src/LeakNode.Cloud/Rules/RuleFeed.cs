using System.Data.Common;
using Dapper;
using LeakNode.Cloud.Leaks;
using LeakNode.Cloud.Storage;
using LeakNode.Cloud.Sync;
using LeakNode.Matching.Digests;
using LeakNode.Matching.Rules;

namespace LeakNode.Cloud.Rules;

/// <summary>
/// The rule versions nodes follow, read from the leaks and the change log. Nodes watch every <c>open</c> leak:
/// Block when its virtual patch is applied, Monitor otherwise.
/// </summary>
internal sealed class RuleFeed(CloudDatabase database, IRuleVersionSignal signal) : IRuleFeed
{
    /// <summary>Ids a query names at once: far below SQLite's 32,766 and PostgreSQL's 65,535 parameters.</summary>
    private const int Chunk = 500;

    public Task<long> CurrentVersionAsync(CancellationToken cancellationToken) =>
        database.ReadAsync((connection, transaction) => CurrentAsync(connection, transaction), cancellationToken);

    public Task<RuleSet> SnapshotAsync(CancellationToken cancellationToken) =>
        database.ReadAsync(async (connection, transaction) =>
        {
            var version = await CurrentAsync(connection, transaction);
            var leaks = (await connection.QueryAsync<(string Id, string Remediation)>(
                "SELECT id, remediation FROM leaks WHERE status = @Open ORDER BY id", new { LeakStatuses.Open }, transaction)).ToList();
            var tokens = await connection.QueryAsync<TokenDigestRow>(
                """
                SELECT t.leak_id, t.id, t.token_length, t.span_start, t.windows, t.hmac, t.preview
                FROM leak_tokens t JOIN leaks l ON l.id = t.leak_id
                WHERE l.status = @Open
                ORDER BY t.leak_id, t.ordinal
                """, new { LeakStatuses.Open }, transaction);
            var byLeak = Group(tokens);
            var rules = leaks.Select(l => new LeakRule(l.Id, WatchState.Of(LeakStatuses.Open, l.Remediation).Action, byLeak.GetValueOrDefault(l.Id) ?? [])).ToList();
            return new RuleSet(version, rules);
        }, cancellationToken);

    /// <summary>
    /// Folds the change log after <paramref name="fromVersion"/> into one delta. For each leak touched since then, the
    /// first entry says what nodes did with it at <paramref name="fromVersion"/> and the leak's row says what they
    /// do now: watched then and not now is a removal; watched now and not then, or with tokens changed, an upsert
    /// (whole leak); watched at both with another action, an action change. A leak that left and came back with
    /// the same tokens and action is no change at all.
    /// </summary>
    public Task<RuleSetDelta?> DeltaAsync(long fromVersion, CancellationToken cancellationToken) =>
        database.ReadAsync<RuleSetDelta?>(async (connection, transaction) =>
        {
            var current = await CurrentAsync(connection, transaction);
            if (fromVersion < 0 || fromVersion > current)
            {
                return null;
            }
            if (fromVersion == current)
            {
                return new RuleSetDelta(fromVersion, current, [], [], []);
            }
            var oldest = await connection.ExecuteScalarAsync<long?>("SELECT MIN(version) FROM rule_changes", transaction: transaction);
            if (oldest is null || fromVersion < oldest.Value - 1)
            {
                // The entries after fromVersion were pruned: only a snapshot can bring that node up to date.
                return null;
            }

            var changes = await connection.QueryAsync<ChangeRow>(
                "SELECT leak_id, watched_before, action_before, tokens_changed FROM rule_changes WHERE version > @fromVersion ORDER BY version",
                new { fromVersion }, transaction);
            var touched = new Dictionary<string, (WatchState Before, bool TokensChanged)>(StringComparer.Ordinal);
            foreach (var change in changes)
            {
                if (touched.TryGetValue(change.LeakId, out var seen))
                {
                    touched[change.LeakId] = (seen.Before, seen.TokensChanged || change.TokensChanged != 0);
                }
                else
                {
                    touched[change.LeakId] = (new WatchState(change.WatchedBefore != 0, (RuleAction)change.ActionBefore), change.TokensChanged != 0);
                }
            }

            var now = new Dictionary<string, WatchState>(StringComparer.Ordinal);
            foreach (var chunk in touched.Keys.Chunk(Chunk))
            {
                var (ids, parameters) = SqlList.In("id", chunk);
                foreach (var (id, status, remediation) in await connection.QueryAsync<(string, string, string)>(
                    "SELECT id, status, remediation FROM leaks WHERE id IN " + ids, parameters, transaction))
                {
                    now[id] = WatchState.Of(status, remediation);
                }
            }

            var removed = new List<string>();
            var upsert = new List<(string Id, RuleAction Action)>();
            var actionChanged = new List<LeakActionChange>();
            foreach (var (id, (before, tokensChanged)) in touched.OrderBy(t => t.Key, StringComparer.Ordinal))
            {
                var after = now.GetValueOrDefault(id);
                if (before.Watched && !after.Watched)
                {
                    removed.Add(id);
                }
                else if (after.Watched && (!before.Watched || tokensChanged))
                {
                    upsert.Add((id, after.Action));
                }
                else if (after.Watched && before.Action != after.Action)
                {
                    actionChanged.Add(new LeakActionChange(id, after.Action));
                }
            }

            var tokens = new Dictionary<string, List<TokenDigest>>(StringComparer.Ordinal);
            foreach (var chunk in upsert.Select(u => u.Id).Chunk(Chunk))
            {
                var (ids, parameters) = SqlList.In("id", chunk);
                var rows = await connection.QueryAsync<TokenDigestRow>(
                    $"""
                    SELECT leak_id, id, token_length, span_start, windows, hmac, preview
                    FROM leak_tokens WHERE leak_id IN {ids} ORDER BY leak_id, ordinal
                    """, parameters, transaction);
                foreach (var (id, digests) in Group(rows))
                {
                    tokens[id] = digests;
                }
            }
            var upserted = upsert.Select(u => new LeakRule(u.Id, u.Action, tokens.GetValueOrDefault(u.Id) ?? [])).ToList();
            return new RuleSetDelta(fromVersion, current, upserted, removed, actionChanged);
        }, cancellationToken);

    public async Task WaitForVersionAsync(long afterVersion, CancellationToken cancellationToken) =>
        await signal.WaitAsync(afterVersion, cancellationToken);

    public static Task<long> CurrentAsync(DbConnection connection, DbTransaction transaction) =>
        connection.ExecuteScalarAsync<long>("SELECT version FROM rule_state WHERE id = 1", transaction: transaction);

    private static Dictionary<string, List<TokenDigest>> Group(IEnumerable<TokenDigestRow> rows)
    {
        var byLeak = new Dictionary<string, List<TokenDigest>>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            if (!byLeak.TryGetValue(row.LeakId, out var list))
            {
                byLeak[row.LeakId] = list = [];
            }
            list.Add(DigestColumns.Digest(row.Id, row.TokenLength, row.SpanStart, row.Windows, row.Hmac, row.Preview));
        }
        return byLeak;
    }

    private sealed class ChangeRow
    {
        public string LeakId { get; set; } = "";

        public long WatchedBefore { get; set; }

        public long ActionBefore { get; set; }

        public long TokensChanged { get; set; }
    }

    private sealed class TokenDigestRow
    {
        public string LeakId { get; set; } = "";

        public string Id { get; set; } = "";

        public long TokenLength { get; set; }

        public long SpanStart { get; set; }

        public string Windows { get; set; } = "";

        public string Hmac { get; set; } = "";

        public string? Preview { get; set; }
    }
}
