using System.Data;
using System.Data.Common;
using Dapper;
using LeakNode.Cloud.Configuration;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace LeakNode.Cloud.Storage;

/// <summary>
/// The cloud's database: SQLite or PostgreSQL behind plain ADO.NET, with Dapper for row mapping.
/// </summary>
/// <remarks>
/// Why not EF Core: the hot paths (event ingest at tens of thousands of rows a second, the rule feed's fold over
/// the change log, keyset paging with several sort orders) are hand-written SQL either way, and the rest is a
/// dozen small tables. One set of portable SQL (no SQLite-only or PostgreSQL-only syntax: <c>ON CONFLICT … DO
/// NOTHING</c>, <c>RETURNING</c>, <c>LIMIT</c> and plain types exist in both) is one thing to test instead of
/// two generated migration trees. ASP.NET Core Identity, when it comes, can keep its own EF Core context and
/// migrations history over the same database: its tables do not touch these.
/// </remarks>
internal sealed class CloudDatabase : IAsyncDisposable
{
    private readonly string _connectionString;
    private readonly string _sqlitePragmas = "";
    private readonly NpgsqlDataSource? _postgres;

    public CloudDatabase(CloudConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        // Rows map to snake_case columns by name (created_at → CreatedAt); a process-wide Dapper setting, set here
        // because this class is the only way the cloud reaches a database.
        DefaultTypeMap.MatchNamesWithUnderscores = true;
        Provider = configuration.Storage.Provider;
        if (Provider == StorageProvider.Sqlite)
        {
            var path = Path.GetFullPath(configuration.SqlitePath);
            Location = path;
            _connectionString = new SqliteConnectionStringBuilder
            {
                DataSource = path,
                Mode = SqliteOpenMode.ReadWriteCreate,
                Cache = SqliteCacheMode.Private,
                Pooling = true,
                // Microsoft.Data.Sqlite retries SQLITE_BUSY until the command timeout: this is the busy timeout.
                DefaultTimeout = (int)Math.Ceiling(configuration.Storage.Sqlite.BusyTimeout.TotalSeconds),
            }.ToString();
            // A property of each connection (WAL is the file's, set by the migrations): SQLite's own busy handler waits
            // for the writer in steps of 1 to 100 ms; without it Microsoft.Data.Sqlite's retry sleeps 150 ms at every
            // SQLITE_BUSY, which put 150 ms steps into rule propagation as soon as a few nodes' acks were written at
            // once (bench `propagation`).
            _sqlitePragmas = string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"PRAGMA busy_timeout={(long)configuration.Storage.Sqlite.BusyTimeout.TotalMilliseconds};");
        }
        else
        {
            var builder = new NpgsqlConnectionStringBuilder(configuration.Storage.Postgres.ConnectionString);
            Location = $"postgres://{builder.Host}/{builder.Database}";
            _connectionString = builder.ToString();
            _postgres = NpgsqlDataSource.Create(builder);
        }
    }

    public StorageProvider Provider { get; }

    /// <summary>Where the data is, for messages (never with a password).</summary>
    public string Location { get; }

    public async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        DbConnection connection = _postgres is null ? new SqliteConnection(_connectionString) : _postgres.CreateConnection();
        try
        {
            await connection.OpenAsync(cancellationToken);
            if (connection is SqliteConnection sqlite)
            {
                using var pragma = sqlite.CreateCommand();
                pragma.CommandText = _sqlitePragmas;
                await pragma.ExecuteNonQueryAsync(cancellationToken);
            }
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> in a write transaction and commits it. On SQLite the transaction starts
    /// IMMEDIATE, taking the write lock at once: a deferred one that reads first and writes later can fail with
    /// SQLITE_BUSY without waiting when another writer got in between.
    /// </summary>
    public Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken) =>
        InTransactionAsync(work, write: true, cancellationToken);

    /// <summary>
    /// Runs <paramref name="work"/> in a read transaction that sees one snapshot throughout (SQLite: a deferred
    /// transaction in WAL mode; PostgreSQL: REPEATABLE READ), so that a version and the rows it describes agree.
    /// </summary>
    public Task<T> ReadAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken) =>
        InTransactionAsync(work, write: false, cancellationToken);

    /// <summary>Closes the pooled connections, so that a stopped cloud holds no file handle or server session.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }
        else
        {
            using var connection = new SqliteConnection(_connectionString);
            SqliteConnection.ClearPool(connection);
        }
    }

    private async Task<T> InTransactionAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, bool write, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = connection is SqliteConnection sqlite
            ? sqlite.BeginTransaction(deferred: !write)
            : await connection.BeginTransactionAsync(write ? IsolationLevel.ReadCommitted : IsolationLevel.RepeatableRead, cancellationToken);
        var result = await work(connection, transaction);
        await transaction.CommitAsync(cancellationToken);
        return result;
    }
}
