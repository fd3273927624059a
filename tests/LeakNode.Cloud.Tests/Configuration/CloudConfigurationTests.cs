using LeakNode.Cloud.Configuration;
using Microsoft.Extensions.Configuration;

namespace LeakNode.Cloud.Tests.Configuration;

public sealed class CloudConfigurationTests
{
    private static (CloudConfiguration Configuration, IReadOnlyList<string> Problems) Load(Dictionary<string, string?> values) =>
        CloudConfiguration.Load(new ConfigurationBuilder().AddInMemoryCollection(values).Build());

    [Fact]
    public void Load_Nothing_GivesTheDocumentedDefaults()
    {
        var (configuration, problems) = Load([]);
        Assert.Empty(problems);
        Assert.Equal("http://127.0.0.1:7070", configuration.Listen.Http);
        Assert.Equal("http://127.0.0.1:7071", configuration.Listen.Grpc);
        Assert.Equal("./.leaknode", configuration.DataDir);
        Assert.Equal(StorageProvider.Sqlite, configuration.Storage.Provider);
        Assert.Equal(Path.Combine("./.leaknode", "cloud.db"), configuration.SqlitePath);
        Assert.Equal(10_000, configuration.Limits.MaxTokensPerLeak);
        Assert.Equal(500, configuration.Limits.MaxPageSize);
        Assert.Equal(90, configuration.Storage.Attacks.RetentionDays);
        Assert.Equal(7, configuration.Storage.Attacks.PartitionDaysAhead);
        Assert.Equal(TimeSpan.FromHours(1), configuration.Storage.Attacks.MaintenanceInterval);
    }

    [Fact]
    public void Load_RetentionZero_KeepsForever()
    {
        var (configuration, problems) = Load(new() { ["Storage:Attacks:RetentionDays"] = "0" });
        Assert.Empty(problems);
        Assert.Equal(0, configuration.Storage.Attacks.RetentionDays);
    }

    [Fact]
    public void Load_ExampleFile_HasNoProblemsAndTheDefaults()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(folder.FullName, "cloud.yaml.example")))
        {
            folder = folder.Parent ?? throw new InvalidOperationException("cloud.yaml.example not found above " + AppContext.BaseDirectory);
        }
        var (configuration, problems) = CloudConfiguration.Load(
            new ConfigurationBuilder().AddYamlFile(Path.Combine(folder.FullName, "cloud.yaml.example")).Build());

        Assert.Empty(problems);
        var defaults = new CloudConfiguration();
        Assert.Equal(defaults.Listen.Http, configuration.Listen.Http);
        Assert.Equal(defaults.Limits.MaxExportRows, configuration.Limits.MaxExportRows);
        Assert.Equal(defaults.Limits.MaxInventoryItemsPerRequest, configuration.Limits.MaxInventoryItemsPerRequest);
        Assert.Equal(defaults.Limits.MaxInventoryTokens, configuration.Limits.MaxInventoryTokens);
        Assert.Equal(defaults.SqlitePath, configuration.SqlitePath);
        Assert.Equal(defaults.Storage.Attacks.RetentionDays, configuration.Storage.Attacks.RetentionDays);
        Assert.Equal(defaults.Storage.Attacks.PartitionDaysAhead, configuration.Storage.Attacks.PartitionDaysAhead);
        Assert.Equal(defaults.Storage.Attacks.MaintenanceInterval, configuration.Storage.Attacks.MaintenanceInterval);
        Assert.Equal(defaults.Storage.Attacks.DeleteBatchSize, configuration.Storage.Attacks.DeleteBatchSize);
        Assert.Null(configuration.Security.MasterKey);
    }

    [Fact]
    public void Load_ProviderInAnyCase_IsAccepted()
    {
        var (configuration, problems) = Load(new() { ["Storage:Provider"] = "Postgres", ["Storage:Postgres:ConnectionString"] = "Host=db;Database=leaknode;Username=u" });
        Assert.Empty(problems);
        Assert.Equal(StorageProvider.Postgres, configuration.Storage.Provider);
    }

    public static TheoryData<string, string, string> BadValues => new()
    {
        { "Listen:Http", "not a url", "Listen:Http" },
        { "Listen:Http", "http://127.0.0.1:7070/api", "Listen:Http" },
        { "Listen:Grpc", "https://127.0.0.1:7071", "Listen:Grpc" },
        { "Listen:Grpc", "http://127.0.0.1:7070", "Listen:Grpc" },
        { "Listen:Http", "https://127.0.0.1:7443", "Listen:Certificate:Path" },
        { "Listen:ShutdownTimeout", "01:00:00", "Listen:ShutdownTimeout" },
        { "Storage:Provider", "mysql", "Storage:Provider" },
        { "Storage:Provider", "postgres", "Storage:Postgres:ConnectionString" },
        { "Storage:Sqlite:BusyTimeout", "00:00:00", "Storage:Sqlite:BusyTimeout" },
        { "Storage:Sqlite:Cache", "shared", "Storage:Sqlite:Cache" },
        { "Storage:Attacks:RetentionDays", "-1", "Storage:Attacks:RetentionDays" },
        { "Storage:Attacks:RetentionDays", "ninety", "Storage:Attacks:RetentionDays" },
        { "Storage:Attacks:PartitionDaysAhead", "0", "Storage:Attacks:PartitionDaysAhead" },
        { "Storage:Attacks:MaintenanceInterval", "2.00:00:00", "Storage:Attacks:MaintenanceInterval" },
        { "Storage:Attacks:DeleteBatchSize", "10", "Storage:Attacks:DeleteBatchSize" },
        { "Storage:Attacks:Partitions", "weekly", "Storage:Attacks:Partitions" },
        { "Security:MasterKey", "not base64!", "Security:MasterKey" },
        { "Security:MasterKey", "AAAA", "Security:MasterKey" },
        { "Security:AdminKey", "short", "Security:AdminKey" },
        { "Security:Pepper", "x", "Security:Pepper" },
        { "Limits:MaxTokensPerLeak", "0", "Limits:MaxTokensPerLeak" },
        { "Limits:MaxTokenLength", "7", "Limits:MaxTokenLength" },
        { "Limits:MaxTokenLength", "70000", "Limits:MaxTokenLength" },
        { "Limits:MaxNameLength", "0", "Limits:MaxNameLength" },
        { "Limits:DefaultPageSize", "600", "Limits:DefaultPageSize" },
        { "Limits:MaxPageSize", "many", "Limits:MaxPageSize" },
        { "Limits:RuleChangeLogSize", "0", "Limits:RuleChangeLogSize" },
        { "Limits:MaxInventoryItemsPerRequest", "0", "Limits:MaxInventoryItemsPerRequest" },
        { "Limits:MaxInventoryTokens", "5000000", "Limits:MaxInventoryTokens" },
        { "DataDir", " ", "DataDir" },
        { "Listen", "7070", "Listen" },
    };

    [Theory]
    [MemberData(nameof(BadValues))]
    public void Load_BadValue_NamesTheKey(string key, string value, string named)
    {
        var (_, problems) = Load(new() { [key] = value });
        Assert.Contains(problems, p => p.StartsWith(named + ":", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_ManyProblems_ListsEveryOne()
    {
        var (_, problems) = Load(new()
        {
            ["Listen:Http"] = "x",
            ["Limits:MaxPageSize"] = "0",
            ["Security:MasterKey"] = "x",
            ["Storage:Provider"] = "postgres",
        });
        Assert.True(problems.Count >= 4, string.Join('\n', problems));
    }
}
