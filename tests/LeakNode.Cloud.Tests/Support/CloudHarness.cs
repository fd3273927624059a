using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LeakNode.Cloud.Tests.Support;

/// <summary>
/// A cloud started for real on loopback ports chosen by the OS, over a SQLite file in a temporary folder. Collects
/// every log line and every response body, so that tests can look for what must never appear in them.
/// </summary>
public sealed class CloudHarness : IAsyncDisposable
{
    private readonly bool _ownsFolder;

    private CloudHarness(string folder, bool ownsFolder, CloudApplication cloud, ConcurrentQueue<string> logs, ConcurrentQueue<string> responses, string adminKey)
    {
        Folder = folder;
        _ownsFolder = ownsFolder;
        Cloud = cloud;
        Logs = logs;
        Responses = responses;
        AdminKey = adminKey;
        Admin = Client(adminKey);
        Anonymous = Client(null);
    }

    public string Folder { get; }

    public CloudApplication Cloud { get; }

    public ConcurrentQueue<string> Logs { get; }

    /// <summary>Every response body any client of this harness received.</summary>
    public ConcurrentQueue<string> Responses { get; }

    public string AdminKey { get; }

    public HttpClient Admin { get; }

    public HttpClient Anonymous { get; }

    public string DatabasePath => Path.Combine(Folder, "data", "cloud.db");

    public T Service<T>()
        where T : notnull => Cloud.Services.GetRequiredService<T>();

    /// <summary>The settings a test cloud starts with; <paramref name="settings"/> override them.</summary>
    public static Dictionary<string, string?> Settings(string folder, IDictionary<string, string?>? settings = null)
    {
        var values = new Dictionary<string, string?>
        {
            ["Listen:Http"] = "http://127.0.0.1:0",
            ["Listen:Grpc"] = "http://127.0.0.1:0",
            ["Listen:ShutdownTimeout"] = "00:00:05",
            ["DataDir"] = Path.Combine(folder, "data"),
            // Tests store events at fixed dates (months ago by now): retention would race them away. Its own tests set it.
            ["Storage:Attacks:RetentionDays"] = "0",
        };
        if (PostgresServer is { } server)
        {
            values["Storage:Provider"] = "postgres";
            values["Storage:Postgres:ConnectionString"] = PostgresDatabase(server, folder);
        }
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }
        return values;
    }

    /// <summary>
    /// A PostgreSQL server to run the tests against instead of SQLite (<c>LEAKNODE_TEST_POSTGRES</c>, an Npgsql
    /// connection string with the right to create databases); null runs them on SQLite.
    /// </summary>
    public static string? PostgresServer => Environment.GetEnvironmentVariable("LEAKNODE_TEST_POSTGRES") is { Length: > 0 } server ? server : null;

    private static string DatabaseName(string folder) =>
        "leaknode_test_" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(folder)))[..16];

    /// <summary>
    /// Every value of every table of the cloud's database, one per line (bytea as Latin-1, so that a UTF-8 token shows
    /// as its own bytes): what a plaintext check greps on PostgreSQL, where there is no database file to read.
    /// </summary>
    public async Task<string> DumpPostgresAsync()
    {
        var server = PostgresServer ?? throw new InvalidOperationException("the tests run on SQLite");
        await using var connection = new Npgsql.NpgsqlConnection(PostgresDatabase(server, Folder));
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        var tables = new List<string>();
        await using (var list = new Npgsql.NpgsqlCommand("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'", connection))
        await using (var reader = await list.ExecuteReaderAsync(TestContext.Current.CancellationToken))
        {
            while (await reader.ReadAsync(TestContext.Current.CancellationToken))
            {
                tables.Add(reader.GetString(0));
            }
        }
        var dump = new StringBuilder();
        foreach (var table in tables)
        {
            await using var select = new Npgsql.NpgsqlCommand($"SELECT * FROM \"{table}\"", connection);
            await using var rows = await select.ExecuteReaderAsync(TestContext.Current.CancellationToken);
            while (await rows.ReadAsync(TestContext.Current.CancellationToken))
            {
                for (var i = 0; i < rows.FieldCount; i++)
                {
                    dump.Append(rows.IsDBNull(i) ? "" : rows.GetValue(i) is byte[] bytes ? Encoding.Latin1.GetString(bytes) : Convert.ToString(rows.GetValue(i), System.Globalization.CultureInfo.InvariantCulture)).Append('\n');
                }
            }
        }
        return dump.ToString();
    }

    /// <summary>One database a test folder, so that a restart in the same folder finds its data again.</summary>
    private static string PostgresDatabase(string server, string folder)
    {
        var name = DatabaseName(folder);
        using (var connection = new Npgsql.NpgsqlConnection(server))
        {
            connection.Open();
            using var exists = new Npgsql.NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection);
            exists.Parameters.AddWithValue("name", name);
            if (exists.ExecuteScalar() is null)
            {
                using var create = new Npgsql.NpgsqlCommand($"CREATE DATABASE {name}", connection);
                create.ExecuteNonQuery();
            }
        }
        return new Npgsql.NpgsqlConnectionStringBuilder(server) { Database = name }.ToString();
    }

    /// <summary>Starts a cloud in <paramref name="folder"/> (a new temporary one when null, deleted on dispose).</summary>
    public static async Task<CloudHarness> StartAsync(
        IDictionary<string, string?>? settings = null, string? folder = null, Action<IEndpointRouteBuilder>? mapGrpc = null, string? adminKey = null)
    {
        var ownsFolder = folder is null;
        folder ??= Directory.CreateTempSubdirectory("leaknode-cloud-test-").FullName;
        var values = Settings(folder, settings);
        var logs = new ConcurrentQueue<string>();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        CloudApplication cloud;
        try
        {
            cloud = await CloudApplication.StartAsync(
                configuration, logging => logging.AddProvider(new CollectingLoggerProvider(logs)), mapGrpc, TestContext.Current.CancellationToken);
        }
        catch when (ownsFolder)
        {
            DeleteFolder(folder);
            throw;
        }
        var key = cloud.BootstrapAdminKey ?? adminKey ?? values.GetValueOrDefault("Security:AdminKey")
            ?? throw new InvalidOperationException("no admin key: pass the one of the earlier start");
        return new CloudHarness(folder, ownsFolder, cloud, logs, new ConcurrentQueue<string>(), key);
    }

    /// <summary>A client of the REST listener that sends <paramref name="apiKey"/> (none when null).</summary>
    public HttpClient Client(string? apiKey)
    {
        var client = new HttpClient(new RecordingHandler(Responses)) { BaseAddress = Cloud.HttpUrl };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }
        return client;
    }

    /// <summary>Creates an API key with <paramref name="role"/> and returns a client that uses it.</summary>
    public async Task<HttpClient> ClientWithRoleAsync(string role)
    {
        var response = await Admin.PostAsJsonAsync("/api/v1/api-keys", new { name = "test-" + role, role }, TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        return Client(body.GetProperty("key").GetString());
    }

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        Anonymous.Dispose();
        await Cloud.DisposeAsync();
        if (_ownsFolder)
        {
            DeleteFolder(Folder);
        }
    }

    /// <summary>Deletes a test folder, and its PostgreSQL database when the tests run on one.</summary>
    public static void DeleteFolder(string folder)
    {
        if (PostgresServer is { } server)
        {
            using var connection = new Npgsql.NpgsqlConnection(server);
            connection.Open();
            using var drop = new Npgsql.NpgsqlCommand($"DROP DATABASE IF EXISTS {DatabaseName(folder)} WITH (FORCE)", connection);
            drop.ExecuteNonQuery();
        }
        // Pooled SQLite connections keep the file open until the pool lets them go.
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private sealed class RecordingHandler(ConcurrentQueue<string> responses) : DelegatingHandler(new HttpClientHandler())
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            responses.Enqueue(string.Join('\n', response.Headers.Concat(response.Content.Headers).Select(h => $"{h.Key}: {string.Join(',', h.Value)}")) + "\n" + Encoding.UTF8.GetString(body));
            // The content was read: give the caller a fresh copy to read again.
            var copy = new ByteArrayContent(body);
            foreach (var header in response.Content.Headers)
            {
                copy.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
            response.Content = copy;
            return response;
        }
    }
}
