using System.Buffers.Text;
using System.Text;
using System.Text.RegularExpressions;

namespace LeakNode.Scanner.Detection;

/// <summary>
/// The detectors LeakNode ships: exact token formats (prefix, alphabet, length, checksum where the format has one)
/// and one generic keyword-plus-entropy detector. Ids follow gitleaks' default config where it has the same
/// format, so that a gitleaks config with <c>[extend] useDefault = true</c> can tune them by id.
/// </summary>
/// <remarks>
/// The patterns are source-generated (compiled to IL at build time, no start-up cost) and every one starts with
/// a literal prefix or sits behind a keyword: a document that contains none of the keywords costs one vectorised
/// search (<see cref="DetectorSet"/>), and a regex runs only where its prefix occurs.
/// </remarks>
public static partial class BuiltInDetectors
{
    /// <summary>The id of the generic keyword-plus-entropy detector (gitleaks' id for the same idea).</summary>
    public const string GenericId = "generic-api-key";


    private static DetectionRule[] Create()
    {
        Allowlist[] placeholders = [Placeholders];
        DetectionRule Exact(string id, string kind, Severity severity, string description, Regex regex, string[] keywords,
            string? prefix = null, Func<string, bool>? validator = null, double? entropy = null) => new()
            {
                Id = id,
                Kind = kind,
                Severity = severity,
                Description = description,
                Regex = regex,
                Keywords = [.. keywords.Select(k => k.ToLowerInvariant())],
                PublicPrefix = prefix,
                Validator = validator,
                Entropy = entropy,
                Allowlists = placeholders,
                Tags = ["builtin"],
            };

        Func<string, bool> gitHubChecksum = s => TokenChecksums.IsValidGitHubStyle(s);
        return
        [
            Exact("github-pat", "github", Severity.Critical, "GitHub personal access token (classic)", GitHubPat(), ["ghp_"], "ghp_", gitHubChecksum),
            Exact("github-oauth", "github", Severity.Critical, "GitHub OAuth access token", GitHubOAuth(), ["gho_"], "gho_", gitHubChecksum),
            Exact("github-app-token", "github", Severity.Critical, "GitHub App user-to-server or installation token", GitHubApp(), ["ghu_", "ghs_"], null, gitHubChecksum),
            Exact("github-refresh-token", "github", Severity.High, "GitHub refresh token", GitHubRefresh(), ["ghr_"], "ghr_", gitHubChecksum),
            Exact("github-fine-grained-pat", "github", Severity.Critical, "GitHub fine-grained personal access token", GitHubFineGrained(), ["github_pat_"], "github_pat_"),
            Exact("gitlab-pat", "gitlab", Severity.Critical, "GitLab personal, deploy, runner or trigger token", GitLab(), ["glpat-", "gldt-", "glrt-", "glptt-"], null, entropy: 3.0),
            Exact("aws-access-token", "aws", Severity.High, "AWS access key id", AwsAccessKeyId(), ["akia", "asia", "abia", "acca"], null),
            Exact("aws-secret-access-key", "aws", Severity.Critical, "AWS secret access key (next to an AWS key name)", AwsSecretKey(), ["aws"], null, entropy: 4.0),
            Exact("slack-bot-token", "slack", Severity.High, "Slack bot token", SlackBot(), ["xoxb-"], "xoxb-"),
            Exact("slack-user-token", "slack", Severity.High, "Slack user token", SlackUser(), ["xoxp-", "xoxe-"], null),
            Exact("slack-app-token", "slack", Severity.High, "Slack app-level token", SlackApp(), ["xapp-"], "xapp-"),
            Exact("slack-webhook-url", "slack", Severity.Medium, "Slack incoming webhook URL", SlackWebhook(), ["hooks.slack.com"], null),
            Exact("stripe-live-secret-key", "stripe", Severity.Critical, "Stripe live secret key", StripeLive(), ["sk_live_"], "sk_live_"),
            Exact("stripe-test-secret-key", "stripe", Severity.Low, "Stripe test-mode secret key", StripeTest(), ["sk_test_"], "sk_test_"),
            Exact("stripe-restricted-key", "stripe", Severity.High, "Stripe restricted key", StripeRestricted(), ["rk_live_", "rk_test_"], null),
            Exact("gcp-api-key", "google", Severity.High, "Google API key", GoogleApiKey(), ["aiza"], "AIza"),
            Exact("openai-api-key", "openai", Severity.High, "OpenAI API key", OpenAi(), ["t3blbkfj"], null),
            Exact("anthropic-api-key", "anthropic", Severity.High, "Anthropic API key", Anthropic(), ["sk-ant-"], "sk-ant-"),
            Exact("npm-access-token", "npm", Severity.High, "npm access token", Npm(), ["npm_"], "npm_", gitHubChecksum),
            Exact("pypi-upload-token", "pypi", Severity.High, "PyPI upload token", PyPi(), ["pypi-ageichlwas5vcmc"], "pypi-"),
            Exact("sendgrid-api-token", "sendgrid", Severity.High, "SendGrid API key", SendGrid(), ["sg."], "SG."),
            Exact("twilio-api-key", "twilio", Severity.High, "Twilio API key", Twilio(), ["sk"], null, entropy: 3.0),
            Exact("shopify-access-token", "shopify", Severity.High, "Shopify access, custom-app, partner or shared-secret token", Shopify(), ["shpat_", "shpca_", "shppa_", "shpss_"], null),
            Exact("digitalocean-token", "digitalocean", Severity.High, "DigitalOcean personal, OAuth or refresh token", DigitalOcean(), ["dop_v1_", "doo_v1_", "dor_v1_"], null),
            Exact("huggingface-access-token", "huggingface", Severity.High, "Hugging Face access token", HuggingFace(), ["hf_"], "hf_", entropy: 3.5),
            Exact("databricks-api-token", "databricks", Severity.High, "Databricks personal access token", Databricks(), ["dapi"], "dapi", entropy: 3.0),
            Exact("postman-api-token", "postman", Severity.High, "Postman API key", Postman(), ["pmak-"], "PMAK-"),
            Exact("azure-ad-client-secret", "azure", Severity.High, "Azure AD (Entra ID) client secret", AzureAdClientSecret(), ["q~"], null, entropy: 3.0),
            Exact("square-access-token", "square", Severity.High, "Square access or OAuth secret token", Square(), ["sq0atp-", "sq0csp-", "eaaa"], null, entropy: 3.5),
            Exact("atlassian-api-token", "atlassian", Severity.High, "Atlassian API token", Atlassian(), ["atatt3"], "ATATT"),
            Exact("new-relic-user-api-key", "newrelic", Severity.High, "New Relic user API key", NewRelic(), ["nrak-"], "NRAK-"),
            Exact("linear-api-key", "linear", Severity.High, "Linear API key", Linear(), ["lin_api_"], "lin_api_"),
            Exact("doppler-api-token", "doppler", Severity.High, "Doppler service, personal or CLI token", Doppler(), ["dp.pt.", "dp.st.", "dp.sa.", "dp.ct.", "dp.scim.", "dp.audit."], null),
            Exact("jwt", "jwt", Severity.Medium, "JSON Web Token", Jwt(), ["eyj"], "eyJ", IsJwt),
            Exact("private-key", "private-key", Severity.Critical, "Private key (PEM)", PrivateKey(), ["-----begin"], "-----BEGIN", HasKeyMaterial),
            new DetectionRule
            {
                Id = GenericId,
                Kind = "generic",
                Severity = Severity.Medium,
                Description = "A high-entropy value assigned to a name that says it is a secret",
                Regex = Generic(),
                Keywords = GenericKeywords,
                LineScoped = true,
                Entropy = 3.5,
                Validator = IsGenericSecret,
                Allowlists = placeholders,
                Tags = ["builtin", "generic"],
            },
        ];
    }

    /// <summary>
    /// Values that are placeholders rather than secrets, for every built-in detector: documentation's example
    /// keys (AWS writes <c>…EXAMPLE</c>), masks, template variables and long runs of one character.
    /// </summary>
    private static Allowlist Placeholders { get; } = new()
    {
        Description = "placeholders and documentation examples",
        Regexes = [PlaceholderPattern()],
    };

    private static readonly string[] GenericKeywords =
        ["secret", "token", "passw", "pwd", "api_key", "apikey", "api-key", "access_key", "auth_key", "credential"];

    /// <summary>Every built-in detector, in reporting order. (Declared after the fields it is built from.)</summary>
    public static IReadOnlyList<DetectionRule> All { get; } = Create();

    [GeneratedRegex(@"(?i)example|sample|dummy|placeholder|your[_-]?(?:api|secret|token|key|pass)|changeme|redacted|xxxxxx|\*\*\*\*|<[a-z_ -]+>|\$\{|\{\{|%[A-Z_]+%|(.)\1{9,}")]
    private static partial Regex PlaceholderPattern();

    /// <summary>The generic detector's extra checks: letters and digits mixed, no identifier or path, no UUID.</summary>
    private static bool IsGenericSecret(string value)
    {
        bool letter = false, digit = false;
        foreach (var c in value)
        {
            letter |= char.IsAsciiLetter(c);
            digit |= char.IsAsciiDigit(c);
        }
        if (!letter || !digit)
        {
            return false;
        }
        // A dotted or slashed name (os.environ.get, config.api.token, /etc/app/secret) is a reference, not a value.
        // A value in a format an exact detector knows is that detector's to judge (a GitHub token with a wrong
        // checksum is a look-alike, not a generic secret).
        foreach (var prefix in ExactPrefixes)
        {
            if (value.StartsWith(prefix, StringComparison.Ordinal))
            {
                return false;
            }
        }
        if (DottedName().IsMatch(value) || (value.Length == 36 && Guid.TryParseExact(value, "D", out _)))
        {
            return false;
        }
        return true;
    }

    private static readonly string[] ExactPrefixes =
    [
        "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "gldt-", "glrt-", "glptt-", "xoxb-", "xoxp-", "xoxe-", "xapp-",
        "sk_live_", "sk_test_", "rk_live_", "rk_test_", "AIza", "sk-ant-", "sk-proj-", "npm_", "pypi-", "SG.", "shpat_", "shpca_",
        "shppa_", "shpss_", "dop_v1_", "doo_v1_", "dor_v1_", "hf_", "dapi", "PMAK-", "sq0atp-", "sq0csp-", "ATATT3", "NRAK-",
        "lin_api_", "dp.pt.", "dp.st.", "eyJ", "AKIA", "ASIA",
    ];

    [GeneratedRegex(@"^(?:[A-Za-z_][A-Za-z0-9_]*[./])+[A-Za-z_][A-Za-z0-9_]*(?:\(\))?$")]
    private static partial Regex DottedName();

    private static bool IsJwt(string token)
    {
        var dot = token.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0)
        {
            return false;
        }
        var header = Encoding.ASCII.GetBytes(token[..dot]);
        var decoded = new byte[Base64Url.GetMaxDecodedLength(header.Length)];
        if (Base64Url.DecodeFromUtf8(header, decoded, out _, out var written) != System.Buffers.OperationStatus.Done)
        {
            return false;
        }
        var json = decoded.AsSpan(0, written);
        return json.TrimStart(" \t\r\n"u8).StartsWith("{"u8) && json.IndexOf("\"alg\""u8) >= 0;
    }

    /// <summary>A PEM block whose body holds real key material, not "..." or a short stand-in from a tutorial.</summary>
    private static bool HasKeyMaterial(string block)
    {
        var bodyStart = block.IndexOf('\n', StringComparison.Ordinal);
        var bodyEnd = block.LastIndexOf("-----END", StringComparison.Ordinal);
        if (bodyStart < 0 || bodyEnd <= bodyStart)
        {
            return false;
        }
        var base64 = 0;
        foreach (var c in block.AsSpan(bodyStart, bodyEnd - bodyStart))
        {
            if (char.IsAsciiLetterOrDigit(c) || c is '+' or '/' or '=')
            {
                base64++;
            }
        }
        return base64 >= 64;
    }

    // Word edges: (?<![\w]) instead of \b where the token's own alphabet holds '-' or '_', which \b does not treat as
    // word characters (a token that ends in '-' would otherwise lose its last character).
    [GeneratedRegex(@"\b(ghp_[0-9A-Za-z]{36})\b")]
    private static partial Regex GitHubPat();

    [GeneratedRegex(@"\b(gho_[0-9A-Za-z]{36})\b")]
    private static partial Regex GitHubOAuth();

    [GeneratedRegex(@"\b((?:ghu|ghs)_[0-9A-Za-z]{36})\b")]
    private static partial Regex GitHubApp();

    [GeneratedRegex(@"\b(ghr_[0-9A-Za-z]{36})\b")]
    private static partial Regex GitHubRefresh();

    [GeneratedRegex(@"\b(github_pat_[0-9A-Za-z]{22}_[0-9A-Za-z]{59})\b")]
    private static partial Regex GitHubFineGrained();

    [GeneratedRegex(@"(?<![\w-])(gl(?:pat|dt|rt|ptt)-[0-9A-Za-z_-]{20,64})(?![\w-])")]
    private static partial Regex GitLab();

    [GeneratedRegex(@"\b((?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b")]
    private static partial Regex AwsAccessKeyId();

    [GeneratedRegex(@"(?i:aws)[\w.-]{0,20}?(?i:secret|sk\b|key)[\w.-]{0,20}[""'`]?[ \t]{0,3}(?:=|:=|:|=>)[ \t]{0,3}[""'`]?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])")]
    private static partial Regex AwsSecretKey();

    [GeneratedRegex(@"\b(xoxb-[0-9]{10,13}-[0-9]{10,13}-[0-9A-Za-z]{24,34})\b")]
    private static partial Regex SlackBot();

    [GeneratedRegex(@"\b(xox[pe](?:-[0-9]{10,13}){3}-[0-9A-Za-z]{28,34})\b")]
    private static partial Regex SlackUser();

    [GeneratedRegex(@"\b(xapp-[0-9]-[A-Z0-9]{9,12}-[0-9]{10,13}-[a-z0-9]{64})\b")]
    private static partial Regex SlackApp();

    [GeneratedRegex(@"(https://hooks\.slack\.com/services/T[A-Z0-9]{8,12}/B[A-Z0-9]{8,12}/[A-Za-z0-9]{24})\b")]
    private static partial Regex SlackWebhook();

    [GeneratedRegex(@"\b(sk_live_[0-9A-Za-z]{24,99})\b")]
    private static partial Regex StripeLive();

    [GeneratedRegex(@"\b(sk_test_[0-9A-Za-z]{24,99})\b")]
    private static partial Regex StripeTest();

    [GeneratedRegex(@"\b(rk_(?:live|test)_[0-9A-Za-z]{24,99})\b")]
    private static partial Regex StripeRestricted();

    [GeneratedRegex(@"(?<![\w-])(AIza[0-9A-Za-z_-]{35})(?![\w-])")]
    private static partial Regex GoogleApiKey();

    [GeneratedRegex(@"(?<![\w-])(sk-(?:(?:proj|svcacct|admin)-)?[A-Za-z0-9_-]{20,80}T3BlbkFJ[A-Za-z0-9_-]{20,80})(?![\w-])")]
    private static partial Regex OpenAi();

    [GeneratedRegex(@"(?<![\w-])(sk-ant-(?:api03|admin01)-[A-Za-z0-9_-]{93}AA)(?![\w-])")]
    private static partial Regex Anthropic();

    [GeneratedRegex(@"\b(npm_[0-9A-Za-z]{36})\b")]
    private static partial Regex Npm();

    [GeneratedRegex(@"(?<![\w-])(pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,1000})(?![\w-])")]
    private static partial Regex PyPi();

    [GeneratedRegex(@"(?<![\w-])(SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})(?![\w-])")]
    private static partial Regex SendGrid();

    [GeneratedRegex(@"\b(SK[0-9a-f]{32})\b")]
    private static partial Regex Twilio();

    [GeneratedRegex(@"\b(shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32})\b")]
    private static partial Regex Shopify();

    [GeneratedRegex(@"\b(do[opr]_v1_[a-f0-9]{64})\b")]
    private static partial Regex DigitalOcean();

    [GeneratedRegex(@"\b(hf_[A-Za-z]{34})\b")]
    private static partial Regex HuggingFace();

    [GeneratedRegex(@"\b(dapi[a-f0-9]{32}(?:-[0-9])?)\b")]
    private static partial Regex Databricks();

    [GeneratedRegex(@"\b(PMAK-[a-f0-9]{24}-[a-f0-9]{34})\b")]
    private static partial Regex Postman();

    [GeneratedRegex(@"(?<![\w~.-])([a-zA-Z0-9_~.]{3}[0-9]Q~[a-zA-Z0-9_~.-]{31,34})(?![\w~.-])")]
    private static partial Regex AzureAdClientSecret();

    [GeneratedRegex(@"(?<![\w+/-])((?:sq0atp-|EAAA)[0-9A-Za-z_-]{22,60}|sq0csp-[0-9A-Za-z_-]{43})(?![\w+/=-])")]
    private static partial Regex Square();

    [GeneratedRegex(@"(?<![\w-])(ATATT3[A-Za-z0-9_=-]{186})(?![\w=-])")]
    private static partial Regex Atlassian();

    [GeneratedRegex(@"\b(NRAK-[A-Z0-9]{27})\b")]
    private static partial Regex NewRelic();

    [GeneratedRegex(@"\b(lin_api_[A-Za-z0-9]{40})\b")]
    private static partial Regex Linear();

    [GeneratedRegex(@"\b(dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44})\b")]
    private static partial Regex Doppler();

    [GeneratedRegex(@"(?<![\w-])(eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})(?![\w-])")]
    private static partial Regex Jwt();

    [GeneratedRegex(@"(-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----[\s\S]{0,16384}?-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----)")]
    private static partial Regex PrivateKey();

    // A name that says "secret", an assignment (=, :, :=, =>), an optional quote, and the value up to a quote,
    // a separator or the end of the line. Run line by line (LineScoped), never over a whole document.
    [GeneratedRegex(@"(?i)(?:secret|token|passw(?:or)?d|pwd|api[_-]?key|access[_-]?key|auth[_-]?key|credentials?)[\w.-]{0,20}[""']?[ \t]{0,3}(?:=|:=|:|=>)[ \t]{0,3}[""'`]?([A-Za-z0-9_\-+/=.~!@#$%^&*]{12,128})(?=[""'`;,)\s]|$)")]
    private static partial Regex Generic();
}
