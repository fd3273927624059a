using Npgsql;

namespace LeakNode.Benchmarks;

/// <summary>
/// Where a cloud benchmark keeps its data: a SQLite file in a temporary folder, or a new database on a PostgreSQL
/// server (created for the run, dropped after it). Gives the cloud settings that point at it.
/// </summary>
internal sealed class ScratchDatabase : IAsyncDisposable
{
    private readonly string? _server;
    private readonly string? _name;

    private ScratchDatabase(DirectoryInfo folder, string? server, string? name)
    {
        Folder = folder;
        _server = server;
        _name = name;
    }

    public DirectoryInfo Folder { get; }

    public string Provider => _server is null ? "SQLite" : "PostgreSQL";

    /// <param name="postgresServer">An Npgsql connection string with the right to create databases; null for SQLite.</param>
    public static async Task<ScratchDatabase> CreateAsync(string? postgresServer)
    {
        var folder = Directory.CreateTempSubdirectory("leaknode-bench-");
        if (postgresServer is null)
        {
            return new ScratchDatabase(folder, null, null);
        }
        var name = "leaknode_bench_" + Guid.NewGuid().ToString("N")[..12];
        await using var connection = new NpgsqlConnection(postgresServer);
        await connection.OpenAsync();
        await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await create.ExecuteNonQueryAsync();
        return new ScratchDatabase(folder, postgresServer, name);
    }

    /// <summary>The cloud's settings for this database; <paramref name="extra"/> adds or overrides.</summary>
    public Dictionary<string, string?> Settings(IDictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Listen:Http"] = "http://127.0.0.1:0",
            ["Listen:Grpc"] = "http://127.0.0.1:0",
            ["DataDir"] = Folder.FullName,
        };
        if (_server is not null)
        {
            settings["Storage:Provider"] = "postgres";
            settings["Storage:Postgres:ConnectionString"] = new NpgsqlConnectionStringBuilder(_server) { Database = _name }.ToString();
        }
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }
        return settings;
    }

    public async ValueTask DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        NpgsqlConnection.ClearAllPools();
        if (_server is not null)
        {
            await using var connection = new NpgsqlConnection(_server);
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {_name} WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync();
        }
        Folder.Delete(recursive: true);
    }
}
