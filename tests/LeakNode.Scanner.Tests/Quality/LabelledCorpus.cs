using System.Text;
using LeakNode.Scanner.Detection;
using LeakNode.Scanner.Tests.Support;

namespace LeakNode.Scanner.Tests.Quality;

/// <summary>
/// A labelled corpus made at run time: realistic files (Python, .env, YAML, JSON, JavaScript) that hold true tokens
/// of every built-in kind, and files full of look-alikes that are not leaks: UUIDs, hashes, documentation's example
/// keys, placeholders, tokens with a wrong checksum, base64 images. Each file lists the secrets it really holds.
/// </summary>
public sealed class LabelledCorpus(int seed)
{
    private readonly SecretFactory _factory = new(seed);

    private static readonly string[] Filler =
    [
        "import os", "import json", "from datetime import datetime", "def handler(event, context):", "    return response.json()",
        "# TODO: move this to the settings module", "version: \"3.8\"", "services:", "  web:", "    image: nginx:1.25",
        "\"name\": \"my-app\",", "\"private\": true,", "const express = require('express');", "app.listen(3000);",
        "token_url = \"https://auth.example.test/oauth/token\"", "password_min_length = 12", "secret_name = \"prod-db-credentials\"",
        "tokenizer = AutoTokenizer.from_pretrained(\"bert-base-uncased\")", "MAX_RETRIES=5", "LOG_LEVEL=debug",
        "if user.is_authenticated:", "    raise PermissionError(\"no access\")", "export PATH=$PATH:/usr/local/bin",
        "auth_token_header = \"X-Auth-Token\"", "api_key_param = request.args.get(\"api_key\")", "  - ./data:/var/lib/data",
    ];

    public sealed record Document(string Path, string Text, IReadOnlyList<(string RuleId, string Secret)> Secrets);

    public IEnumerable<Document> Documents(int tokensPerKind, int lookAlikeFiles)
    {
        var index = 0;
        foreach (var rule in BuiltInDetectors.All)
        {
            for (var i = 0; i < tokensPerKind; i++)
            {
                var token = _factory.Tokens[rule.Id]();
                var lines = FillerLines(_factory.Random.Next(3, 15));
                lines.Insert(_factory.Random.Next(lines.Count + 1), _factory.Line(rule.Id, token, _factory.Random.Next(5)));
                yield return new Document($"repo/file{index++}{Extension(i)}", string.Join('\n', lines) + "\n", [(rule.Id, token)]);
            }
        }
        for (var i = 0; i < lookAlikeFiles; i++)
        {
            var lines = FillerLines(_factory.Random.Next(2, 8));
            for (var j = 0; j < 6; j++)
            {
                lines.Insert(_factory.Random.Next(lines.Count + 1), LookAlike());
            }
            yield return new Document($"docs/page{i}{Extension(i)}", string.Join('\n', lines) + "\n", []);
        }
    }

    private List<string> FillerLines(int count) => [.. Enumerable.Range(0, count).Select(_ => Filler[_factory.Random.Next(Filler.Length)])];

    private static string Extension(int i) => (i % 5) switch
    {
        0 => ".py",
        1 => ".env",
        2 => ".yaml",
        3 => ".json",
        _ => ".js",
    };

    /// <summary>One line that looks like a secret and is not one.</summary>
    private string LookAlike()
    {
        var f = _factory;
        return f.Random.Next(16) switch
        {
            0 => $"request_id = \"{Guid.NewGuid()}\"",
            1 => $"  \"token_id\": \"{Guid.NewGuid()}\",",
            2 => $"sha256 = \"{f.HexString(64)}\"",
            3 => $"commit {f.HexString(40)}",
            4 => $"    \"integrity\": \"sha512-{f.Chars("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 86)}==\",",
            5 => "aws_access_key_id = AKIA" + "IOSFODNN7" + "EXAMPLE",
            6 => "export GITHUB_TOKEN=gh" + "p_" + new string('x', 36),
            7 => "api_key = \"your-api-key-here-1234\"",
            8 => "password: \"<your password>\"",
            9 => "token: ${GITHUB_TOKEN}",
            10 => $"token = \"{f.GitHubStyleBadChecksum("gh" + "p_")}\"",
            11 => $"//registry.npmjs.org/:_authToken={f.GitHubStyleBadChecksum("np" + "m_")}",
            12 => "<img alt=\"logo\" src=\"data:image/png;base64," + Base64Image() + "\">",
            13 => "  background: url(data:image/gif;base64," + Base64Image() + ");",
            14 => "Authorization: Bearer <token>",
            _ => $"etag: \"W/{f.HexString(32)}\"",
        };
    }

    private string Base64Image()
    {
        var bytes = new byte[_factory.Random.Next(600, 1500)];
        _factory.Random.NextBytes(bytes);
        // PNG-like: long runs of zero bytes make the "AAAA" runs real images have.
        for (var i = 0; i < bytes.Length; i += 7)
        {
            bytes[i] = 0;
        }
        return Convert.ToBase64String(bytes);
    }

    public static string Describe(IEnumerable<Document> documents)
    {
        var list = documents.ToList();
        var builder = new StringBuilder();
        builder.Append(System.Globalization.CultureInfo.InvariantCulture, $"{list.Count} documents, {list.Sum(d => d.Secrets.Count)} true secrets");
        return builder.ToString();
    }
}
