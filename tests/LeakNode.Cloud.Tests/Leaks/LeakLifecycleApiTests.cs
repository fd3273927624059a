using System.Net;
using LeakNode.Cloud.Tests.Support;

namespace LeakNode.Cloud.Tests.Leaks;

/// <summary>Every action from every state, against the lifecycle table of PRODUCT.md.</summary>
public sealed class LeakLifecycleApiTests
{
    private readonly Tokens _tokens = new(seed: 4202);

    /// <summary>State (how to reach it), action, expected status and remediation after, or 409.</summary>
    public static TheoryData<string, string, string?> Transitions => new()
    {
        { "open", "vpatch", "open/vpatch" },
        { "open", "close", "closed/none" },
        { "open", "mark-false", "false/none" },
        { "open", "reopen", null },
        { "vpatched", "vpatch", null },
        { "vpatched", "close", "closed/none" },
        { "vpatched", "mark-false", "false/none" },
        { "vpatched", "reopen", null },
        { "closed", "vpatch", null },
        { "closed", "close", null },
        { "closed", "mark-false", null },
        { "closed", "reopen", "open/none" },
        { "false", "vpatch", null },
        { "false", "close", null },
        { "false", "mark-false", null },
        { "false", "reopen", "open/none" },
    };

    [Theory]
    [MemberData(nameof(Transitions))]
    public async Task Action_FromState_FollowsTheLifecycleTable(string state, string action, string? expected)
    {
        await using var cloud = await CloudHarness.StartAsync();
        var leak = await cloud.Admin.CreateLeakAsync("leak", [_tokens.Next()]);
        var id = leak.Id();
        var setup = state switch
        {
            "vpatched" => "vpatch",
            "closed" => "close",
            "false" => "mark-false",
            _ => null,
        };
        if (setup is not null)
        {
            var (setupStatus, _) = await cloud.Admin.PostJsonAsync($"/api/v1/leaks/{id}/{setup}", null);
            Assert.Equal(HttpStatusCode.OK, setupStatus);
        }

        var (status, body) = await cloud.Admin.PostJsonAsync($"/api/v1/leaks/{id}/{action}", new { comment = "because" });

        if (expected is null)
        {
            Assert.Equal(HttpStatusCode.Conflict, status);
            Assert.Equal(409, body.GetProperty("status").GetInt32());
            Assert.Contains(action, body.Str("detail"), StringComparison.Ordinal);
            var (_, after) = await cloud.Admin.GetJsonAsync($"/api/v1/leaks/{id}");
            Assert.Equal(setup is null ? 1 : 2, after.GetProperty("history").GetArrayLength());
        }
        else
        {
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal(expected, $"{body.Str("status")}/{body.Str("remediation")}");
            var last = body.GetProperty("history")[body.GetProperty("history").GetArrayLength() - 1];
            Assert.Equal(action, last.Str("action"));
            Assert.Equal("because", last.Str("comment"));
            Assert.Equal("bootstrap-admin", last.Str("actor"));
        }
    }

    [Fact]
    public async Task Action_WithoutBody_IsAcceptedWithoutComment()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var leak = await cloud.Admin.CreateLeakAsync("leak", [_tokens.Next()]);
        var (status, body) = await cloud.Admin.PostJsonAsync($"/api/v1/leaks/{leak.Id()}/vpatch", null);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, body.GetProperty("history")[1].GetProperty("comment").ValueKind);
    }

    [Fact]
    public async Task Action_FullJourney_KeepsEveryStepInHistory()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var secondAdmin = await cloud.ClientWithRoleAsync("admin");
        var leak = await cloud.Admin.CreateLeakAsync("journey", [_tokens.Next()]);
        var id = leak.Id();
        foreach (var action in new[] { "vpatch", "close", "reopen", "mark-false", "reopen", "vpatch" })
        {
            var (status, _) = await secondAdmin.PostJsonAsync($"/api/v1/leaks/{id}/{action}", new { comment = "step " + action });
            Assert.Equal(HttpStatusCode.OK, status);
        }
        var (_, final) = await cloud.Admin.GetJsonAsync($"/api/v1/leaks/{id}");
        var history = final.GetProperty("history").EnumerateArray().ToList();
        Assert.Equal(["create", "vpatch", "close", "reopen", "mark-false", "reopen", "vpatch"], history.Select(h => h.Str("action")));
        Assert.All(history.Skip(1), h => Assert.Equal("test-admin", h.Str("actor")));
        Assert.True(history.Zip(history.Skip(1)).All(p => p.First.GetProperty("at").GetDateTimeOffset() <= p.Second.GetProperty("at").GetDateTimeOffset()));
        Assert.Equal("open", final.Str("status"));
        Assert.Equal("vpatch", final.Str("remediation"));
    }

    [Fact]
    public async Task Action_UnknownLeak_Answers404()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var (status, _) = await cloud.Admin.PostJsonAsync("/api/v1/leaks/lk_missing/close", null);
        Assert.Equal(HttpStatusCode.NotFound, status);
    }

    [Fact]
    public async Task Action_LongComment_Answers400()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var leak = await cloud.Admin.CreateLeakAsync("leak", [_tokens.Next()]);
        var (status, problem) = await cloud.Admin.PostJsonAsync($"/api/v1/leaks/{leak.Id()}/close", new { comment = new string('c', 2001) });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.True(problem.GetProperty("errors").TryGetProperty("comment", out _));
    }
}
