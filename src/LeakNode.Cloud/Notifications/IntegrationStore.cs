using System.Data.Common;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dapper;
using LeakNode.Cloud.Leaks;
using LeakNode.Cloud.Security;
using LeakNode.Cloud.Storage;

namespace LeakNode.Cloud.Notifications;

/// <summary>A channel as stored, its secrets opened: for the sender and for merging a change. Never leaves the cloud.</summary>
internal sealed record StoredIntegration(
    string Id, string Name, string Kind, bool Enabled, IReadOnlyList<string> EventList, int MinRisk, int RateCount, int RateWindow,
    IntegrationSettings Settings, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    /// <summary>The API's view: secrets only as "set" and, for URLs, scheme and host.</summary>
    public IntegrationView View()
    {
        var settings = new SortedDictionary<string, object>(StringComparer.Ordinal);
        var secrets = new SortedDictionary<string, SecretView>(StringComparer.Ordinal);
        foreach (var field in SettingFields.Of(Kind))
        {
            var value = field.Get(Settings);
            if (field.Secret)
            {
                secrets[field.Name] = new SecretView(value is not null, value is string text ? UrlHint(text) : null);
            }
            else if (value is not null)
            {
                settings[field.Name] = value;
            }
        }
        return new IntegrationView(
            Id, Name, Kind, Enabled, EventList, RiskLevels.Of(MinRisk), RateCount > 0 ? new AttemptRateView(RateCount, RateWindow) : null,
            settings, secrets, CreatedAt, UpdatedAt);
    }

    // The host says which service a webhook goes to; the path is where such URLs keep their secret.
    private static string? UrlHint(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? $"{uri.Scheme}://{uri.Authority}/…"
            : null;
}

/// <summary>What the outbox needs of a channel to decide whether an event goes to it: no settings, no secrets.</summary>
internal sealed record ChannelFilter(string Id, IReadOnlyList<string> Events, int MinRisk, int RateCount, int RateWindow)
{
    public bool Wants(string kind, int? risk) =>
        Events.Contains(kind) && (risk is null || !NotificationKinds.IsAboutLeak(kind) || risk >= MinRisk);
}

/// <summary>
/// Notification channels in the <c>integrations</c> table. Settings are stored as JSON in the clear, secrets as one
/// JSON object sealed with the master key and bound to the channel's id.
/// </summary>
internal sealed class IntegrationStore(CloudDatabase database, SecretBox box, TimeProvider clock)
{
    private const string Columns = "id, name, kind, enabled, events, min_risk, rate_count, rate_window, settings, secrets, created_at, updated_at";

    private static readonly JsonSerializerOptions StoredJson = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public Task<IReadOnlyList<StoredIntegration>> ListAsync(CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<StoredIntegration>>(async (connection, transaction) =>
            (await connection.QueryAsync<Row>($"SELECT {Columns} FROM integrations ORDER BY created_at, id", transaction: transaction)).Select(Open).ToList(),
            cancellationToken);

    public Task<StoredIntegration?> GetAsync(string id, CancellationToken cancellationToken) =>
        database.ReadAsync((connection, transaction) => GetAsync(connection, transaction, id), cancellationToken);

    public async Task<StoredIntegration?> GetAsync(DbConnection connection, DbTransaction transaction, string id)
    {
        var row = await connection.QuerySingleOrDefaultAsync<Row>($"SELECT {Columns} FROM integrations WHERE id = @id", new { id }, transaction);
        return row is null ? null : Open(row);
    }

    /// <summary>Creates a channel; null when <paramref name="maxChannels"/> exist already.</summary>
    public async Task<StoredIntegration?> CreateAsync(ValidIntegration channel, int maxChannels, CancellationToken cancellationToken)
    {
        var id = Ids.New("ig_");
        var now = Ids.Now(clock);
        var created = await database.WriteAsync(async (connection, transaction) =>
        {
            if (await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM integrations", transaction: transaction) >= maxChannels)
            {
                return false;
            }
            await connection.ExecuteAsync(
                $"INSERT INTO integrations ({Columns}) VALUES (@Id, @Name, @Kind, @Enabled, @Events, @MinRisk, @RateCount, @RateWindow, @Settings, @Secrets, @CreatedAt, @UpdatedAt)",
                ToRow(id, channel, now, now), transaction);
            return true;
        }, cancellationToken);
        return created ? await GetAsync(id, cancellationToken) : null;
    }

    /// <summary>Replaces a channel's fields with <paramref name="channel"/> (already merged with the stored ones); false when it is gone.</summary>
    public async Task<bool> UpdateAsync(string id, ValidIntegration channel, DateTimeOffset createdAt, CancellationToken cancellationToken)
    {
        var row = ToRow(id, channel, createdAt.ToUnixTimeMilliseconds(), Ids.Now(clock));
        var changed = await database.WriteAsync(
            (connection, transaction) => connection.ExecuteAsync(
                """
                UPDATE integrations SET name = @Name, enabled = @Enabled, events = @Events, min_risk = @MinRisk, rate_count = @RateCount,
                    rate_window = @RateWindow, settings = @Settings, secrets = @Secrets, updated_at = @UpdatedAt
                WHERE id = @Id
                """, row, transaction),
            cancellationToken);
        return changed > 0;
    }

    /// <summary>Deletes a channel with its delivery log and anything still waiting to be sent to it.</summary>
    public Task<bool> DeleteAsync(string id, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            var deleted = await connection.ExecuteAsync("DELETE FROM integrations WHERE id = @id", new { id }, transaction);
            await connection.ExecuteAsync("DELETE FROM notification_deliveries WHERE integration_id = @id", new { id }, transaction);
            await connection.ExecuteAsync("DELETE FROM attempt_rate_alerts WHERE integration_id = @id", new { id }, transaction);
            return deleted > 0;
        }, cancellationToken);

    /// <summary>The enabled channels, as filters: read inside the transaction of the change they are told about.</summary>
    public static async Task<IReadOnlyList<ChannelFilter>> EnabledAsync(DbConnection connection, DbTransaction transaction)
    {
        var rows = await connection.QueryAsync<(string Id, string Events, long MinRisk, long RateCount, long RateWindow)>(
            "SELECT id, events, min_risk, rate_count, rate_window FROM integrations WHERE enabled = 1", transaction: transaction);
        return rows.Select(r => new ChannelFilter(r.Id, SplitEvents(r.Events), (int)r.MinRisk, (int)r.RateCount, (int)r.RateWindow)).ToList();
    }

    internal static string SecretContext(string id) => "leaknode/integration/" + id;

    private static string[] SplitEvents(string events) => events.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    private Row ToRow(string id, ValidIntegration channel, long createdAt, long updatedAt) => new()
    {
        Id = id,
        Name = channel.Name,
        Kind = channel.Kind,
        Enabled = channel.Enabled ? 1 : 0,
        Events = string.Join(' ', channel.Events),
        MinRisk = channel.MinRisk,
        RateCount = channel.RateCount,
        RateWindow = channel.RateWindow,
        Settings = JsonSerializer.Serialize(SettingFields.Public(channel.Settings), StoredJson),
        Secrets = box.Seal(JsonSerializer.Serialize(SettingFields.Secrets(channel.Settings), StoredJson), SecretContext(id)),
        CreatedAt = createdAt,
        UpdatedAt = updatedAt,
    };

    private StoredIntegration Open(Row row)
    {
        var settings = JsonSerializer.Deserialize<IntegrationSettings>(row.Settings, StoredJson) ?? new IntegrationSettings();
        var secretBytes = box.Open(row.Secrets, SecretContext(row.Id));
        IntegrationSettings secrets;
        try
        {
            secrets = JsonSerializer.Deserialize<IntegrationSettings>(secretBytes, StoredJson) ?? new IntegrationSettings();
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(secretBytes);
        }
        settings = settings with
        {
            Password = secrets.Password, WebhookUrl = secrets.WebhookUrl, BotToken = secrets.BotToken, Url = secrets.Url, Secret = secrets.Secret,
        };
        return new StoredIntegration(
            row.Id, row.Name, row.Kind, row.Enabled != 0, SplitEvents(row.Events), (int)row.MinRisk, (int)row.RateCount, (int)row.RateWindow, settings,
            Ids.Time(row.CreatedAt), Ids.Time(row.UpdatedAt));
    }

    private sealed class Row
    {
        public string Id { get; set; } = "";

        public string Name { get; set; } = "";

        public string Kind { get; set; } = "";

        public long Enabled { get; set; }

        public string Events { get; set; } = "";

        public long MinRisk { get; set; }

        public long RateCount { get; set; }

        public long RateWindow { get; set; }

        public string Settings { get; set; } = "";

        public string Secrets { get; set; } = "";

        public long CreatedAt { get; set; }

        public long UpdatedAt { get; set; }
    }
}
