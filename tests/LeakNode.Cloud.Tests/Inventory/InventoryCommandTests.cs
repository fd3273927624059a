using System.Net;
using System.Text.Json;
using LeakNode.Cloud.Tests.Support;
using LeakNode.Matching.Digests;
using LeakNode.Testing.Processes;
using static LeakNode.Cloud.Tests.Inventory.InventoryTestKit;
using LeakNode.Scanner.Tests.Support;

namespace LeakNode.Cloud.Tests.Inventory;

/// <summary>
/// <c>leaknode inventory key|digest|add</c> and <c>leaknode scan --inventory</c> as real processes against a real
/// cloud: what the helper writes is what the API takes, and a scan finds an inventory token offline.
/// </summary>
public sealed class InventoryCommandTests : IDisposable
{
    private readonly Tokens _tokens = new(seed: 8104);
    private readonly TempFolder _folder = new();

    [Fact]
    public async Task Digest_KeyFetchedFromTheCloud_OutputIsABodyTheApiTakes()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var tokens = _tokens.Next(3);
        var input = _folder.Write("tokens.txt", $"{tokens[0]}\n\n  {tokens[1]}  \r\n{tokens[2]}\n{tokens[0]}\n");
        var output = Path.Combine(_folder.Path, "digests.json");

        var (exit, stdout, stderr) = await RunAsync(cloud, "inventory", "digest", input, "--cloud", cloud.Cloud.HttpUrl.ToString(), "--label", "ci", "--output", output);

        Assert.True(exit == 0, stderr);
        Assert.Empty(stdout);
        var (keyId, _) = await cloud.KeyAsync();
        Assert.Contains($"3 tokens digested with inventory key {keyId}", stderr, StringComparison.Ordinal);
        var json = await File.ReadAllTextAsync(output, CloudApi.Ct);
        Assert.All(tokens, t => Assert.DoesNotContain(t, json, StringComparison.Ordinal));
        using (var document = JsonDocument.Parse(json))
        {
            Assert.False(document.RootElement.TryGetProperty("key", out _), "a digests file never holds the key");
            Assert.Equal(keyId, document.RootElement.Str("keyId"));
        }
        var (status, result) = await cloud.Admin.PostRawAsync(Endpoint, json);
        Assert.Equal(HttpStatusCode.Created, status);
        AssertCounts(result, added: 3, skipped: 0, total: 3);
        var (_, page) = await cloud.Admin.GetJsonAsync(Endpoint);
        Assert.All(page.GetProperty("items").EnumerateArray(), i => Assert.Equal("ci", i.Str("label")));
        // The same tokens in plaintext: the helper digested them exactly as the cloud does.
        var (_, again) = await cloud.Admin.PostJsonAsync(Endpoint, new { tokens });
        AssertCounts(again, added: 0, skipped: 3, total: 3);
    }

    [Fact]
    public async Task KeyFile_DigestOffline_Upload_ThenScanInventory_FindsTheToken()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var tokens = _tokens.Next(4);
        var input = _folder.Write("tokens.txt", string.Join('\n', tokens));
        var keyFile = Path.Combine(_folder.Path, "inventory.key");
        var digests = Path.Combine(_folder.Path, "digests.json");
        var url = cloud.Cloud.HttpUrl.ToString();

        var key = await RunAsync(cloud, "inventory", "key", "--cloud", url, "--output", keyFile);
        var offline = await RunAsync(cloud, "inventory", "digest", input, "--key-file", keyFile, "--output", digests);
        var upload = await RunAsync(cloud, "inventory", "digest", input, "--key-file", keyFile, "--cloud", url, "--upload");
        var add = await RunAsync(cloud, "inventory", "add", input, "--cloud", url);

        Assert.True(key.Exit == 0, key.Stderr);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
        }
        Assert.True(offline.Exit == 0, offline.Stderr);
        Assert.True(upload.Exit == 0, upload.Stderr);
        Assert.Contains("4 added, 0 already there; the inventory holds 4", upload.Stderr, StringComparison.Ordinal);
        Assert.True(add.Exit == 0, add.Stderr);
        Assert.Contains("0 added, 4 already there", add.Stderr, StringComparison.Ordinal);

        var leaked = tokens[2];
        _folder.Write("repo/src/settings.py", $"import os\nAPI_TOKEN = \"{leaked}\"  # TODO move to vault\n");
        var repo = Path.Combine(_folder.Path, "repo");
        var scan = await RunAsync(cloud, "scan", repo, "--inventory", digests, "--inventory-key", keyFile, "--format", "json");
        var noKey = await RunAsync(cloud, "scan", repo, "--inventory", digests);

        Assert.True(scan.Exit == 1, scan.Stdout + scan.Stderr);
        using var report = JsonDocument.Parse(scan.Stdout);
        var finding = Assert.Single(report.RootElement.GetProperty("findings").EnumerateArray(), f => f.Str("kind") == "inventory");
        Assert.Equal("critical", finding.Str("severity"));
        Assert.Equal("src/settings.py", finding.Str("path"));
        Assert.Equal(2, finding.GetProperty("startLine").GetInt32());
        Assert.DoesNotContain(leaked, scan.Stdout, StringComparison.Ordinal);
        // A digest made offline has no id of the cloud's: its fingerprint names it, as the cloud's list does.
        var (_, page) = await cloud.Admin.GetJsonAsync(Endpoint);
        Assert.Contains(page.GetProperty("items").EnumerateArray(), i => i.Str("fingerprint") == finding.Str("tokenId"));
        Assert.Equal(2, noKey.Exit);
        Assert.Contains("--inventory-key", noKey.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ScanInventory_TheCloudsExport_HoldsTheKey_FindingNamesTheInventoryId()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var tokens = _tokens.Next(3);
        await cloud.Admin.PostJsonAsync(Endpoint, new { tokens });
        using (var response = await cloud.Admin.GetAsync(Endpoint + "/digests", CloudApi.Ct))
        {
            _folder.Write("inventory.json", await response.Content.ReadAsStringAsync(CloudApi.Ct));
        }
        _folder.Write("site/index.html", $"<script>fetch('/api', {{headers: {{'X-Api-Key': '{tokens[1]}'}}}})</script>\n");

        var (exit, stdout, stderr) = await RunAsync(cloud, "scan", Path.Combine(_folder.Path, "site"), "--inventory", Path.Combine(_folder.Path, "inventory.json"), "--format", "json");

        Assert.True(exit == 1, stdout + stderr);
        using var report = JsonDocument.Parse(stdout);
        var finding = Assert.Single(report.RootElement.GetProperty("findings").EnumerateArray(), f => f.Str("kind") == "inventory");
        var (_, page) = await cloud.Admin.GetJsonAsync(Endpoint);
        Assert.Contains(page.GetProperty("items").EnumerateArray(), i => i.Str("id") == finding.Str("tokenId"));
    }

    [Fact]
    public async Task Digest_LinesThatAreNotTokens_Exit2NamingTheLinesNeverTheText()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var input = _folder.Write("tokens.txt", $"{_tokens.Next()}\nabc1234\n{_tokens.Next()}\nxyz\u0007secretpart\n");

        var (exit, stdout, stderr) = await RunAsync(cloud, "inventory", "digest", input, "--cloud", cloud.Cloud.HttpUrl.ToString());

        Assert.Equal(2, exit);
        Assert.Empty(stdout);
        Assert.Contains("line 2: shorter than 8 bytes", stderr, StringComparison.Ordinal);
        Assert.Contains("line 4: holds a control character", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("abc1234", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("secretpart", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Digest_KeyOfAnotherCloud_UploadRefusedWithTheCloudsWord()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var (keyId, _) = await cloud.KeyAsync();
        var bytes = DigestKey.GenerateBytes();
        var keyFile = _folder.Write("other.key", JsonSerializer.Serialize(new { keyId = Protocol.RuleMapping.KeyId(bytes), key = Convert.ToBase64String(bytes) }));
        var input = _folder.Write("tokens.txt", _tokens.Next());

        var (exit, _, stderr) = await RunAsync(cloud, "inventory", "digest", input, "--key-file", keyFile, "--cloud", cloud.Cloud.HttpUrl.ToString(), "--upload");

        Assert.Equal(2, exit);
        Assert.Contains("400", stderr, StringComparison.Ordinal);
        Assert.Contains($"the inventory key is '{keyId}'", stderr, StringComparison.Ordinal);
        Assert.Equal(0, await cloud.InventoryTotalAsync());
    }

    [Theory]
    [InlineData("wrong-api-key-0000", "401")]
    [InlineData(null, "LEAKNODE_API_KEY")]
    public async Task Key_WithoutAGoodApiKey_Exit2SayingWhy(string? apiKey, string expected)
    {
        await using var cloud = await CloudHarness.StartAsync();
        var keyFile = Path.Combine(_folder.Path, "inventory.key");

        var (exit, _, stderr) = await LeakNodeProcess.RunAsync(
            ["inventory", "key", "--cloud", cloud.Cloud.HttpUrl.ToString(), "--output", keyFile],
            apiKey is null ? null : new Dictionary<string, string> { ["LEAKNODE_API_KEY"] = apiKey });

        Assert.Equal(2, exit);
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(keyFile));
    }

    [Fact]
    public async Task ScanInventory_KeyFileOfAnotherKey_Exit2()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var url = cloud.Cloud.HttpUrl.ToString();
        var input = _folder.Write("tokens.txt", _tokens.Next());
        var digests = Path.Combine(_folder.Path, "digests.json");
        await RunAsync(cloud, "inventory", "digest", input, "--cloud", url, "--output", digests);
        var bytes = DigestKey.GenerateBytes();
        var otherKey = _folder.Write("other.key", JsonSerializer.Serialize(new { keyId = Protocol.RuleMapping.KeyId(bytes), key = Convert.ToBase64String(bytes) }));
        _folder.Write("empty/a.txt", "nothing here\n");

        var (exit, _, stderr) = await RunAsync(cloud, "scan", Path.Combine(_folder.Path, "empty"), "--inventory", digests, "--inventory-key", otherKey);

        Assert.Equal(2, exit);
        Assert.Contains("would never match", stderr, StringComparison.Ordinal);
    }

    /// <summary>Runs <c>leaknode</c> with the cloud's admin key in <c>LEAKNODE_API_KEY</c>, as a script would.</summary>
    private static Task<(int Exit, string Stdout, string Stderr)> RunAsync(CloudHarness cloud, params string[] arguments) =>
        LeakNodeProcess.RunAsync(arguments, new Dictionary<string, string> { ["LEAKNODE_API_KEY"] = cloud.AdminKey });

    public void Dispose() => _folder.Dispose();
}
