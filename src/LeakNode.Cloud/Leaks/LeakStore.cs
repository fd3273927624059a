using System.Data.Common;
using System.Text;
using Dapper;
using LeakNode.Cloud.Configuration;
using LeakNode.Cloud.Notifications;
using LeakNode.Cloud.Rules;
using LeakNode.Cloud.Security;
using LeakNode.Cloud.Storage;
using LeakNode.Cloud.Sync;
using LeakNode.Matching.Digests;
using Microsoft.Extensions.Logging;

namespace LeakNode.Cloud.Leaks;

/// <summary>A leak request that validation accepted: trimmed, tokens deduplicated, defaults filled in.</summary>
internal sealed record NewLeak(string Name, string Description, int Risk, IReadOnlyList<string> Tokens, string SourceKind, string? SourceUrl, string? SourceLocation)
{
    /// <summary>The factors a scan computed <see cref="Risk"/> from; null when a person chose it.</summary>
    public IReadOnlyList<string>? RiskReasons { get; init; }

    /// <summary>Who made the leak, in its history's first entry: <c>create</c> by default, <c>detected</c> for a scan.</summary>
    public string HistoryAction { get; init; } = "create";

    /// <summary>The first history entry's comment: for a scan, where the tokens were found.</summary>
    public string? HistoryComment { get; init; }
}

/// <summary>The leak that holds a token: open leaks rank first, then the newest.</summary>
internal sealed record KnownToken(string LeakId, string Status, long CreatedAt)
{
    public bool IsBetterThan(KnownToken other) =>
        (Status == LeakStatuses.Open) != (other.Status == LeakStatuses.Open) ? Status == LeakStatuses.Open : CreatedAt > other.CreatedAt;
}

/// <summary>Where a scan found a leak's token again, and the risk it computed for it.</summary>
internal sealed record LeakSighting(string Kind, string? Url, string? Location, int Risk, IReadOnlyList<string> RiskReasons)
{
    /// <summary>
    /// The file part of <see cref="Location"/> (<c>config/.env:</c>): a place already known in the same file (an
    /// earlier version of it, another line) counts as known. Null compares whole locations.
    /// </summary>
    public string? File { get; init; }
}

/// <summary>Fields a PATCH changes; null leaves a field as it is.</summary>
internal sealed record LeakEdit(string? Name, string? Description, int? Risk);

/// <summary>
/// A change the cloud refused: the leak is unknown (<see cref="NotFound"/>), or the change conflicts with its state
/// or with another open leak (<see cref="Conflicts"/>). Thrown inside the transaction, so that nothing of the change,
/// not even its rule version, is kept.
/// </summary>
public sealed class LeakRefusedException : Exception
{
    public LeakRefusedException()
        : this("the change was refused")
    {
    }

    public LeakRefusedException(string message)
        : this(message, innerException: null)
    {
    }

    public LeakRefusedException(string message, Exception? innerException)
        : base(message, innerException)
    {
        Conflicts = [];
    }

    internal LeakRefusedException(bool notFound, string detail, IReadOnlyList<ConflictingLeak>? conflicts = null)
        : base(detail)
    {
        NotFound = notFound;
        Conflicts = conflicts ?? [];
    }

    public bool NotFound { get; }

    public IReadOnlyList<ConflictingLeak> Conflicts { get; }
}

/// <summary>An open leak that already holds one of the tokens given (named by id and name, never by the token).</summary>
public sealed record ConflictingLeak(string Id, string Name, IReadOnlyList<string> Fingerprints);

/// <summary>
/// Leaks, their tokens, sources and history, and every change to them. A change that alters what nodes watch
/// takes the next rule version in the same transaction, and the version is announced once it has committed. The
/// notifications a change causes are stored in its transaction too (<see cref="NotificationOutbox"/>).
/// </summary>
internal sealed partial class LeakStore(
    CloudDatabase database, SecretBox box, IDeploymentKeyring keyring, IRuleVersionSignal signal, CloudConfiguration configuration,
    NotificationOutbox outbox, TimeProvider clock, ILogger<LeakStore> logger)
{
    private const int Chunk = 500;

    public async Task<LeakView> CreateAsync(NewLeak leak, string actor, CancellationToken cancellationToken)
    {
        // Digesting and sealing happen before the transaction: they are the slow part, and need no lock.
        var leakId = Ids.New("lk_");
        var now = Ids.Now(clock);
        var tokens = Prepare(leakId, leak.Tokens, now);
        var fingerprints = tokens.Select(t => t.Fingerprint).ToList();

        var version = await database.WriteAsync(async (connection, transaction) =>
        {
            var next = await RuleChangeLog.NextVersionAsync(connection, transaction);
            await RefuseTokensInOpenLeaksAsync(connection, transaction, leakId, fingerprints);
            await connection.ExecuteAsync(
                """
                INSERT INTO leaks (id, name, name_lower, description, description_lower, risk, status, status_rank, remediation, token_count, created_at, updated_at,
                    risk_reasons, risk_by_user)
                VALUES (@leakId, @Name, @nameLower, @Description, @descriptionLower, @Risk, @status, @rank, @remediation, @count, @now, @now, @reasons, 0)
                """,
                new
                {
                    leakId, leak.Name, nameLower = leak.Name.ToLowerInvariant(), leak.Description, descriptionLower = leak.Description.ToLowerInvariant(),
                    leak.Risk, status = LeakStatuses.Open, rank = LeakStatuses.Rank(LeakStatuses.Open), remediation = Remediations.None,
                    count = leak.Tokens.Count, now, reasons = JoinReasons(leak.RiskReasons),
                }, transaction);
            await InsertTokensAsync(connection, transaction, tokens, firstOrdinal: 0);
            await connection.ExecuteAsync(
                "INSERT INTO leak_sources (id, leak_id, kind, url, location, first_seen) VALUES (@id, @leakId, @SourceKind, @SourceUrl, @SourceLocation, @now)",
                new { id = Ids.New("src_"), leakId, leak.SourceKind, leak.SourceUrl, leak.SourceLocation, now }, transaction);
            await AppendHistoryAsync(connection, transaction, leakId, now, actor, leak.HistoryAction, leak.HistoryComment);
            await RuleChangeLog.RecordAsync(
                connection, transaction, next, leakId, new WatchState(false, default), WatchState.Of(LeakStatuses.Open, Remediations.None),
                tokensChanged: true, now, configuration.Limits.RuleChangeLogSize);
            await outbox.LeakChangedAsync(connection, transaction, NotificationKinds.LeakCreated, leakId, actor, null, null);
            return next;
        }, cancellationToken);
        signal.Publish(version);
        outbox.Wake();
        Log.LeakCreated(logger, leakId, leak.Tokens.Count, version);
        return (await GetAsync(leakId, cancellationToken))!;
    }

    public Task<LeakView?> GetAsync(string id, CancellationToken cancellationToken) =>
        database.ReadAsync(async (connection, transaction) =>
        {
            var row = await connection.QuerySingleOrDefaultAsync<LeakRow>($"SELECT {LeakRow.Columns} FROM leaks l WHERE l.id = @id", new { id }, transaction);
            return row is null ? null : (await ViewsAsync(connection, transaction, [row]))[0];
        }, cancellationToken);

    public async Task<LeakView> TransitionAsync(string id, LeakAction action, string? comment, string actor, CancellationToken cancellationToken)
    {
        var now = Ids.Now(clock);
        var (version, status) = await database.WriteAsync(async (connection, transaction) =>
        {
            var taken = await RuleChangeLog.NextVersionAsync(connection, transaction);
            var row = await connection.QuerySingleOrDefaultAsync<LeakRow>($"SELECT {LeakRow.Columns} FROM leaks l WHERE l.id = @id", new { id }, transaction)
                ?? throw new LeakRefusedException(notFound: true, $"no leak has id '{id}'");
            var next = LeakLifecycle.Next(row.Status, row.Remediation, action, out var refusal)
                ?? throw new LeakRefusedException(notFound: false, $"cannot {LeakLifecycle.Name(action)} leak '{id}': {refusal}");
            if (action == LeakAction.Reopen)
            {
                var fingerprints = await connection.QueryAsync<string>("SELECT fingerprint FROM leak_tokens WHERE leak_id = @id", new { id }, transaction);
                await RefuseTokensInOpenLeaksAsync(connection, transaction, id, fingerprints.ToList());
            }
            await connection.ExecuteAsync(
                "UPDATE leaks SET status = @Status, status_rank = @rank, remediation = @Remediation, updated_at = @now WHERE id = @id",
                new { next.Status, rank = LeakStatuses.Rank(next.Status), next.Remediation, now, id }, transaction);
            await AppendHistoryAsync(connection, transaction, id, now, actor, LeakLifecycle.Name(action), comment);
            await RuleChangeLog.RecordAsync(
                connection, transaction, taken, id, WatchState.Of(row.Status, row.Remediation), WatchState.Of(next.Status, next.Remediation),
                tokensChanged: false, now, configuration.Limits.RuleChangeLogSize);
            await outbox.LeakChangedAsync(
                connection, transaction, action == LeakAction.Reopen ? NotificationKinds.LeakReopened : NotificationKinds.LeakStatusChanged, id, actor, comment,
                Describe(row.Status, row.Remediation, next.Status, next.Remediation));
            return (taken, next.Status);
        }, cancellationToken);
        signal.Publish(version);
        outbox.Wake();
        Log.LeakTransition(logger, id, LeakLifecycle.Name(action), status, version);
        return (await GetAsync(id, cancellationToken))!;
    }

    /// <summary>
    /// Adds tokens to a leak (those it has already are skipped). Nodes watching the leak get it again whole. A rule
    /// version is taken even when the leak is not watched (its delta is empty): taking it first is what orders this
    /// change against a concurrent reopen on PostgreSQL, so that no version can miss the new tokens.
    /// </summary>
    public async Task<LeakView> AddTokensAsync(string id, IReadOnlyList<string> tokens, string? comment, string actor, CancellationToken cancellationToken)
    {
        var now = Ids.Now(clock);
        var prepared = Prepare(id, tokens, now);
        long version;
        try
        {
            version = await database.WriteAsync(async (connection, transaction) =>
            {
                var taken = await RuleChangeLog.NextVersionAsync(connection, transaction);
                var row = await connection.QuerySingleOrDefaultAsync<LeakRow>($"SELECT {LeakRow.Columns} FROM leaks l WHERE l.id = @id", new { id }, transaction)
                    ?? throw new LeakRefusedException(notFound: true, $"no leak has id '{id}'");
                var existing = (await connection.QueryAsync<string>("SELECT fingerprint FROM leak_tokens WHERE leak_id = @id", new { id }, transaction))
                    .ToHashSet(StringComparer.Ordinal);
                var added = prepared.Where(t => !existing.Contains(t.Fingerprint)).ToList();
                if (added.Count == 0)
                {
                    throw new NothingToAddException();
                }
                if (existing.Count + added.Count > configuration.Limits.MaxTokensPerLeak)
                {
                    throw new LeakRefusedException(
                        notFound: false, $"leak '{id}' would hold {existing.Count + added.Count} tokens; at most {configuration.Limits.MaxTokensPerLeak} (Limits:MaxTokensPerLeak)");
                }
                var state = WatchState.Of(row.Status, row.Remediation);
                if (state.Watched)
                {
                    await RefuseTokensInOpenLeaksAsync(connection, transaction, id, added.Select(t => t.Fingerprint).ToList());
                }
                var first = await connection.ExecuteScalarAsync<long?>("SELECT MAX(ordinal) FROM leak_tokens WHERE leak_id = @id", new { id }, transaction) ?? -1;
                await InsertTokensAsync(connection, transaction, added, (int)first + 1);
                await connection.ExecuteAsync(
                    "UPDATE leaks SET token_count = token_count + @count, updated_at = @now WHERE id = @id", new { count = added.Count, now, id }, transaction);
                await AppendHistoryAsync(connection, transaction, id, now, actor, "add-tokens", comment);
                await RuleChangeLog.RecordAsync(connection, transaction, taken, id, state, state, tokensChanged: true, now, configuration.Limits.RuleChangeLogSize);
                return taken;
            }, cancellationToken);
        }
        catch (NothingToAddException)
        {
            return (await GetAsync(id, cancellationToken))!;
        }
        signal.Publish(version);
        Log.TokensAdded(logger, id, version);
        return (await GetAsync(id, cancellationToken))!;
    }

    /// <summary>Edits name, description or risk; nothing nodes watch changes, so the rule version stays.</summary>
    public async Task<LeakView> EditAsync(string id, LeakEdit edit, string actor, CancellationToken cancellationToken)
    {
        var now = Ids.Now(clock);
        await database.WriteAsync(async (connection, transaction) =>
        {
            var row = await connection.QuerySingleOrDefaultAsync<LeakRow>($"SELECT {LeakRow.Columns} FROM leaks l WHERE l.id = @id", new { id }, transaction)
                ?? throw new LeakRefusedException(notFound: true, $"no leak has id '{id}'");
            var name = edit.Name ?? row.Name;
            var description = edit.Description ?? row.Description;
            var risk = edit.Risk ?? (int)row.Risk;
            var changes = new List<string>();
            if (name != row.Name)
            {
                changes.Add("name");
            }
            if (description != row.Description)
            {
                changes.Add("description");
            }
            if (risk != row.Risk)
            {
                changes.Add($"risk {row.Risk} → {risk}");
            }
            if (changes.Count == 0)
            {
                return 0;
            }
            await connection.ExecuteAsync(
                """
                UPDATE leaks SET name = @name, name_lower = @nameLower, description = @description, description_lower = @descriptionLower,
                    risk = @risk, risk_by_user = @byUser, updated_at = @now WHERE id = @id
                """,
                new
                {
                    name, nameLower = name.ToLowerInvariant(), description, descriptionLower = description.ToLowerInvariant(), risk,
                    byUser = risk != row.Risk ? 1 : row.RiskByUser, now, id,
                }, transaction);
            await AppendHistoryAsync(connection, transaction, id, now, actor, "edit", "changed " + string.Join(", ", changes));
            if (risk != row.Risk)
            {
                await outbox.LeakChangedAsync(
                    connection, transaction, NotificationKinds.LeakRiskChanged, id, actor, null,
                    $"risk {RiskLevels.Of((int)row.Risk)} ({row.Risk}) → {RiskLevels.Of(risk)} ({risk})");
            }
            return 1;
        }, cancellationToken);
        outbox.Wake();
        Log.LeakEdited(logger, id);
        return (await GetAsync(id, cancellationToken))!;
    }

    public Task<Page<LeakView>> ListAsync(LeakFilter filter, LeakSort sort, IReadOnlyList<object>? after, int limit, CancellationToken cancellationToken) =>
        database.ReadAsync(async (connection, transaction) =>
        {
            var where = new StringBuilder(" WHERE 1 = 1");
            var parameters = new DynamicParameters();
            filter.AppendWhere(where, parameters);
            var total = await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM leaks l" + where, parameters, transaction);
            if (after is not null)
            {
                sort.AppendAfter(where, parameters, after);
            }
            parameters.Add("limit", limit + 1);
            var rows = (await connection.QueryAsync<LeakRow>(
                $"SELECT {LeakRow.Columns} FROM leaks l{where} ORDER BY {sort.OrderBy} LIMIT @limit", parameters, transaction)).ToList();
            // One row more than the page tells whether another page follows, without a second count.
            string? next = null;
            if (rows.Count > limit)
            {
                rows.RemoveAt(limit);
                next = sort.CursorOf(rows[^1]);
            }
            return new Page<LeakView>(await ViewsAsync(connection, transaction, rows), total, next);
        }, cancellationToken);

    public Task<IReadOnlyList<LeakView>> ExportAsync(LeakFilter filter, LeakSort sort, CancellationToken cancellationToken) =>
        database.ReadAsync(async (connection, transaction) =>
        {
            var where = new StringBuilder(" WHERE 1 = 1");
            var parameters = new DynamicParameters();
            filter.AppendWhere(where, parameters);
            parameters.Add("limit", configuration.Limits.MaxExportRows);
            var rows = (await connection.QueryAsync<LeakRow>(
                $"SELECT {LeakRow.Columns} FROM leaks l{where} ORDER BY {sort.OrderBy} LIMIT @limit", parameters, transaction)).ToList();
            return await ViewsAsync(connection, transaction, rows);
        }, cancellationToken);

    public Task<LeakStats> StatsAsync(LeakFilter filter, CancellationToken cancellationToken) =>
        database.ReadAsync(async (connection, transaction) =>
        {
            var where = new StringBuilder(" WHERE 1 = 1");
            var parameters = new DynamicParameters();
            filter.AppendWhere(where, parameters);
            var byStatus = LeakStatuses.All.ToDictionary(s => s, _ => 0L, StringComparer.Ordinal);
            foreach (var (status, count) in await connection.QueryAsync<(string, long)>(
                $"SELECT l.status, COUNT(*) FROM leaks l{where} GROUP BY l.status", parameters, transaction))
            {
                byStatus[status] = count;
            }
            var byRisk = RiskLevels.All.ToDictionary(s => s, _ => 0L, StringComparer.Ordinal);
            foreach (var (risk, count) in await connection.QueryAsync<(long, long)>(
                $"SELECT CAST(l.risk AS BIGINT), COUNT(*) FROM leaks l{where} GROUP BY l.risk", parameters, transaction))
            {
                byRisk[RiskLevels.Of((int)risk)] += count;
            }
            var bySource = new SortedDictionary<string, long>(StringComparer.Ordinal);
            foreach (var (kind, count) in await connection.QueryAsync<(string, long)>(
                $"SELECT s.kind, COUNT(DISTINCT s.leak_id) FROM leak_sources s JOIN leaks l ON l.id = s.leak_id{where} GROUP BY s.kind", parameters, transaction))
            {
                bySource[kind] = count;
            }
            return new LeakStats(byRisk, bySource, byStatus);
        }, cancellationToken);

    /// <summary>
    /// The leak holding each fingerprint given, for a scan's findings: an open leak first (the one nodes watch it
    /// through), else the newest. Fingerprints no leak holds are absent.
    /// </summary>
    public Task<IReadOnlyDictionary<string, KnownToken>> FindTokensAsync(IReadOnlyCollection<string> fingerprints, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyDictionary<string, KnownToken>>(async (connection, transaction) =>
        {
            var found = new Dictionary<string, KnownToken>(StringComparer.Ordinal);
            foreach (var chunk in fingerprints.Distinct(StringComparer.Ordinal).Chunk(Chunk))
            {
                var (list, parameters) = SqlList.In("fingerprint", chunk);
                var rows = await connection.QueryAsync<(string Fingerprint, string LeakId, string Status, long CreatedAt)>(
                    $"""
                    SELECT t.fingerprint, l.id, l.status, l.created_at FROM leak_tokens t JOIN leaks l ON l.id = t.leak_id
                    WHERE t.fingerprint IN {list}
                    """, parameters, transaction);
                foreach (var row in rows)
                {
                    var candidate = new KnownToken(row.LeakId, row.Status, row.CreatedAt);
                    if (!found.TryGetValue(row.Fingerprint, out var held) || candidate.IsBetterThan(held))
                    {
                        found[row.Fingerprint] = candidate;
                    }
                }
            }
            return found;
        }, cancellationToken);

    /// <summary>
    /// Records that a scan found a leak's token again: a new place is added to its sources (a place it has already
    /// is not added twice) with a <c>seen-again</c> history entry. The leak's status never changes here: a leak
    /// marked false stays false, a closed one stays closed. A computed risk higher than the leak's raises it, unless a
    /// person has set the risk. Nothing nodes watch changes, so no rule version is taken.
    /// </summary>
    /// <returns>Whether anything changed (false when the place was known and the risk stayed).</returns>
    public async Task<bool> AddSightingAsync(string id, LeakSighting sighting, string actor, CancellationToken cancellationToken)
    {
        var now = Ids.Now(clock);
        var changed = await database.WriteAsync(async (connection, transaction) =>
        {
            var row = await connection.QuerySingleOrDefaultAsync<LeakRow>($"SELECT {LeakRow.Columns} FROM leaks l WHERE l.id = @id", new { id }, transaction)
                ?? throw new LeakRefusedException(notFound: true, $"no leak has id '{id}'");
            var known = await connection.ExecuteScalarAsync<long>(
                """
                SELECT COUNT(*) FROM leak_sources WHERE leak_id = @id AND kind = @Kind AND COALESCE(url, '') = COALESCE(@Url, '')
                  AND (COALESCE(location, '') = COALESCE(@Location, '') OR (@file IS NOT NULL AND substr(location, 1, length(@file)) = @file))
                """,
                new { id, sighting.Kind, sighting.Url, sighting.Location, file = sighting.File }, transaction);
            var raise = row.RiskByUser == 0 && sighting.Risk > row.Risk;
            if (known > 0 && !raise)
            {
                return false;
            }
            if (known == 0)
            {
                await connection.ExecuteAsync(
                    "INSERT INTO leak_sources (id, leak_id, kind, url, location, first_seen) VALUES (@sourceId, @id, @Kind, @Url, @Location, @now)",
                    new { sourceId = Ids.New("src_"), id, sighting.Kind, sighting.Url, sighting.Location, now }, transaction);
                await AppendHistoryAsync(connection, transaction, id, now, actor, "seen-again", Describe(sighting));
            }
            if (raise)
            {
                await connection.ExecuteAsync(
                    "UPDATE leaks SET risk = @Risk, risk_reasons = @reasons, updated_at = @now WHERE id = @id",
                    new { sighting.Risk, reasons = JoinReasons(sighting.RiskReasons), now, id }, transaction);
                await AppendHistoryAsync(connection, transaction, id, now, actor, "edit", $"changed risk {row.Risk} → {sighting.Risk} (scan)");
                await outbox.LeakChangedAsync(
                    connection, transaction, NotificationKinds.LeakRiskChanged, id, actor, null,
                    $"risk {RiskLevels.Of((int)row.Risk)} ({row.Risk}) → {RiskLevels.Of(sighting.Risk)} ({sighting.Risk})");
            }
            else
            {
                await connection.ExecuteAsync("UPDATE leaks SET updated_at = @now WHERE id = @id", new { now, id }, transaction);
            }
            return true;
        }, cancellationToken);
        if (changed)
        {
            outbox.Wake();
        }
        return changed;
    }

    private static string Describe(LeakSighting sighting) =>
        string.Join(" ", new[] { sighting.Url, sighting.Location }.Where(part => !string.IsNullOrEmpty(part)));

    /// <summary>A lifecycle change in words, for notifications: <c>open → closed</c>, <c>virtual patch applied</c>.</summary>
    private static string Describe(string status, string remediation, string nextStatus, string nextRemediation) =>
        status == nextStatus
            ? nextRemediation == Remediations.Vpatch ? "virtual patch applied" : $"remediation {remediation} → {nextRemediation}"
            : $"{status} → {nextStatus}" + (remediation != nextRemediation ? $", remediation {remediation} → {nextRemediation}" : "");

    /// <summary>The fingerprint a string would have as a token, to find its leak without storing or logging it.</summary>
    public string? FingerprintOf(string text) =>
        text.Length >= WindowPlan.MinTokenLength && Encoding.UTF8.GetByteCount(text) <= WindowPlan.MaxSupportedTokenLength
            ? new TokenDigester(keyring.Key).Digest("q", text).Fingerprint
            : null;

    internal static string TokenContext(string tokenId) => "leaknode/token/" + tokenId;

    /// <summary>
    /// Digests and seals tokens before any transaction opens: that is the slow part, and needs no lock. The plaintext
    /// leaves this method only inside the sealed value.
    /// </summary>
    private List<TokenInsert> Prepare(string leakId, IReadOnlyList<string> tokens, long now)
    {
        var digester = new TokenDigester(keyring.Key);
        var rows = new List<TokenInsert>(tokens.Count);
        foreach (var token in tokens)
        {
            var id = Ids.New("tk_");
            var digest = digester.Digest(id, token);
            rows.Add(new TokenInsert
            {
                Id = id,
                LeakId = leakId,
                Kind = TokenKinds.Detect(token),
                Fingerprint = digest.Fingerprint,
                Preview = digest.Preview ?? "…",
                Length = digest.Length,
                SpanStart = digest.SpanStart,
                Windows = DigestColumns.Windows(digest.Windows),
                Hmac = Convert.ToBase64String(digest.Hmac),
                SealedValue = box.Seal(token, TokenContext(id)),
                Now = now,
            });
        }
        return rows;
    }

    private static Task<int> InsertTokensAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<TokenInsert> tokens, int firstOrdinal)
    {
        for (var i = 0; i < tokens.Count; i++)
        {
            tokens[i].Ordinal = firstOrdinal + i;
        }
        return connection.ExecuteAsync(
            """
            INSERT INTO leak_tokens (id, leak_id, ordinal, kind, fingerprint, preview, token_length, span_start, windows, hmac, sealed, created_at)
            VALUES (@Id, @LeakId, @Ordinal, @Kind, @Fingerprint, @Preview, @Length, @SpanStart, @Windows, @Hmac, @SealedValue, @Now)
            """, tokens, transaction);
    }

    /// <summary>A token row to insert: its digest, its sealed plaintext, never the plaintext itself.</summary>
    private sealed class TokenInsert
    {
        public string Id { get; init; } = "";

        public string LeakId { get; init; } = "";

        public int Ordinal { get; set; }

        public string Kind { get; init; } = "";

        public string Fingerprint { get; init; } = "";

        public string Preview { get; init; } = "";

        public int Length { get; init; }

        public int SpanStart { get; init; }

        public string Windows { get; init; } = "";

        public string Hmac { get; init; } = "";

        public string SealedValue { get; init; } = "";

        public long Now { get; init; }
    }

    /// <summary>Every token given is in the leak already: roll back the version taken, answer the leak as it is.</summary>
    private sealed class NothingToAddException : Exception;

    /// <summary>A token is watched by one open leak at most: two would race for the same hits and decisions.</summary>
    private static async Task RefuseTokensInOpenLeaksAsync(DbConnection connection, DbTransaction transaction, string leakId, IReadOnlyList<string> fingerprints)
    {
        var conflicts = new Dictionary<string, (string Name, List<string> Fingerprints)>(StringComparer.Ordinal);
        foreach (var chunk in fingerprints.Distinct(StringComparer.Ordinal).Chunk(Chunk))
        {
            var (list, parameters) = SqlList.In("fingerprint", chunk);
            parameters.Add("open", LeakStatuses.Open);
            parameters.Add("leakId", leakId);
            var rows = await connection.QueryAsync<(string Id, string Name, string Fingerprint)>(
                $"""
                SELECT l.id, l.name, t.fingerprint FROM leak_tokens t JOIN leaks l ON l.id = t.leak_id
                WHERE l.status = @open AND l.id <> @leakId AND t.fingerprint IN {list}
                """, parameters, transaction);
            foreach (var (id, name, fingerprint) in rows)
            {
                if (!conflicts.TryGetValue(id, out var entry))
                {
                    conflicts[id] = entry = (name, []);
                }
                entry.Fingerprints.Add(fingerprint);
            }
        }
        if (conflicts.Count > 0)
        {
            var list = conflicts.Select(c => new ConflictingLeak(c.Key, c.Value.Name, c.Value.Fingerprints)).ToList();
            throw new LeakRefusedException(
                notFound: false,
                $"a token is already in open leak {string.Join(", ", list.Select(c => $"'{c.Name}' ({c.Id})"))}: close or mark that leak false first, or leave the token out",
                list);
        }
    }

    private static Task<int> AppendHistoryAsync(DbConnection connection, DbTransaction transaction, string leakId, long at, string actor, string action, string? comment) =>
        connection.ExecuteAsync(
            "INSERT INTO leak_history (id, leak_id, at, actor, action, comment) VALUES (@id, @leakId, @at, @actor, @action, @comment)",
            new { id = Ids.New("h_"), leakId, at, actor, action, comment }, transaction);

    /// <summary>Builds the API view of leaks: their tokens, sources and history in three queries per chunk, not three per leak.</summary>
    private static async Task<IReadOnlyList<LeakView>> ViewsAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<LeakRow> rows)
    {
        var tokens = new Dictionary<string, List<TokenView>>(StringComparer.Ordinal);
        var sources = new Dictionary<string, List<SourceView>>(StringComparer.Ordinal);
        var history = new Dictionary<string, List<HistoryView>>(StringComparer.Ordinal);
        foreach (var chunk in rows.Select(r => r.Id).Chunk(Chunk))
        {
            var (ids, parameters) = SqlList.In("id", chunk);
            foreach (var t in await connection.QueryAsync<(string LeakId, string Id, string Preview, string Kind, string Fingerprint)>(
                $"SELECT leak_id, id, preview, kind, fingerprint FROM leak_tokens WHERE leak_id IN {ids} ORDER BY leak_id, ordinal", parameters, transaction))
            {
                Add(tokens, t.LeakId, new TokenView(t.Id, t.Preview, t.Kind, t.Fingerprint));
            }
            foreach (var s in await connection.QueryAsync<(string LeakId, string Kind, string? Url, string? Location, long FirstSeen)>(
                $"SELECT leak_id, kind, url, location, first_seen FROM leak_sources WHERE leak_id IN {ids} ORDER BY leak_id, first_seen, id", parameters, transaction))
            {
                Add(sources, s.LeakId, new SourceView(s.Kind, s.Url, s.Location, Ids.Time(s.FirstSeen)));
            }
            foreach (var h in await connection.QueryAsync<(string LeakId, long At, string Actor, string Action, string? Comment)>(
                $"SELECT leak_id, at, actor, action, comment FROM leak_history WHERE leak_id IN {ids} ORDER BY leak_id, at, id", parameters, transaction))
            {
                Add(history, h.LeakId, new HistoryView(Ids.Time(h.At), h.Actor, h.Action, h.Comment));
            }
        }
        return rows.Select(r => new LeakView(
            r.Id, r.Name, r.Description, RiskView.Of((int)r.Risk, r.RiskByUser == 0 ? SplitReasons(r.RiskReasons) : null), r.Status, r.Remediation, (int)r.TokenCount,
            tokens.GetValueOrDefault(r.Id) ?? [], sources.GetValueOrDefault(r.Id) ?? [], Ids.Time(r.CreatedAt), Ids.Time(r.UpdatedAt),
            history.GetValueOrDefault(r.Id) ?? [])).ToList();
    }

    private static string? JoinReasons(IReadOnlyList<string>? reasons) => reasons is { Count: > 0 } ? string.Join('\n', reasons) : null;

    private static string[]? SplitReasons(string? reasons) => reasons?.Split('\n');

    private static void Add<T>(Dictionary<string, List<T>> map, string key, T value)
    {
        if (!map.TryGetValue(key, out var list))
        {
            map[key] = list = [];
        }
        list.Add(value);
    }
}
