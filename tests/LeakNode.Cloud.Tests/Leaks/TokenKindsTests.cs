using LeakNode.Cloud.Leaks;

namespace LeakNode.Cloud.Tests.Leaks;

public sealed class TokenKindsTests
{
    public static TheoryData<string, string> Cases => new()
    {
        { "ghp_" + new string('A', 36), "github-pat" },
        { "github_pat_" + new string('b', 82), "github-pat" },
        { "gho_" + new string('c', 36), "github-oauth-token" },
        { "glpat-" + new string('d', 20), "gitlab-pat" },
        { "AKIA" + "ABCDEFGHIJKLMNOP", "aws-access-key-id" },
        { "ASIA" + "QRSTUVWXYZ234567", "aws-access-key-id" },
        { "AKIA" + "abcdefghijklmnop", "generic" },
        { "xoxb-1234567890-1234567890123-" + new string('e', 24), "slack-bot-token" },
        { "sk_live_" + new string('f', 24), "stripe-live-key" },
        { "sk_test_" + new string('f', 24), "stripe-test-key" },
        { "sk-ant-" + new string('g', 40), "anthropic-api-key" },
        { "sk-proj-" + new string('h', 40), "openai-api-key" },
        { "AIza" + new string('i', 35), "google-api-key" },
        { "npm_" + new string('j', 36), "npm-token" },
        { "SG." + new string('k', 22) + "." + new string('l', 43), "sendgrid-api-key" },
        { "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "jwt" },
        { "ghp_", "generic" },
        { "hunter2hunter2", "generic" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Detect_WellKnownPrefix_NamesTheKind(string token, string kind) => Assert.Equal(kind, TokenKinds.Detect(token));
}
