using LeakNode.Node.Configuration;
using LeakNode.Node.Tests.Support;
using LeakNode.Testing;
using Microsoft.Extensions.Configuration;

namespace LeakNode.Node.Tests.Configuration;

public sealed class NodeConfigurationTests
{
    private static IConfiguration Config(Dictionary<string, string?> values) => new ConfigurationBuilder().AddInMemoryCollection(values).Build();

    [Fact]
    public async Task StartAsync_ManyProblems_ListsEveryOneByKey()
    {
        var configuration = Config(new()
        {
            ["Node:Mode"] = "blok",
            ["Node:Nmae"] = "typo",
            ["Rules:File"] = "/no/such/rules.yaml",
            ["Listen:Proxy"] = "ftp://x",
            ["Listen:Admin"] = "http://127.0.0.1:9090/admin",
            ["Inspection:MaxBodyBytes"] = "-1",
            ["Inspection:BodyTooLarge"] = "truncate",
            ["Inspection:MaxDecodedRatio"] = "0",
            ["Network:TrustedProxies:0"] = "10.0.0.0/8",
            ["Network:TrustedProxies:1"] = "not-an-ip",
            ["Events:QueueCapacity"] = "0",
        });

        var error = await Assert.ThrowsAsync<NodeStartupException>(() => NodeApplication.StartAsync(configuration, cancellationToken: TestContext.Current.CancellationToken));

        string[] expected =
        [
            "Node:Mode:", "Node:Nmae: unknown setting", "Rules:File: no file at '/no/such/rules.yaml'", "Listen:Proxy: 'ftp://x'",
            "Listen:Admin: 'http://127.0.0.1:9090/admin' has a path", "Inspection:MaxBodyBytes: must be between", "Inspection:BodyTooLarge:",
            "Inspection:MaxDecodedRatio: must be at least 1", "Network:TrustedProxies:1: 'not-an-ip'", "Events:QueueCapacity: must be between",
            "ReverseProxy:Routes: no route", "ReverseProxy:Clusters: no cluster",
        ];
        foreach (var problem in expected)
        {
            Assert.Contains(error.Problems, p => p.StartsWith(problem, StringComparison.Ordinal));
        }
        Assert.Equal(expected.Length, error.Problems.Count);
    }

    [Fact]
    public async Task StartAsync_NoRulesNoCloud_RefusedWithAdvice()
    {
        var error = await Assert.ThrowsAsync<NodeStartupException>(() => NodeApplication.StartAsync(Config(new()
        {
            ["ReverseProxy:Routes:all:ClusterId"] = "app",
            ["ReverseProxy:Routes:all:Match:Path"] = "{**catch-all}",
            ["ReverseProxy:Clusters:app:Destinations:d1:Address"] = "http://127.0.0.1:1/",
        }), cancellationToken: TestContext.Current.CancellationToken));

        Assert.Contains(error.Problems, p => p.Contains("neither is set", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StartAsync_BrokenRuleFile_RefusedWithProblemsAndNoTokenInThem()
    {
        var folder = Directory.CreateTempSubdirectory("leaknode-config-test-").FullName;
        var rules = Path.Combine(folder, "rules.yaml");
        await File.WriteAllTextAsync(rules, "leaks:\n  - id: a\n    tokens: [ 'short', 'ghp_okTokenOfFortyCharacters000000000000' ]\n  - id: a\n    tokens: []\n  - name: no id\n", TestContext.Current.CancellationToken);

        var error = await Assert.ThrowsAsync<NodeStartupException>(() => NodeApplication.StartAsync(Config(new()
        {
            ["Rules:File"] = rules,
            ["StateDir"] = Path.Combine(folder, "state"),
            ["Listen:Proxy"] = "http://127.0.0.1:0",
            ["Listen:Admin"] = "http://127.0.0.1:0",
            ["ReverseProxy:Routes:all:ClusterId"] = "app",
            ["ReverseProxy:Routes:all:Match:Path"] = "{**catch-all}",
            ["ReverseProxy:Clusters:app:Destinations:d1:Address"] = "http://127.0.0.1:1/",
        }), cancellationToken: TestContext.Current.CancellationToken));

        Assert.Contains(error.Problems, p => p.Contains("leak 'a': tokens[0] has 5 bytes", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("leak 'a': the id is used twice", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("leaks[2]: has no id", StringComparison.Ordinal));
        Assert.DoesNotContain("short", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("ghp_okToken", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExampleConfiguration_AsShipped_StartsAndBlocksTheExampleToken()
    {
        // node.yaml.example and rules.yaml.example as they are in the repository; only the listeners' ports, the
        // upstream's port and the state folder are moved out of the way (environment overrides, as a user would).
        await using var upstream = await Upstream.StartAsync();
        var state = Directory.CreateTempSubdirectory("leaknode-example-").FullName;
        var example = new ConfigurationBuilder()
            .AddConfiguration(NodeConfigurationSources.Build(Repository.File("node.yaml.example")))
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Rules:File"] = Repository.File("rules.yaml.example"),
                ["Listen:Proxy"] = "http://127.0.0.1:0",
                ["Listen:Admin"] = "http://127.0.0.1:0",
                ["StateDir"] = state,
                ["ReverseProxy:Clusters:app:Destinations:d1:Address"] = upstream.Url.ToString(),
            })
            .Build();

        await using var node = await NodeApplication.StartAsync(example, cancellationToken: TestContext.Current.CancellationToken);
        using var client = new HttpClient { BaseAddress = node.ProxyUrl };

        using var clean = await client.GetAsync("/hello", TestContext.Current.CancellationToken);
        using var leaked = await client.GetAsync("/hello?token=ghp_EXAMPLEnotARealToken0000000000000000", TestContext.Current.CancellationToken);

        Assert.Equal(System.Net.HttpStatusCode.OK, clean.StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, leaked.StatusCode);
        Assert.Equal("edge-1", node.Configuration.Node.Name);
    }

    [Fact]
    public void Build_EnvironmentVariable_OverridesTheFile()
    {
        Environment.SetEnvironmentVariable("LEAKNODE_Inspection__MaxBodyBytes", "2097152");
        try
        {
            var configuration = NodeConfigurationSources.Build(Repository.File("node.yaml.example"));

            var (settings, _) = NodeConfiguration.Load(configuration);

            Assert.Equal(2_097_152, settings.Inspection.MaxBodyBytes);
            Assert.Equal(BodyTooLargePolicy.Reject, settings.Inspection.BodyTooLarge);
        }
        finally
        {
            Environment.SetEnvironmentVariable("LEAKNODE_Inspection__MaxBodyBytes", null);
        }
    }
}
