using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using LeakNode.Cloud.Tests.Support;
using LeakNode.Matching.Digests;
using static LeakNode.Cloud.Tests.Inventory.InventoryTestKit;

namespace LeakNode.Cloud.Tests.Inventory;

/// <summary><c>/api/v1/inventory</c> on a real cloud: adds of plaintext and of digests, validation, roles, paging, the key.</summary>
public sealed class InventoryApiTests
{
    private readonly Tokens _tokens = new(seed: 8101);

    [Fact]
    public async Task Post_Tokens_AddedAndListedByPreviewAndFingerprintOnly()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var tokens = _tokens.Next(3);

        var (status, result) = await cloud.Admin.PostJsonAsync(Endpoint, new { tokens, label = " ci-deploy " });

        Assert.Equal(HttpStatusCode.Created, status);
        AssertCounts(result, added: 3, skipped: 0, total: 3);
        var (_, page) = await cloud.Admin.GetJsonAsync(Endpoint);
        var items = page.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(3, items.Count);
        var (_, key) = await cloud.KeyAsync();
        var expected = tokens.Select(t => new TokenDigester(key).Digest("x", t)).ToList();
        foreach (var item in items)
        {
            Assert.StartsWith("inv_", item.Str("id"), StringComparison.Ordinal);
            Assert.Equal("ci-deploy", item.Str("label"));
            Assert.Equal("bootstrap-admin", item.Str("createdBy"));
            var digest = Assert.Single(expected, d => d.Fingerprint == item.Str("fingerprint"));
            Assert.Equal(digest.Preview, item.Str("preview"));
            // The list is for people: no digest material in it.
            Assert.Equal(["id", "label", "preview", "fingerprint", "createdAt", "createdBy"], item.EnumerateObject().Select(p => p.Name));
        }
    }

    [Fact]
    public async Task Post_TokensSeenBefore_SkippedAndCounted()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var (a, b, c) = (_tokens.Next(), _tokens.Next(), _tokens.Next());

        var (first, firstResult) = await cloud.Admin.PostJsonAsync(Endpoint, new { tokens = new[] { a, b } });
        var (second, secondResult) = await cloud.Admin.PostJsonAsync(Endpoint, new { tokens = new[] { a, b, c, c } });
        var (third, thirdResult) = await cloud.Admin.PostJsonAsync(Endpoint, new { tokens = new[] { c } });

        Assert.Equal(HttpStatusCode.Created, first);
        AssertCounts(firstResult, added: 2, skipped: 0, total: 2);
        Assert.Equal(HttpStatusCode.Created, second);
        AssertCounts(secondResult, added: 1, skipped: 3, total: 3);
        // Nothing new: 200, not 201.
        Assert.Equal(HttpStatusCode.OK, third);
        AssertCounts(thirdResult, added: 0, skipped: 1, total: 3);
    }

    [Fact]
    public async Task Post_MoreTokensThanOneInsertStatementHolds_AllKeptAndCounted()
    {
        // The store inserts 500 rows a statement: 1,201 tokens cross two chunk boundaries.
        await using var cloud = await CloudHarness.StartAsync();
        var tokens = _tokens.Next(1201);

        var (status, result) = await cloud.Admin.PostJsonAsync(Endpoint, new { tokens });
        var (_, again) = await cloud.Admin.PostJsonAsync(Endpoint, new { tokens = tokens[600..].Concat(_tokens.Next(10)).ToArray() });

        Assert.Equal(HttpStatusCode.Created, status);
        AssertCounts(result, added: 1201, skipped: 0, total: 1201);
        AssertCounts(again, added: 10, skipped: 601, total: 1211);
        Assert.Equal(1211, (await cloud.Service<Cloud.Inventory.InventoryStore>().LoadWatchListAsync(CloudApi.Ct))?.TokenCount);
    }

    [Fact]
    public async Task Post_DigestsMadeOfflineWithTheKey_AcceptedAsTheSameTokens()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var (keyId, key) = await cloud.KeyAsync();
        var tokens = _tokens.Next(4);

        var (status, result) = await cloud.Admin.PostRawAsync(Endpoint, DigestsBody(keyId, [.. tokens.Select(t => DigestJson(key, t))]));
        var (again, againResult) = await cloud.Admin.PostJsonAsync(Endpoint, new { tokens });

        Assert.Equal(HttpStatusCode.Created, status);
        AssertCounts(result, added: 4, skipped: 0, total: 4);
        // The same tokens in plaintext are digested here with the same key: the same fingerprints, all skipped.
        Assert.Equal(HttpStatusCode.OK, again);
        AssertCounts(againResult, added: 0, skipped: 4, total: 4);
    }

    [Fact]
    public async Task Post_DigestsOfAnotherKey_RefusedNamingBothKeys()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var (keyId, _) = await cloud.KeyAsync();
        var otherBytes = DigestKey.GenerateBytes();
        var otherId = Protocol.RuleMapping.KeyId(otherBytes);
        var deploymentId = cloud.Service<Cloud.Sync.IDeploymentKeyring>().KeyId;

        var (status, problem) = await cloud.Admin.PostRawAsync(Endpoint, DigestsBody(otherId, DigestJson(DigestKey.FromBytes(otherBytes), _tokens.Next())));
        var (deployment, deploymentProblem) = await cloud.Admin.PostRawAsync(
            Endpoint, DigestsBody(deploymentId, DigestJson(cloud.Service<Cloud.Sync.IDeploymentKeyring>().Key, _tokens.Next())));
        var (missing, missingProblem) = await cloud.Admin.PostRawAsync(Endpoint, DigestsBody(null, DigestJson(DigestKey.FromBytes(otherBytes), _tokens.Next())));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        var message = Errors(problem, "keyId");
        Assert.Contains($"made with key '{otherId}'", message, StringComparison.Ordinal);
        Assert.Contains($"the inventory key is '{keyId}'", message, StringComparison.Ordinal);
        Assert.Contains("digest the tokens again", message, StringComparison.Ordinal);
        // The nodes' deployment key is not the inventory key: its digests are refused the same way.
        Assert.NotEqual(keyId, deploymentId);
        Assert.Equal(HttpStatusCode.BadRequest, deployment);
        Assert.Contains($"the inventory key is '{keyId}'", Errors(deploymentProblem, "keyId"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, missing);
        Assert.Contains("is required", Errors(missingProblem, "keyId"), StringComparison.Ordinal);
        Assert.Equal(0, await cloud.InventoryTotalAsync());
    }

    /// <summary>A malformed digest, by what is wrong with it, and the field the answer must name.</summary>
    public static TheoryData<string, string, string> MalformedDigests => new()
    {
        { "length missing", "digests[1].length", "is required" },
        { "length too short", "digests[1].length", "must be from 8 to 4096" },
        { "length too long", "digests[1].length", "must be from 8 to 4096" },
        { "length a string", "digests[1].length", "wrong type" },
        { "span start missing", "digests[1].spanStart", "is required" },
        { "span start negative", "digests[1].spanStart", "must be from 0 to" },
        { "span start past the end", "digests[1].spanStart", "must be from 0 to" },
        { "windows missing", "digests[1].windows", "is required" },
        { "one window short", "digests[1].windows", "window hashes for a token of length" },
        { "a window negative", "digests[1].windows[0]", "wrong type" },
        { "hmac missing", "digests[1].hmac", "is required" },
        { "hmac too short", "digests[1].hmac", "first 16 bytes" },
        { "hmac not base64", "digests[1].hmac", "wrong type" },
        { "preview with a token's start", "digests[1].preview", "masked preview" },
        { "preview without ellipsis", "digests[1].preview", "masked preview" },
        { "item null", "digests[1]", "must be an object" },
        { "unknown field", "fingerprint", "unknown field" },
    };

    [Theory]
    [MemberData(nameof(MalformedDigests))]
    public async Task Post_MalformedDigest_RefusedNamingTheField(string mutation, string field, string message)
    {
        await using var cloud = await CloudHarness.StartAsync();
        var (keyId, key) = await cloud.KeyAsync();
        var token = _tokens.Next();
        var item = DigestJson(key, token);
        switch (mutation)
        {
            case "length missing": item.Remove("length"); break;
            case "length too short": item["length"] = 7; break;
            case "length too long": item["length"] = 5000; break;
            case "length a string": item["length"] = "forty"; break;
            case "span start missing": item.Remove("spanStart"); break;
            case "span start negative": item["spanStart"] = -1; break;
            case "span start past the end": item["spanStart"] = (int)item["length"]!; break;
            case "windows missing": item.Remove("windows"); break;
            case "one window short": item["windows"]!.AsArray().RemoveAt(0); break;
            case "a window negative": item["windows"]![0] = -5; break;
            case "hmac missing": item.Remove("hmac"); break;
            case "hmac too short": item["hmac"] = "AAAA"; break;
            case "hmac not base64": item["hmac"] = "not base64!"; break;
            case "preview with a token's start": item["preview"] = token[..12] + "…"; break;
            case "preview without ellipsis": item["preview"] = token; break;
            case "item null": item = null; break;
            case "unknown field": item["fingerprint"] = "0123456789abcdef"; break;
            default: throw new ArgumentOutOfRangeException(nameof(mutation), mutation, "no such case");
        }

        var (status, problem) = await cloud.Admin.PostRawAsync(Endpoint, DigestsBody(keyId, DigestJson(key, _tokens.Next()), item));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(message, Errors(problem, field), StringComparison.Ordinal);
        // One bad item refuses the request: the good one beside it is not kept either.
        Assert.Equal(0, await cloud.InventoryTotalAsync());
        Assert.DoesNotContain(token, problem.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_ManyMalformedDigests_EveryProblemAtOnce()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var (keyId, key) = await cloud.KeyAsync();
        var shortWindows = DigestJson(key, _tokens.Next());
        shortWindows["windows"] = new JsonArray(1, 2);
        var noHmac = DigestJson(key, _tokens.Next());
        noHmac.Remove("hmac");
        noHmac["spanStart"] = -3;

        var (status, problem) = await cloud.Admin.PostRawAsync(Endpoint, DigestsBody(keyId, shortWindows, DigestJson(key, _tokens.Next()), noHmac, new JsonObject()));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Errors(problem, "digests[0].windows");
        Errors(problem, "digests[2].hmac");
        Errors(problem, "digests[2].spanStart");
        Errors(problem, "digests[3].length");
        Assert.False(problem.GetProperty("errors").TryGetProperty("digests[1]", out _));
    }

    [Theory]
    [InlineData("""{"tokens":["aaaaaaaaaaaa"],"digests":[]}""", "body", "not both")]
    [InlineData("""{"label":"x"}""", "body", "give tokens")]
    [InlineData("""{"tokens":[]}""", "tokens", "at least one")]
    [InlineData("""{"tokens":["aaaaaaaaaaaa"],"keyId":"abc"}""", "keyId", "digests only")]
    [InlineData("""{"tokens":["aaaaaaaaaaaa"],"scheme":2}""", "scheme", "must be 1")]
    [InlineData("""{"tokens":["aaaaaaaaaaaa",null,"abc1234","a\tbcdefghijk"]}""", "tokens[3]", "control characters")]
    [InlineData("""{"tokens":["aaaaaaaaaaaa",null,"abc1234"]}""", "tokens[2]", "at least 8 characters")]
    [InlineData("""{"tokens":["aaaaaaaaaaaa",null]}""", "tokens[1]", "must be a string")]
    public async Task Post_BadRequest_NamesTheFieldNeverTheValue(string json, string field, string message)
    {
        await using var cloud = await CloudHarness.StartAsync();

        var (status, problem) = await cloud.Admin.PostRawAsync(Endpoint, json);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(message, Errors(problem, field), StringComparison.Ordinal);
        Assert.DoesNotContain("abc1234", problem.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("bcdefghijk", problem.ToString(), StringComparison.Ordinal);
        Assert.Equal(0, await cloud.InventoryTotalAsync());
    }

    [Fact]
    public async Task Post_MoreItemsThanTheLimit_RefusedNamingTheSetting()
    {
        await using var cloud = await CloudHarness.StartAsync(new Dictionary<string, string?> { ["Limits:MaxInventoryItemsPerRequest"] = "3" });
        var (keyId, key) = await cloud.KeyAsync();

        var (tokens, tokensProblem) = await cloud.Admin.PostJsonAsync(Endpoint, new { tokens = _tokens.Next(4) });
        var (digests, digestsProblem) = await cloud.Admin.PostRawAsync(Endpoint, DigestsBody(keyId, [.. _tokens.Next(4).Select(t => DigestJson(key, t))]));
        var (three, _) = await cloud.Admin.PostJsonAsync(Endpoint, new { tokens = _tokens.Next(3) });

        Assert.Equal(HttpStatusCode.BadRequest, tokens);
        Assert.Contains("at most 3 a request (Limits:MaxInventoryItemsPerRequest)", Errors(tokensProblem, "tokens"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, digests);
        Assert.Contains("Limits:MaxInventoryItemsPerRequest", Errors(digestsProblem, "digests"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Created, three);
    }

    [Fact]
    public async Task Post_PastTheInventoryLimit_409AndNothingOfTheRequestKept()
    {
        await using var cloud = await CloudHarness.StartAsync(new Dictionary<string, string?> { ["Limits:MaxInventoryTokens"] = "3" });
        var kept = _tokens.Next(2);
        await cloud.Admin.PostJsonAsync(Endpoint, new { tokens = kept });

        var (status, problem) = await cloud.Admin.PostJsonAsync(Endpoint, new { tokens = new[] { kept[0], _tokens.Next(), _tokens.Next() } });
        var (fits, result) = await cloud.Admin.PostJsonAsync(Endpoint, new { tokens = new[] { kept[1], _tokens.Next() } });

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Contains("Limits:MaxInventoryTokens", problem.Str("detail"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Created, fits);
        AssertCounts(result, added: 1, skipped: 1, total: 3);
    }

    [Fact]
    public async Task Analyst_MayList_ButNotAddRemoveOrReadTheKeyOrDigests()
    {
        await using var cloud = await CloudHarness.StartAsync();
        await cloud.Admin.PostJsonAsync(Endpoint, new { tokens = _tokens.Next(2) });
        var (_, page) = await cloud.Admin.GetJsonAsync(Endpoint);
        var id = page.GetProperty("items")[0].Str("id");
        using var analyst = await cloud.ClientWithRoleAsync("analyst");

        var (list, listed) = await analyst.GetJsonAsync(Endpoint);
        Assert.Equal(HttpStatusCode.OK, list);
        Assert.Equal(2, listed.GetProperty("total").GetInt64());
        foreach (var (method, path) in new[] { ("POST", Endpoint), ("DELETE", $"{Endpoint}/{id}"), ("GET", $"{Endpoint}/key"), ("GET", $"{Endpoint}/digests") })
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path)
            {
                Content = method == "POST" ? System.Net.Http.Json.JsonContent.Create(new { tokens = _tokens.Next(1) }) : null,
            };
            using var response = await analyst.SendAsync(request, CloudApi.Ct);
            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{method} {path}: {response.StatusCode}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.DoesNotContain("\"key\"", await response.Content.ReadAsStringAsync(CloudApi.Ct), StringComparison.Ordinal);
        }
        Assert.Equal(2, await cloud.InventoryTotalAsync());
    }

    [Fact]
    public async Task Delete_RemovesTheToken_ThenNotFound()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var token = _tokens.Next();
        await cloud.Admin.PostJsonAsync(Endpoint, new { tokens = new[] { token, _tokens.Next() } });
        var (_, page) = await cloud.Admin.GetJsonAsync(Endpoint);
        var id = page.GetProperty("items")[0].Str("id");

        using var deleted = await cloud.Admin.DeleteAsync($"{Endpoint}/{id}", CloudApi.Ct);
        using var again = await cloud.Admin.DeleteAsync($"{Endpoint}/{id}", CloudApi.Ct);

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.Equal("application/problem+json", again.Content.Headers.ContentType?.MediaType);
        var (_, after) = await cloud.Admin.GetJsonAsync(Endpoint);
        Assert.Equal(1, after.GetProperty("total").GetInt64());
        Assert.NotEqual(id, after.GetProperty("items")[0].Str("id"));
    }

    [Fact]
    public async Task List_PagesNewestFirstWithACursor()
    {
        await using var cloud = await CloudHarness.StartAsync();
        for (var i = 0; i < 5; i++)
        {
            await cloud.Admin.PostJsonAsync(Endpoint, new { tokens = new[] { _tokens.Next() }, label = $"batch {i}" });
        }

        var labels = new List<string>();
        string? cursor = null;
        do
        {
            var (status, page) = await cloud.Admin.GetJsonAsync($"{Endpoint}?limit=2" + (cursor is null ? "" : "&cursor=" + cursor));
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal(5, page.GetProperty("total").GetInt64());
            labels.AddRange(page.GetProperty("items").EnumerateArray().Select(i => i.Str("label")));
            cursor = page.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null);
        var (badCursor, problem) = await cloud.Admin.GetJsonAsync($"{Endpoint}?cursor=x");
        var (badLimit, _) = await cloud.Admin.GetJsonAsync($"{Endpoint}?limit=0");

        Assert.Equal(["batch 4", "batch 3", "batch 2", "batch 1", "batch 0"], labels);
        Assert.Equal(HttpStatusCode.BadRequest, badCursor);
        Errors(problem, "cursor");
        Assert.Equal(HttpStatusCode.BadRequest, badLimit);
    }

    [Fact]
    public async Task Key_MadeOnFirstUse_KeptAcrossRestarts_NotTheDeploymentKey()
    {
        var folder = Directory.CreateTempSubdirectory("leaknode-cloud-test-").FullName;
        try
        {
            string keyId;
            string adminKey;
            byte[] deploymentKey;
            await using (var first = await CloudHarness.StartAsync(folder: folder))
            {
                adminKey = first.AdminKey;
                Assert.DoesNotContain(first.Logs, l => l.Contains("inventory digest key", StringComparison.Ordinal));
                using var response = await first.Admin.GetAsync(Endpoint + "/key", CloudApi.Ct);
                Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
                var body = JsonSerializer.Deserialize<JsonElement>(await response.Content.ReadAsStringAsync(CloudApi.Ct));
                keyId = body.Str("keyId");
                Assert.Equal(keyId, Protocol.RuleMapping.KeyId(Convert.FromBase64String(body.Str("key"))));
                Assert.Single(first.Logs, l => l.Contains("Generated the inventory digest key " + keyId, StringComparison.Ordinal));
                deploymentKey = first.Service<Cloud.Sync.IDeploymentKeyring>().KeyBytes.ToArray();
                Assert.NotEqual(deploymentKey, Convert.FromBase64String(body.Str("key")));
                Assert.DoesNotContain(first.Logs, l => l.Contains(body.Str("key"), StringComparison.Ordinal));
            }
            await using var second = await CloudHarness.StartAsync(folder: folder, adminKey: adminKey);
            var (again, _) = await second.KeyAsync();
            Assert.Equal(keyId, again);
            Assert.Equal(deploymentKey, second.Service<Cloud.Sync.IDeploymentKeyring>().KeyBytes.ToArray());
        }
        finally
        {
            CloudHarness.DeleteFolder(folder);
        }
    }

    [Fact]
    public async Task Digests_HoldTheKeyAndEveryDigest_ForAScanner()
    {
        await using var cloud = await CloudHarness.StartAsync();
        await cloud.Admin.PostJsonAsync(Endpoint, new { tokens = _tokens.Next(3), label = "ci" });
        var (_, key) = await cloud.Admin.GetJsonAsync(Endpoint + "/key");

        using var response = await cloud.Admin.GetAsync(Endpoint + "/digests", CloudApi.Ct);
        var export = JsonSerializer.Deserialize<JsonElement>(await response.Content.ReadAsStringAsync(CloudApi.Ct));
        var (_, page) = await cloud.Admin.GetJsonAsync(Endpoint);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        Assert.Equal(1, export.GetProperty("scheme").GetInt32());
        Assert.Equal(key.Str("keyId"), export.Str("keyId"));
        Assert.Equal(key.Str("key"), export.Str("key"));
        Assert.Equal(3, export.GetProperty("count").GetInt64());
        var digests = export.GetProperty("digests").EnumerateArray().ToList();
        Assert.Equal(
            page.GetProperty("items").EnumerateArray().Select(i => i.Str("id")).Order(StringComparer.Ordinal),
            digests.Select(d => d.Str("id")));
        foreach (var digest in digests)
        {
            Assert.Equal("ci", digest.Str("label"));
            var rebuilt = new TokenDigest(
                digest.Str("id"), digest.GetProperty("length").GetInt32(), digest.GetProperty("spanStart").GetInt32(),
                digest.GetProperty("windows").Deserialize<uint[]>()!, digest.GetProperty("hmac").GetBytesFromBase64(), digest.Str("preview"));
            Assert.Null(rebuilt.Validate());
        }
    }

    [Fact]
    public async Task Digests_EmptyInventory_KeyAndNoDigest()
    {
        await using var cloud = await CloudHarness.StartAsync();

        var (status, export) = await cloud.Admin.GetJsonAsync(Endpoint + "/digests");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(0, export.GetProperty("count").GetInt64());
        Assert.Empty(export.GetProperty("digests").EnumerateArray());
        Assert.Equal((await cloud.KeyAsync()).KeyId, export.Str("keyId"));
    }

    [Fact]
    public async Task OpenApi_DescribesTheInventoryApi()
    {
        await using var cloud = await CloudHarness.StartAsync();

        var (_, document) = await cloud.Admin.GetJsonAsync("/openapi/v1.json");

        var paths = document.GetProperty("paths");
        var inventory = paths.GetProperty("/api/v1/inventory");
        Assert.True(inventory.TryGetProperty("post", out var post));
        Assert.True(inventory.TryGetProperty("get", out _));
        Assert.True(post.GetProperty("requestBody").GetProperty("content").TryGetProperty("application/json", out _));
        Assert.True(paths.GetProperty("/api/v1/inventory/{id}").TryGetProperty("delete", out _));
        Assert.True(paths.GetProperty("/api/v1/inventory/key").TryGetProperty("get", out _));
        Assert.True(paths.GetProperty("/api/v1/inventory/digests").GetProperty("get").GetProperty("responses").TryGetProperty("200", out _));
        Assert.Contains("Inventory", post.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
    }
}
