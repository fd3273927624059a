using System.Net;
using LeakNode.Node.Tests.Support;

namespace LeakNode.Node.Tests.Rules;

public sealed class RuleReloadTests
{
    private const string First = "ghp_firstLeakedToken00000000000000000001";
    private const string Second = "sk_live_secondLeakedToken0000000000002";

    [Fact]
    public async Task RuleFile_Changed_NewRulesTakeEffect()
    {
        await using var node = await NodeHarness.StartAsync([("first", "block", [First])]);
        using var before = await node.Client.GetAsync("/x?k=" + Second, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, before.StatusCode);

        await File.WriteAllTextAsync(node.RuleFile, NodeHarness.RulesYaml([("first", "block", [First]), ("second", "block", [Second])]), TestContext.Current.CancellationToken);

        await Eventually(async () =>
        {
            using var after = await node.Client.GetAsync("/x?k=" + Second, TestContext.Current.CancellationToken);
            return after.StatusCode == HttpStatusCode.Forbidden;
        });
        var status = await node.Admin.GetStringAsync("/status", TestContext.Current.CancellationToken);
        Assert.Contains("\"version\":2", status, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RuleFile_ReplacedByBrokenFile_PreviousRulesStayAndTheProblemIsLogged()
    {
        await using var node = await NodeHarness.StartAsync([("first", "block", [First])]);

        await File.WriteAllTextAsync(node.RuleFile, "leaks:\n  - id: broken\n    tokens: ['short']\n", TestContext.Current.CancellationToken);
        await Eventually(() => Task.FromResult(node.Logs.Any(l => l.Contains("refused", StringComparison.Ordinal) && l.Contains("tokens[0] has 5 bytes", StringComparison.Ordinal))));

        using var response = await node.Client.GetAsync("/x?k=" + First, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.DoesNotContain(node.Logs, l => l.Contains("'short'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RuleFile_ReplacedByRename_Reloaded()
    {
        // Editors and Kubernetes ConfigMaps replace a file rather than write it in place.
        await using var node = await NodeHarness.StartAsync([("first", "block", [First])]);
        var staged = Path.Combine(node.Folder, "rules.yaml.new");
        await File.WriteAllTextAsync(staged, NodeHarness.RulesYaml([("second", "block", [Second])]), TestContext.Current.CancellationToken);

        File.Move(staged, node.RuleFile, overwrite: true);

        await Eventually(async () =>
        {
            using var response = await node.Client.GetAsync("/x?k=" + Second, TestContext.Current.CancellationToken);
            return response.StatusCode == HttpStatusCode.Forbidden;
        });
        using var old = await node.Client.GetAsync("/x?k=" + First, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, old.StatusCode);
    }

    internal static async Task Eventually(Func<Task<bool>> condition, int seconds = 10)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"not true within {seconds} s");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }
}
