using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using LeakNode.Cloud.Inventory;

namespace LeakNode.Cli.Inventory;

/// <summary>
/// <c>leaknode inventory key|digest|add</c>: the organisation's issued tokens, digested on the issuer's machine with
/// the inventory key so that their plaintext never leaves it, then uploaded to the cloud or kept for
/// <c>leaknode scan --inventory</c>. Exit 0 when done, 2 on any error (CONTRACT.md).
/// </summary>
internal static class InventoryCommand
{
    /// <summary>Digests a request: well within the cloud's default <c>Limits:MaxInventoryItemsPerRequest</c> (10,000), about 250 KB.</summary>
    private const int UploadBatch = 1000;

    public static Command Create()
    {
        var command = new Command(
            "inventory",
            "The organisation's issued tokens, watched for by scans as digests: a hit is a certain leak of a live token. "
            + "Tokens are digested on this machine with the inventory key; their plaintext never leaves it.");
        command.Subcommands.Add(CreateKey());
        command.Subcommands.Add(CreateDigest());
        command.Subcommands.Add(CreateAdd());
        return command;
    }

    private static Command CreateKey()
    {
        var (cloud, apiKey) = CloudApiClient.Options(required: true);
        var output = new Option<FileInfo>("--output", "-o") { Description = "Where to write the key file (owner-only permissions). It is as secret as the tokens.", Required = true };
        var command = new Command("key", "Fetch the inventory key from the cloud (admin API key) into a file, for `inventory digest --key-file` on a machine without access to the cloud.")
        {
            cloud, apiKey, output,
        };
        command.SetAction((parse, cancellation) => KeyAsync(
            parse.GetValue(cloud)!, parse.GetValue(apiKey), parse.GetValue(output)!, parse.InvocationConfiguration.Error, cancellation));
        return command;
    }

    private static Command CreateDigest()
    {
        var source = TokensArgument();
        var (cloud, apiKey) = CloudApiClient.Options(required: false);
        var keyFile = new Option<FileInfo?>("--key-file") { Description = "The inventory key from a file written by `leaknode inventory key`, instead of fetching it with --cloud." };
        var label = LabelOption();
        var output = new Option<FileInfo?>("--output", "-o") { Description = "Write the digests (JSON: the body POST /api/v1/inventory takes) to FILE instead of standard output." };
        var upload = new Option<bool>("--upload") { Description = "Post the digests to the cloud (needs --cloud and an admin API key)." };
        var command = new Command(
            "digest",
            "Digest tokens (one a line, from FILE or standard input) with the inventory key, on this machine. Writes JSON that POST /api/v1/inventory "
            + "and `leaknode scan --inventory` take, or with --upload posts it.")
        {
            source, cloud, apiKey, keyFile, label, output, upload,
        };
        command.SetAction((parse, cancellation) => DigestAsync(
            new DigestRequest(
                parse.GetValue(source)!, parse.GetValue(cloud), parse.GetValue(apiKey), parse.GetValue(keyFile), parse.GetValue(label),
                parse.GetValue(output), parse.GetValue(upload)),
            parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, cancellation));
        return command;
    }

    private static Command CreateAdd()
    {
        var source = TokensArgument();
        var (cloud, apiKey) = CloudApiClient.Options(required: true);
        var label = LabelOption();
        var command = new Command("add", "Digest tokens (one a line) on this machine and post the digests to the cloud's inventory: `inventory digest --upload` in one word.")
        {
            source, cloud, apiKey, label,
        };
        command.SetAction((parse, cancellation) => DigestAsync(
            new DigestRequest(parse.GetValue(source)!, parse.GetValue(cloud), parse.GetValue(apiKey), null, parse.GetValue(label), null, Upload: true),
            parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, cancellation, name: "add"));
        return command;
    }

    private static Argument<string> TokensArgument() => new("FILE")
    {
        Description = "Tokens, one a line (blank lines skipped); - or nothing for standard input.",
        Arity = ArgumentArity.ZeroOrOne,
        DefaultValueFactory = _ => "-",
    };

    private static Option<string?> LabelOption() =>
        new("--label") { Description = "What these tokens are (ci-deploy-keys, partner-api); shown in the cloud's inventory list." };

    private sealed record DigestRequest(string Source, string? Cloud, string? ApiKey, FileInfo? KeyFile, string? Label, FileInfo? Output, bool Upload);

    private static async Task<int> KeyAsync(string cloud, string? apiKey, FileInfo output, TextWriter stderr, CancellationToken cancellation)
    {
        const string Name = "leaknode inventory key";
        if (CloudApiClient.Connect(cloud, apiKey, out var problem) is not { } client)
        {
            return await FailAsync(stderr, Name, problem!);
        }
        using (client)
        {
            try
            {
                var key = await client.GetInventoryKeyAsync(cancellation);
                InventoryFiles.WriteKey(output.FullName, key);
                await stderr.WriteLineAsync($"inventory key {key.KeyId} written to {output.FullName} (owner-only). Keep it as secret as the tokens it digests.");
                return 0;
            }
            catch (CloudApiException error)
            {
                return await FailAsync(stderr, Name, error.Message);
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException)
            {
                return await FailAsync(stderr, Name, $"cannot write {output.FullName}: {error.Message}");
            }
        }
    }

    private static async Task<int> DigestAsync(DigestRequest request, TextWriter stdout, TextWriter stderr, CancellationToken cancellation, string name = "digest")
    {
        var command = "leaknode inventory " + name;
        if (request.KeyFile is null && request.Cloud is null)
        {
            return await FailAsync(stderr, command, $"give --cloud URL (with --api-key or {CloudApiClient.ApiKeyVariable}) to fetch the inventory key, or --key-file FILE");
        }
        if (request.Upload && request.Cloud is null)
        {
            return await FailAsync(stderr, command, "--upload posts to the cloud: give --cloud URL and an admin API key");
        }
        CloudApiClient? client = null;
        if (request.Cloud is not null)
        {
            client = CloudApiClient.Connect(request.Cloud, request.ApiKey, out var problem);
            if (client is null)
            {
                return await FailAsync(stderr, command, problem!);
            }
        }

        using (client)
        {
            try
            {
                var key = request.KeyFile is not null ? InventoryFiles.ReadKey(request.KeyFile.FullName) : await client!.GetInventoryKeyAsync(cancellation);
                if (request.Source == "-" && !Console.IsInputRedirected)
                {
                    await stderr.WriteLineAsync("reading tokens from standard input, one a line; end with Ctrl+D");
                }
                var tokens = await InventoryFiles.ReadTokensAsync(request.Source, Console.In, cancellation);
                var body = InventoryFiles.Digest(tokens, key, request.Label);
                var digested = string.Create(CultureInfo.InvariantCulture, $"{body.Digests!.Count} tokens digested with inventory key {key.KeyId}");
                if (request.Output is not null)
                {
                    await using (var file = File.Create(request.Output.FullName))
                    {
                        await JsonSerializer.SerializeAsync(file, body, CloudApiClient.Json, cancellation);
                    }
                    await stderr.WriteLineAsync($"{digested}, written to {request.Output.FullName}");
                }
                else if (!request.Upload)
                {
                    await stdout.WriteLineAsync(JsonSerializer.Serialize(body, CloudApiClient.Json));
                    await stderr.WriteLineAsync(digested);
                }
                if (request.Upload)
                {
                    var (added, skipped, total) = await UploadAsync(client!, body, cancellation);
                    await stderr.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                        $"{digested}; uploaded to {client!.Cloud}: {added} added, {skipped} already there; the inventory holds {total}"));
                }
                return 0;
            }
            catch (Exception error) when (error is InventoryFileException or CloudApiException)
            {
                return await FailAsync(stderr, command, error.Message);
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException)
            {
                return await FailAsync(stderr, command, $"cannot write {request.Output?.FullName}: {error.Message}");
            }
        }
    }

    /// <summary>Posts the digests in batches; the counts add up over the batches, the total is the last answer's.</summary>
    private static async Task<(int Added, int Skipped, long Total)> UploadAsync(CloudApiClient client, InventoryAddRequest body, CancellationToken cancellation)
    {
        int added = 0, skipped = 0;
        long total = 0;
        foreach (var batch in body.Digests!.Chunk(UploadBatch))
        {
            var result = await client.AddInventoryAsync(body with { Digests = batch }, cancellation);
            added += result.Added;
            skipped += result.Skipped;
            total = result.Total;
        }
        return (added, skipped, total);
    }

    private static async Task<int> FailAsync(TextWriter stderr, string command, string message)
    {
        await stderr.WriteLineAsync($"{command}: {message}");
        return Commands.ErrorExitCode;
    }
}
