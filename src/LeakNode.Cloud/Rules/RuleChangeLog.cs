using System.Data.Common;
using Dapper;
using LeakNode.Matching.Rules;

namespace LeakNode.Cloud.Rules;

/// <summary>
/// The global rule version and its change log. Every change to what nodes watch takes the next version and
/// records, for the one leak it touched, what nodes did with it before and after; <see cref="RuleFeed"/> folds
/// these records into deltas.
/// </summary>
internal static class RuleChangeLog
{
    /// <summary>
    /// Takes the next rule version. Call it first in the transaction: on PostgreSQL the update locks the version
    /// row, which serialises every rule-changing transaction (so checks made after it, such as "is this token in
    /// another open leak", see every change committed before).
    /// </summary>
    public static Task<long> NextVersionAsync(DbConnection connection, DbTransaction transaction) =>
        connection.ExecuteScalarAsync<long>("UPDATE rule_state SET version = version + 1 WHERE id = 1 RETURNING version", transaction: transaction);

    /// <summary>Records what the change at <paramref name="version"/> did, and drops entries older than <paramref name="keep"/> versions.</summary>
    public static async Task RecordAsync(
        DbConnection connection, DbTransaction transaction, long version, string leakId, WatchState before, WatchState after, bool tokensChanged, long now, int keep)
    {
        await connection.ExecuteAsync(
            """
            INSERT INTO rule_changes (version, leak_id, watched_before, action_before, watched_after, action_after, tokens_changed, changed_at)
            VALUES (@version, @leakId, @watchedBefore, @actionBefore, @watchedAfter, @actionAfter, @tokensChanged, @now)
            """,
            new
            {
                version,
                leakId,
                watchedBefore = before.Watched ? 1 : 0,
                actionBefore = (int)before.Action,
                watchedAfter = after.Watched ? 1 : 0,
                actionAfter = (int)after.Action,
                tokensChanged = tokensChanged ? 1 : 0,
                now,
            },
            transaction);

        // Pruning every version would cost a delete per change; every min(keep, 1000) versions costs nothing noticeable.
        if (version % Math.Min(keep, 1000) == 0)
        {
            await connection.ExecuteAsync("DELETE FROM rule_changes WHERE version <= @floor", new { floor = version - keep }, transaction);
        }
    }
}

/// <summary>What nodes do with a leak at one version: watch it or not, and block or only report its tokens.</summary>
internal readonly record struct WatchState(bool Watched, RuleAction Action)
{
    public static WatchState Of(string status, string remediation) =>
        new(status == Leaks.LeakStatuses.Open, remediation == Leaks.Remediations.Vpatch ? RuleAction.Block : RuleAction.Monitor);
}
