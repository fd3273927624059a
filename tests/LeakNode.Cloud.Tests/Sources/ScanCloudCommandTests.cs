using System.Net;
using LeakNode.Cloud.Tests.Support;
using LeakNode.Scanner.Tests.Support;
using LeakNode.Testing.Processes;

namespace LeakNode.Cloud.Tests.Sources;

/// <summary><c>leaknode scan --cloud URL</c> as a real process against a real cloud: what it finds becomes leaks there.</summary>
public sealed class ScanCloudCommandTests
{
    [Fact]
    public async Task ScanRepository_FilesLeaksNamedByTheRemote_RescanAddsNothing()
    {
        await using var cloud = await CloudHarness.StartAsync();
        using var repository = new GitRepository();
        repository.Run("remote", "add", "origin", "https://deploy:s3cr3t-in-url@github.com/example-org/app.git");
        var secrets = new SecretFactory(31);
        var (a, b) = (secrets.GitHubStyle("gh" + "p_"), secrets.Tokens["stripe-live-secret-key"]());
        repository.Write(".env", $"GITHUB_TOKEN={a}\nSTRIPE_KEY={b}\n");
        var commit = repository.Commit("config");
        var report = Path.Combine(repository.Path, "..", Path.GetFileName(repository.Path) + ".json");

        var (exit, _, stderr) = await RunAsync(cloud, cloud.AdminKey, "scan", repository.Path, "--cloud", cloud.Cloud.HttpUrl.ToString(), "--output", report);

        Assert.True(exit == 1, $"exit {exit}: {stderr}");
        Assert.Contains("2 findings filed in 1 leaks: 1 new, 0 updated", stderr, StringComparison.Ordinal);
        var leak = Assert.Single(await FindingsApiTests.LeaksAsync(cloud.Admin));
        Assert.Equal(2, leak.GetProperty("tokenCount").GetInt32());
        var place = Assert.Single(leak.GetProperty("sources").EnumerateArray());
        Assert.Equal(("github", "https://github.com/example-org/app.git"), (place.Str("kind"), place.Str("url")));
        Assert.Equal($".env:1@{commit[..12]}", place.Str("location"));
        Assert.Contains(leak.GetProperty("risk").GetProperty("reasons").EnumerateArray(), r => r.GetString()!.StartsWith("still present at HEAD", StringComparison.Ordinal));
        Assert.DoesNotContain(cloud.Responses, r => r.Contains("s3cr3t-in-url", StringComparison.Ordinal));

        var again = await RunAsync(cloud, cloud.AdminKey, "scan", repository.Path, "--cloud", cloud.Cloud.HttpUrl.ToString(), "--format", "json");
        Assert.Contains("2 findings filed in 1 leaks: 0 new, 0 updated", again.Stderr, StringComparison.Ordinal);
        File.Delete(report);
    }

    [Fact]
    public async Task ScanFolder_WatchesForTheCloudsInventory()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var issued = "corp-svc-" + new SecretFactory(32).Chars("abcdefghijklmnopqrstuvwxyz0123456789", 32);
        Assert.Equal(HttpStatusCode.Created, (await cloud.Admin.PostJsonAsync("/api/v1/inventory", new { tokens = new[] { issued } })).Status);
        using var folder = new TempFolder();
        folder.Write("runbook.txt", $"emergency key: {issued}\n");

        var (exit, stdout, stderr) = await RunAsync(cloud, cloud.AdminKey, "scan", folder.Path, "--cloud", cloud.Cloud.HttpUrl.ToString());

        Assert.True(exit == 1, $"exit {exit}: {stderr}");
        Assert.Contains("inventory", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(issued, stdout, StringComparison.Ordinal);
        var leak = Assert.Single(await FindingsApiTests.LeaksAsync(cloud.Admin));
        Assert.True(leak.GetProperty("risk").GetProperty("score").GetInt32() >= 9);
        Assert.Equal(("file", folder.Path), (leak.GetProperty("sources")[0].Str("kind"), leak.GetProperty("sources")[0].Str("url")));
    }

    [Fact]
    public async Task WrongKey_Exit2_SaysWhy()
    {
        await using var cloud = await CloudHarness.StartAsync();
        using var folder = new TempFolder();
        folder.Write("a.txt", "nothing here\n");

        var (exit, _, stderr) = await RunAsync(cloud, "lnk_not-a-key", "scan", folder.Path, "--cloud", cloud.Cloud.HttpUrl.ToString());

        Assert.Equal(2, exit);
        Assert.Contains("401", stderr, StringComparison.Ordinal);
        Assert.Contains("--api-key", stderr, StringComparison.Ordinal);
        var (noKey, _, missing) = await LeakNodeProcess.RunAsync(["scan", folder.Path, "--cloud", cloud.Cloud.HttpUrl.ToString()], new Dictionary<string, string> { ["LEAKNODE_API_KEY"] = "" });
        Assert.Equal(2, noKey);
        Assert.Contains("--api-key KEY", missing, StringComparison.Ordinal);
    }

    private static Task<(int Exit, string Stdout, string Stderr)> RunAsync(CloudHarness cloud, string key, params string[] arguments) =>
        LeakNodeProcess.RunAsync(arguments, new Dictionary<string, string> { ["LEAKNODE_API_KEY"] = key });
}
