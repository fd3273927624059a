using System.Data.Common;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using Dapper;
using LeakNode.Cloud.Api;
using LeakNode.Cloud.Configuration;
using LeakNode.Cloud.Diagnostics;
using LeakNode.Cloud.Leaks;
using LeakNode.Cloud.Rules;
using LeakNode.Cloud.Storage;
using LeakNode.Matching.Digests;
using LeakNode.Scanner;
using Microsoft.Extensions.Logging;

namespace LeakNode.Cloud.Inventory;

/// <summary>The inventory would hold more tokens than <c>Limits:MaxInventoryTokens</c>; nothing of the request was kept.</summary>
internal sealed class InventoryFullException(string message) : Exception(message);

/// <summary>
/// The organisation's issued tokens, kept as digests under the inventory key (<c>inventory_tokens</c>), and the
/// watch list scans build from them. No plaintext is ever stored: a token given in plaintext is digested here and
/// dropped; one given as a digest never existed here in plaintext.
/// </summary>
internal sealed partial class InventoryStore(
    CloudDatabase database, InventoryKeyring keyring, CloudConfiguration configuration, TimeProvider clock, ILogger<InventoryStore> logger)
{
    private const string DigestColumnsSql = "id, label, preview, token_length, span_start, windows, hmac";

    // Rows an INSERT statement carries: 11 parameters a row, 5,500 a statement, well within SQLite's 32,766 and
    // PostgreSQL's 65,535 bind parameters.
    private const int InsertChunk = 500;

    /// <summary>
    /// Everything a scan needs to find the inventory's tokens: the inventory key and every digest made with it. Null
    /// when the inventory is empty (a scan then skips the inventory).
    /// </summary>
    public async Task<InventoryWatchList?> LoadWatchListAsync(CancellationToken cancellationToken)
    {
        var rows = await database.ReadAsync(
            async (connection, transaction) => (await connection.QueryAsync<DigestRow>(
                $"SELECT {DigestColumnsSql}, key_id FROM inventory_tokens", transaction: transaction)).AsList(),
            cancellationToken);
        if (rows.Count == 0)
        {
            // Not asking for the key here keeps "made on first use" true: an empty inventory needs none.
            return null;
        }
        var key = await keyring.GetAsync(cancellationToken);
        // Digests of another key (none today: the key is never replaced) would never match; they are left out.
        var digests = rows.Where(r => r.KeyId == key.KeyId).Select(r => r.ToDigest()).ToList();
        return digests.Count == 0 ? null : new InventoryWatchList(key.Key, digests);
    }

    /// <summary>Adds tokens or digests; those the inventory holds already (by fingerprint), or that the request repeats, are skipped and counted.</summary>
    /// <exception cref="InventoryFullException">The inventory would hold more than <c>Limits:MaxInventoryTokens</c>.</exception>
    public async Task<InventoryAddResult> AddAsync(InventoryAddition addition, string actor, CancellationToken cancellationToken)
    {
        var key = await keyring.GetAsync(cancellationToken);
        var now = Ids.Now(clock);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var rows = new List<DigestRow>();
        // Digesting happens before the transaction: it is the slow part, and needs no lock. The plaintext goes no further.
        var digester = new TokenDigester(key.Key);
        var digests = addition.Digests ?? addition.Tokens!.Select(t => digester.Digest("inventory", t));
        foreach (var digest in digests)
        {
            if (seen.Add(digest.Fingerprint))
            {
                rows.Add(DigestRow.Of(Ids.New("inv_"), addition.Label, digest, key.KeyId, now, actor));
            }
        }

        var limit = configuration.Limits.MaxInventoryTokens;
        var (added, total) = await database.WriteAsync(async (connection, transaction) =>
        {
            var inserted = 0;
            foreach (var chunk in rows.Chunk(InsertChunk))
            {
                inserted += await InsertAsync(connection, transaction, chunk);
            }
            var count = await CountAsync(connection, transaction);
            if (count > limit)
            {
                // Thrown inside the transaction, so that none of this request's tokens stay.
                throw new InventoryFullException(
                    $"the inventory would hold {count} tokens; at most {limit} (Limits:MaxInventoryTokens): remove tokens that were rotated, or raise the limit");
            }
            return (inserted, count);
        }, cancellationToken);
        var result = new InventoryAddResult(added, addition.Requested - added, total);
        Log.Added(logger, result.Added, result.Skipped, result.Total, actor);
        return result;
    }

    /// <summary>The inventory, newest first, a page at a time; the cursor is the last token's id (ids are time-ordered).</summary>
    public Task<Page<InventoryTokenView>> ListAsync(string? after, int limit, CancellationToken cancellationToken) =>
        database.ReadAsync(async (connection, transaction) =>
        {
            var total = await CountAsync(connection, transaction);
            var rows = (await connection.QueryAsync<DigestRow>(
                "SELECT id, label, preview, fingerprint, created_at, created_by FROM inventory_tokens"
                + (after is null ? "" : " WHERE id < @after") + " ORDER BY id DESC LIMIT @limit",
                new { after, limit = limit + 1 }, transaction)).AsList();
            // One row more than the page tells whether another page follows.
            string? next = null;
            if (rows.Count > limit)
            {
                rows.RemoveAt(limit);
                next = rows[^1].Id;
            }
            var items = rows.Select(r => new InventoryTokenView(r.Id, r.Label, r.Preview, r.Fingerprint, Ids.Time(r.CreatedAt), r.CreatedBy)).ToList();
            return new Page<InventoryTokenView>(items, total, next);
        }, cancellationToken);

    /// <summary>Removes a token (rotated, or never issued after all); false when no token has that id.</summary>
    public async Task<bool> RemoveAsync(string id, string actor, CancellationToken cancellationToken)
    {
        var removed = await database.WriteAsync(
            (connection, transaction) => connection.ExecuteAsync("DELETE FROM inventory_tokens WHERE id = @id", new { id }, transaction),
            cancellationToken);
        if (removed > 0)
        {
            Log.Removed(logger, id, actor);
        }
        return removed > 0;
    }

    /// <summary>
    /// Writes <see cref="InventoryDigestsView"/> to <paramref name="output"/> as rows are read, from one snapshot, so
    /// that an inventory of a million tokens (about 200 MB of JSON) is never held in memory.
    /// </summary>
    public async Task WriteDigestsAsync(Stream output, string actor, CancellationToken cancellationToken)
    {
        var key = await keyring.GetAsync(cancellationToken);
        var count = await database.ReadAsync(async (connection, transaction) =>
        {
            var count = await connection.ExecuteScalarAsync<long>(
                "SELECT COUNT(*) FROM inventory_tokens WHERE key_id = @KeyId", new { key.KeyId }, transaction);
            // The JSON writer writes into a pipe over the response, never to the stream itself: the serializer flushes its
            // writer synchronously, which Kestrel refuses; the pipe is flushed to the client asynchronously, in blocks.
            var pipe = PipeWriter.Create(output, new StreamPipeWriterOptions(leaveOpen: true));
            using (var writer = new Utf8JsonWriter(pipe))
            {
                writer.WriteStartObject();
                writer.WriteNumber("scheme", TokenDigest.Scheme);
                writer.WriteString("keyId", key.KeyId);
                writer.WriteString("key", key.Base64);
                writer.WriteNumber("count", count);
                writer.WriteStartArray("digests");
                await foreach (var row in connection.QueryUnbufferedAsync<DigestRow>(
                    $"SELECT {DigestColumnsSql} FROM inventory_tokens WHERE key_id = @KeyId ORDER BY id", new { key.KeyId }, transaction)
                    .WithCancellation(cancellationToken))
                {
                    var digest = row.ToDigest();
                    JsonSerializer.Serialize(
                        writer, new InventoryDigestView(row.Id, row.Label, digest.Length, digest.SpanStart, digest.Windows, digest.Hmac, row.Preview), JsonBody.Options);
                    // One write to the client per 64 KiB rather than one per digest.
                    if (pipe.UnflushedBytes > 64 * 1024)
                    {
                        await pipe.FlushAsync(cancellationToken);
                    }
                }
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            await pipe.CompleteAsync();
            return count;
        }, cancellationToken);
        Log.DigestsHandedOut(logger, count, actor);
    }

    /// <summary>
    /// Inserts rows with one statement; a fingerprint the table holds already is skipped (and not counted). One statement
    /// of many rows rather than one per row: on PostgreSQL, 10,000 single-row inserts took 7 s, round trips all.
    /// </summary>
    private static Task<int> InsertAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<DigestRow> rows)
    {
        var sql = new StringBuilder(
            "INSERT INTO inventory_tokens (id, label, preview, fingerprint, token_length, span_start, windows, hmac, key_id, created_at, created_by) VALUES ");
        var parameters = new DynamicParameters();
        for (var i = 0; i < rows.Count; i++)
        {
            var n = i.ToString(CultureInfo.InvariantCulture);
            sql.Append(i == 0 ? "" : ", ")
               .Append($"(@id{n}, @label{n}, @preview{n}, @fingerprint{n}, @length{n}, @spanStart{n}, @windows{n}, @hmac{n}, @keyId{n}, @createdAt{n}, @createdBy{n})");
            var row = rows[i];
            parameters.Add("id" + n, row.Id);
            parameters.Add("label" + n, row.Label, System.Data.DbType.String);
            parameters.Add("preview" + n, row.Preview);
            parameters.Add("fingerprint" + n, row.Fingerprint);
            parameters.Add("length" + n, row.TokenLength);
            parameters.Add("spanStart" + n, row.SpanStart);
            parameters.Add("windows" + n, row.Windows);
            parameters.Add("hmac" + n, row.Hmac);
            parameters.Add("keyId" + n, row.KeyId);
            parameters.Add("createdAt" + n, row.CreatedAt);
            parameters.Add("createdBy" + n, row.CreatedBy);
        }
        sql.Append(" ON CONFLICT (fingerprint) DO NOTHING");
        return connection.ExecuteAsync(sql.ToString(), parameters, transaction);
    }

    private static Task<long> CountAsync(DbConnection connection, DbTransaction transaction) =>
        connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM inventory_tokens", transaction: transaction);

    /// <summary>A row of <c>inventory_tokens</c>: the digest in portable columns (<see cref="DigestColumns"/>), never a plaintext.</summary>
    private sealed class DigestRow
    {
        public string Id { get; init; } = "";

        public string? Label { get; init; }

        public string Preview { get; init; } = "";

        public string Fingerprint { get; init; } = "";

        public long TokenLength { get; init; }

        public long SpanStart { get; init; }

        public string Windows { get; init; } = "";

        public string Hmac { get; init; } = "";

        public string KeyId { get; init; } = "";

        public long CreatedAt { get; init; }

        public string CreatedBy { get; init; } = "";

        public static DigestRow Of(string id, string? label, TokenDigest digest, string keyId, long now, string actor) => new()
        {
            Id = id,
            Label = label,
            Preview = digest.Preview ?? "…",
            Fingerprint = digest.Fingerprint,
            TokenLength = digest.Length,
            SpanStart = digest.SpanStart,
            Windows = DigestColumns.Windows(digest.Windows),
            Hmac = Convert.ToBase64String(digest.Hmac),
            KeyId = keyId,
            CreatedAt = now,
            CreatedBy = actor,
        };

        public TokenDigest ToDigest() => DigestColumns.Digest(Id, TokenLength, SpanStart, Windows, Hmac, Preview);
    }

    // Counts, ids and API key names only: never a token, a preview or a digest.
    private static partial class Log
    {
        [LoggerMessage(EventIds.InventoryAdded, LogLevel.Information, "Inventory: {Added} tokens added, {Skipped} skipped, by {Actor}; it holds {Total}")]
        public static partial void Added(ILogger logger, int added, int skipped, long total, string actor);

        [LoggerMessage(EventIds.InventoryRemoved, LogLevel.Information, "Inventory: token {TokenId} removed by {Actor}")]
        public static partial void Removed(ILogger logger, string tokenId, string actor);

        [LoggerMessage(EventIds.InventoryDigestsHandedOut, LogLevel.Information, "Inventory: the key and {Count} digests handed out to {Actor}")]
        public static partial void DigestsHandedOut(ILogger logger, long count, string actor);
    }
}
