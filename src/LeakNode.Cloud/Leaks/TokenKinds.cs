namespace LeakNode.Cloud.Leaks;

/// <summary>
/// Names the kind of a token from its well-known format (the vendors document these prefixes), so that users see
/// what leaked without seeing the token. Anything unrecognised is <c>generic</c>.
/// </summary>
internal static class TokenKinds
{
    public const string Generic = "generic";

    // Longest prefixes first where one is the start of another (sk-ant- and sk-proj- before sk-).
    private static readonly (string Prefix, string Kind)[] Prefixes =
    [
        ("github_pat_", "github-pat"), ("ghp_", "github-pat"), ("gho_", "github-oauth-token"), ("ghu_", "github-app-token"),
        ("ghs_", "github-app-token"), ("ghr_", "github-refresh-token"),
        ("glpat-", "gitlab-pat"), ("gldt-", "gitlab-deploy-token"), ("glrt-", "gitlab-runner-token"),
        ("xoxb-", "slack-bot-token"), ("xoxp-", "slack-user-token"), ("xoxa-", "slack-app-token"), ("xoxr-", "slack-refresh-token"),
        ("xoxe-", "slack-config-token"), ("xapp-", "slack-app-token"),
        ("sk_live_", "stripe-live-key"), ("rk_live_", "stripe-live-key"), ("sk_test_", "stripe-test-key"), ("rk_test_", "stripe-test-key"),
        ("pk_live_", "stripe-publishable-key"), ("pk_test_", "stripe-publishable-key"), ("whsec_", "stripe-webhook-secret"),
        ("AIza", "google-api-key"), ("sk-ant-", "anthropic-api-key"), ("sk-proj-", "openai-api-key"), ("sk-", "openai-api-key"),
        ("npm_", "npm-token"), ("pypi-", "pypi-token"), ("SG.", "sendgrid-api-key"), ("dop_v1_", "digitalocean-token"),
        ("doo_v1_", "digitalocean-oauth-token"), ("hf_", "huggingface-token"), ("dapi", "databricks-token"), ("PMAK-", "postman-api-key"),
        ("shpat_", "shopify-access-token"), ("shpss_", "shopify-shared-secret"), ("lin_api_", "linear-api-key"), ("NRAK-", "newrelic-api-key"),
        ("sq0atp-", "square-access-token"), ("sq0csp-", "square-oauth-secret"),
    ];

    public static string Detect(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (IsAwsKeyId(token))
        {
            return "aws-access-key-id";
        }
        foreach (var (prefix, kind) in Prefixes)
        {
            // A bare prefix is not a token of the format: demand a body at least as long as the prefix.
            if (token.Length >= prefix.Length * 2 && token.StartsWith(prefix, StringComparison.Ordinal))
            {
                return kind;
            }
        }
        if (token.StartsWith("eyJ", StringComparison.Ordinal) && token.Count(c => c == '.') == 2)
        {
            return "jwt";
        }
        return Generic;
    }

    // AKIA (long-term) or ASIA (temporary) and 16 characters of A–Z and 2–7.
    private static bool IsAwsKeyId(string token) =>
        token.Length == 20
        && (token.StartsWith("AKIA", StringComparison.Ordinal) || token.StartsWith("ASIA", StringComparison.Ordinal))
        && token.AsSpan(4).IndexOfAnyExcept(Base32) < 0;

    private static readonly System.Buffers.SearchValues<char> Base32 = System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
}
