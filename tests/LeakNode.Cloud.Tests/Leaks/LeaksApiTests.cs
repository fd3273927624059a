using System.Net;
using System.Text.Json;
using LeakNode.Cloud.Tests.Support;

namespace LeakNode.Cloud.Tests.Leaks;

public sealed class LeaksApiTests
{
    private readonly Tokens _tokens = new(seed: 4101);

    [Fact]
    public async Task Create_ValidLeak_AnswersTheLeakWithMaskedTokens()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var token = "ghp_" + new string('a', 4) + _tokens.Next();
        var (status, leak) = await cloud.Admin.PostJsonAsync("/api/v1/leaks", new
        {
            name = "Build token in public repo",
            description = "found in a CI log",
            risk = 8,
            tokens = new[] { token },
            source = new { kind = "github", url = "https://example.test/repo" },
        });

        Assert.Equal(HttpStatusCode.Created, status);
        Assert.StartsWith("lk_", leak.Id(), StringComparison.Ordinal);
        Assert.Equal("Build token in public repo", leak.Str("name"));
        Assert.Equal(8, leak.GetProperty("risk").GetProperty("score").GetInt32());
        Assert.Equal("high", leak.GetProperty("risk").Str("level"));
        Assert.Equal("open", leak.Str("status"));
        Assert.Equal("none", leak.Str("remediation"));
        Assert.Equal(1, leak.GetProperty("tokenCount").GetInt32());
        var stored = leak.GetProperty("tokens")[0];
        Assert.Equal("github-pat", stored.Str("kind"));
        Assert.StartsWith("ghp_…", stored.Str("preview"), StringComparison.Ordinal);
        Assert.Equal(16, stored.Str("fingerprint").Length);
        Assert.DoesNotContain(token, leak.GetRawText(), StringComparison.Ordinal);
        var source = leak.GetProperty("sources")[0];
        Assert.Equal("github", source.Str("kind"));
        Assert.Equal("https://example.test/repo", source.Str("url"));
        var history = leak.GetProperty("history");
        Assert.Equal(1, history.GetArrayLength());
        Assert.Equal("create", history[0].Str("action"));
        Assert.Equal("bootstrap-admin", history[0].Str("actor"));

        var (getStatus, fetched) = await cloud.Admin.GetJsonAsync($"/api/v1/leaks/{leak.Id()}");
        Assert.Equal(HttpStatusCode.OK, getStatus);
        Assert.Equal(leak.GetRawText(), fetched.GetRawText());
    }

    [Fact]
    public async Task Create_NoRiskNoSource_IsMediumManual()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var leak = await cloud.Admin.CreateLeakAsync("manual", [_tokens.Next()]);
        Assert.Equal(5, leak.GetProperty("risk").GetProperty("score").GetInt32());
        Assert.Equal("medium", leak.GetProperty("risk").Str("level"));
        Assert.Equal("manual", leak.GetProperty("sources")[0].Str("kind"));
    }

    [Fact]
    public async Task Create_SameTokenTwice_KeepsItOnce()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var token = _tokens.Next();
        var leak = await cloud.Admin.CreateLeakAsync("twice", [token, token, _tokens.Next()]);
        Assert.Equal(2, leak.GetProperty("tokenCount").GetInt32());
        Assert.Equal(2, leak.GetProperty("tokens").GetArrayLength());
    }

    [Fact]
    public async Task Create_TokenInAnotherOpenLeak_Answers409NamingThatLeak()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var shared = _tokens.Next();
        var first = await cloud.Admin.CreateLeakAsync("first leak", [shared]);

        var (status, problem) = await cloud.Admin.PostJsonAsync("/api/v1/leaks", new { name = "second", tokens = new[] { _tokens.Next(), shared } });

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Contains(first.Id(), problem.Str("detail"), StringComparison.Ordinal);
        Assert.Contains("first leak", problem.Str("detail"), StringComparison.Ordinal);
        Assert.Equal(first.Id(), problem.GetProperty("conflictingLeaks")[0].Str("id"));
        Assert.DoesNotContain(shared, problem.GetRawText(), StringComparison.Ordinal);
        var (_, list) = await cloud.Admin.GetJsonAsync("/api/v1/leaks");
        Assert.Equal(1, list.GetProperty("total").GetInt64());
    }

    [Theory]
    [InlineData("closed")]
    [InlineData("false")]
    public async Task Create_TokenOfALeakNoLongerOpen_IsAccepted(string how)
    {
        await using var cloud = await CloudHarness.StartAsync();
        var shared = _tokens.Next();
        var first = await cloud.Admin.CreateLeakAsync("first", [shared]);
        await cloud.Admin.PostJsonAsync($"/api/v1/leaks/{first.Id()}/{(how == "closed" ? "close" : "mark-false")}", null);

        var second = await cloud.Admin.CreateLeakAsync("second", [shared]);
        Assert.Equal(first.GetProperty("tokens")[0].Str("fingerprint"), second.GetProperty("tokens")[0].Str("fingerprint"));

        // Now the first cannot be reopened: its token is watched by the second.
        var (status, problem) = await cloud.Admin.PostJsonAsync($"/api/v1/leaks/{first.Id()}/reopen", null);
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Contains(second.Id(), problem.Str("detail"), StringComparison.Ordinal);
    }

    public static TheoryData<string, string, string> InvalidBodies => new()
    {
        { "empty token list", """{"name":"x","tokens":[]}""", "tokens" },
        { "no tokens", """{"name":"x"}""", "tokens" },
        { "short token", """{"name":"x","tokens":["abc1234"]}""", "tokens[0]" },
        { "null token", """{"name":"x","tokens":[null]}""", "tokens[0]" },
        { "second token short", """{"name":"x","tokens":["abcdefgh12345","short"]}""", "tokens[1]" },
        { "no name", """{"tokens":["abcdefgh12345"]}""", "name" },
        { "blank name", """{"name":"  ","tokens":["abcdefgh12345"]}""", "name" },
        { "long name", "{\"name\":\"" + new string('n', 201) + "\",\"tokens\":[\"abcdefgh12345\"]}", "name" },
        { "long description", "{\"name\":\"x\",\"description\":\"" + new string('d', 4001) + "\",\"tokens\":[\"abcdefgh12345\"]}", "description" },
        { "risk zero", """{"name":"x","risk":0,"tokens":["abcdefgh12345"]}""", "risk" },
        { "risk eleven", """{"name":"x","risk":11,"tokens":["abcdefgh12345"]}""", "risk" },
        { "risk text", """{"name":"x","risk":"high","tokens":["abcdefgh12345"]}""", "risk" },
        { "unknown field", """{"name":"x","tokens":["abcdefgh12345"],"severity":3}""", "severity" },
        { "unknown source kind", """{"name":"x","tokens":["abcdefgh12345"],"source":{"kind":"carrier-pigeon"}}""", "source.kind" },
        { "relative source url", """{"name":"x","tokens":["abcdefgh12345"],"source":{"kind":"web","url":"/a/b"}}""", "source.url" },
        { "not json", "name=x", "body" },
        { "array body", """[1,2]""", "body" },
    };

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public async Task Create_InvalidBody_Answers400ProblemNamingTheField(string why, string json, string field)
    {
        await using var cloud = await CloudHarness.StartAsync();
        var (status, problem) = await cloud.Admin.PostRawAsync("/api/v1/leaks", json);

        Assert.True(status == HttpStatusCode.BadRequest, $"{why}: {status} {problem}");
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"{why}: errors lack '{field}': {problem}");
    }

    [Fact]
    public async Task Create_TooManyTokens_Answers400()
    {
        await using var cloud = await CloudHarness.StartAsync(new Dictionary<string, string?> { ["Limits:MaxTokensPerLeak"] = "3" });
        var (status, problem) = await cloud.Admin.PostJsonAsync("/api/v1/leaks", new { name = "x", tokens = _tokens.Next(4) });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("Limits:MaxTokensPerLeak", problem.GetProperty("errors").GetProperty("tokens")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_ShortTokenError_NeverEchoesTheToken()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var (_, problem) = await cloud.Admin.PostJsonAsync("/api/v1/leaks", new { name = "x", tokens = new[] { "Zq7#kP2" } });
        Assert.DoesNotContain("Zq7#kP2", problem.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_UnknownId_Answers404Problem()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var (status, problem) = await cloud.Admin.GetJsonAsync("/api/v1/leaks/lk_nothing");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal(404, problem.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task Patch_ChangesFields_AndRecordsHistory()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var leak = await cloud.Admin.CreateLeakAsync("old name", [_tokens.Next()], risk: 3);

        var (status, patched) = await cloud.Admin.PatchJsonAsync($"/api/v1/leaks/{leak.Id()}", new { name = "new name", risk = 9, description = "now described" });

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("new name", patched.Str("name"));
        Assert.Equal("now described", patched.Str("description"));
        Assert.Equal("critical", patched.GetProperty("risk").Str("level"));
        var history = patched.GetProperty("history");
        Assert.Equal("edit", history[1].Str("action"));
        Assert.Contains("risk 3 → 9", history[1].Str("comment"), StringComparison.Ordinal);
        Assert.Equal("open", patched.Str("status"));
    }

    [Theory]
    [InlineData("""{}""", "body")]
    [InlineData("""{"risk":12}""", "risk")]
    [InlineData("""{"status":"closed"}""", "status")]
    public async Task Patch_Invalid_Answers400(string json, string field)
    {
        await using var cloud = await CloudHarness.StartAsync();
        var leak = await cloud.Admin.CreateLeakAsync("x", [_tokens.Next()]);
        using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        using var response = await cloud.Admin.PatchAsync($"/api/v1/leaks/{leak.Id()}", content, CloudApi.Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = JsonSerializer.Deserialize<JsonElement>(await response.Content.ReadAsStringAsync(CloudApi.Ct));
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task Patch_UnknownLeak_Answers404()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var (status, _) = await cloud.Admin.PatchJsonAsync("/api/v1/leaks/lk_missing", new { risk = 2 });
        Assert.Equal(HttpStatusCode.NotFound, status);
    }

    [Fact]
    public async Task AddTokens_NewAndKnown_AddsOnlyTheNewOnesWithHistory()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var first = _tokens.Next();
        var leak = await cloud.Admin.CreateLeakAsync("growing", [first]);
        var added = _tokens.Next(2);

        var (status, grown) = await cloud.Admin.PostJsonAsync($"/api/v1/leaks/{leak.Id()}/tokens", new { tokens = new[] { first, added[0], added[1], added[0] }, comment = "found two more" });

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(3, grown.GetProperty("tokenCount").GetInt32());
        Assert.Equal(leak.GetProperty("tokens")[0].Str("id"), grown.GetProperty("tokens")[0].Str("id"));
        var last = grown.GetProperty("history")[1];
        Assert.Equal("add-tokens", last.Str("action"));
        Assert.Equal("found two more", last.Str("comment"));

        var version = await cloud.Service<Cloud.Sync.IRuleFeed>().CurrentVersionAsync(CloudApi.Ct);
        var (againStatus, again) = await cloud.Admin.PostJsonAsync($"/api/v1/leaks/{leak.Id()}/tokens", new { tokens = added });
        Assert.Equal(HttpStatusCode.OK, againStatus);
        Assert.Equal(3, again.GetProperty("tokenCount").GetInt32());
        Assert.Equal(2, again.GetProperty("history").GetArrayLength());
        Assert.Equal(version, await cloud.Service<Cloud.Sync.IRuleFeed>().CurrentVersionAsync(CloudApi.Ct));
    }

    [Fact]
    public async Task AddTokens_TokenInAnotherOpenLeak_Answers409()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var shared = _tokens.Next();
        var holder = await cloud.Admin.CreateLeakAsync("holder", [shared]);
        var other = await cloud.Admin.CreateLeakAsync("other", [_tokens.Next()]);

        var (status, problem) = await cloud.Admin.PostJsonAsync($"/api/v1/leaks/{other.Id()}/tokens", new { tokens = new[] { shared } });

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Contains(holder.Id(), problem.Str("detail"), StringComparison.Ordinal);
        var (_, unchanged) = await cloud.Admin.GetJsonAsync($"/api/v1/leaks/{other.Id()}");
        Assert.Equal(1, unchanged.GetProperty("tokenCount").GetInt32());
    }

    [Fact]
    public async Task AddTokens_ClosedLeak_AcceptsTokensWatchedElsewhere_ButReopenIsRefused()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var shared = _tokens.Next();
        await cloud.Admin.CreateLeakAsync("holder", [shared]);
        var closed = await cloud.Admin.CreateLeakAsync("closed", [_tokens.Next()]);
        await cloud.Admin.PostJsonAsync($"/api/v1/leaks/{closed.Id()}/close", null);

        var (status, _) = await cloud.Admin.PostJsonAsync($"/api/v1/leaks/{closed.Id()}/tokens", new { tokens = new[] { shared } });
        Assert.Equal(HttpStatusCode.OK, status);
        var (reopen, _) = await cloud.Admin.PostJsonAsync($"/api/v1/leaks/{closed.Id()}/reopen", null);
        Assert.Equal(HttpStatusCode.Conflict, reopen);
    }

    [Fact]
    public async Task AddTokens_BeyondTheLimit_Answers409NamingTheLimit()
    {
        await using var cloud = await CloudHarness.StartAsync(new Dictionary<string, string?> { ["Limits:MaxTokensPerLeak"] = "3" });
        var leak = await cloud.Admin.CreateLeakAsync("full", _tokens.Next(2));
        var (status, problem) = await cloud.Admin.PostJsonAsync($"/api/v1/leaks/{leak.Id()}/tokens", new { tokens = _tokens.Next(2) });
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Contains("Limits:MaxTokensPerLeak", problem.Str("detail"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"tokens":[]}""", "tokens")]
    [InlineData("""{"tokens":["short"]}""", "tokens[0]")]
    [InlineData("""{"tokens":["abcdefgh12345"],"name":"x"}""", "name")]
    public async Task AddTokens_Invalid_Answers400(string json, string field)
    {
        await using var cloud = await CloudHarness.StartAsync();
        var leak = await cloud.Admin.CreateLeakAsync("x", [_tokens.Next()]);
        var (status, problem) = await cloud.Admin.PostRawAsync($"/api/v1/leaks/{leak.Id()}/tokens", json);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task AddTokens_UnknownLeak_Answers404()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var (status, _) = await cloud.Admin.PostJsonAsync("/api/v1/leaks/lk_missing/tokens", new { tokens = _tokens.Next(1) });
        Assert.Equal(HttpStatusCode.NotFound, status);
    }
}
