using LeakNode.Node.Configuration;
using Microsoft.Extensions.Configuration;

namespace LeakNode.Node.Tests.Configuration;

public sealed class CloudConfigurationTests
{
    private static IReadOnlyList<string> Problems(Dictionary<string, string?> values)
    {
        values["ReverseProxy:Routes:all:ClusterId"] = "app";
        values["ReverseProxy:Routes:all:Match:Path"] = "{**catch-all}";
        values["ReverseProxy:Clusters:app:Destinations:d1:Address"] = "http://127.0.0.1:1/";
        return NodeConfiguration.Load(new ConfigurationBuilder().AddInMemoryCollection(values).Build()).Problems;
    }

    [Fact]
    public void Load_CloudWithDefaults_NoProblems()
    {
        var values = new Dictionary<string, string?> { ["Cloud:GrpcUrl"] = "http://127.0.0.1:7071", ["Cloud:Token"] = "tok-123" };

        Assert.Empty(Problems(values));
        var (settings, _) = NodeConfiguration.Load(new ConfigurationBuilder().AddInMemoryCollection(values).Build());
        Assert.Equal(TimeSpan.FromSeconds(1), settings.Cloud.ReconnectInitialDelay);
        Assert.Equal(TimeSpan.FromMinutes(1), settings.Cloud.ReconnectMaxDelay);
        Assert.Equal(64L << 20, settings.Events.SpoolMaxBytes);
        Assert.Equal(500, settings.Events.BatchSize);
    }

    [Fact]
    public void Load_ReplicasInGrpcUrls_AreEndpointsInOrderEachOnce()
    {
        var (settings, problems) = NodeConfiguration.Load(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Cloud:GrpcUrl"] = "http://a:7071",
            ["Cloud:GrpcUrls:0"] = "https://b:7071",
            ["Cloud:GrpcUrls:1"] = "http://a:7071",
            ["Cloud:Token"] = "tok-123",
        }).Build());

        Assert.DoesNotContain(problems, p => p.StartsWith("Cloud", StringComparison.Ordinal));
        Assert.Equal(["http://a:7071", "https://b:7071"], settings.Cloud.Endpoints);
    }

    [Fact]
    public void Load_EveryCloudProblem_ListedAtOnceByKey()
    {
        var problems = Problems(new()
        {
            ["Cloud:GrpcUrl"] = "grpc://cloud:7071",
            ["Cloud:GrpcUrls:0"] = "http://cloud:7071/path",
            ["Cloud:ReconnectInitialDelay"] = "00:00:05",
            ["Cloud:ReconnectMaxDelay"] = "00:00:01",
            ["Cloud:ConnectTimeout"] = "00:00:00",
            ["Cloud:KeepAliveInterval"] = "00:00:00",
            ["Events:SpoolMaxBytes"] = "10",
            ["Events:BatchSize"] = "0",
            ["Events:BatchInterval"] = "00:00:00",
            ["Events:AckTimeout"] = "00:00:00",
        });

        string[] expected =
        [
            "Cloud:GrpcUrl: 'grpc://cloud:7071' is not an http:// or https:// URL", "Cloud:GrpcUrls:0: 'http://cloud:7071/path' has a path",
            "Cloud:Token: required with Cloud:GrpcUrl", "Cloud:ReconnectMaxDelay:", "Cloud:ConnectTimeout:", "Cloud:KeepAliveInterval:",
            "Events:SpoolMaxBytes:", "Events:BatchSize:", "Events:BatchInterval:", "Events:AckTimeout:",
        ];
        foreach (var problem in expected)
        {
            Assert.Contains(problems, p => p.StartsWith(problem, StringComparison.Ordinal));
        }
        Assert.Equal(expected.Length, problems.Count);
    }

    [Fact]
    public void Load_CloudAndRuleFile_RefusedWithAdvice()
    {
        var file = Path.GetTempFileName();
        try
        {
            var problems = Problems(new() { ["Cloud:GrpcUrl"] = "http://127.0.0.1:7071", ["Cloud:Token"] = "tok-123", ["Rules:File"] = file });

            var problem = Assert.Single(problems);
            Assert.Contains("both are set", problem, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Load_TokenWithoutUrl_Refused()
    {
        Assert.Contains(Problems(new() { ["Cloud:Token"] = "tok-123" }), p => p.StartsWith("Cloud:Token: set, but no Cloud:GrpcUrl", StringComparison.Ordinal));
    }
}
