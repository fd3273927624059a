using System.Globalization;
using System.Text;
using System.Text.Json;
using LeakNode.Cloud.Inventory;
using LeakNode.Matching.Digests;
using LeakNode.Protocol;
using LeakNode.Scanner;

namespace LeakNode.Cli.Inventory;

/// <summary>
/// An inventory file as the CLI reads it: the digests file <c>leaknode inventory digest</c> writes (the body of
/// <c>POST /api/v1/inventory</c>: <c>{scheme, keyId, label, digests}</c>, no key), or what
/// <c>GET /api/v1/inventory/digests</c> answers (the same with the <c>key</c> and each digest's <c>id</c>).
/// Unknown fields are ignored, so that either shape reads.
/// </summary>
internal sealed record InventoryDocument(int? Scheme, string? KeyId, string? Key, string? Label, IReadOnlyList<InventoryDocumentDigest?>? Digests);

/// <summary>One digest of an <see cref="InventoryDocument"/>; <see cref="Id"/> only in the cloud's export.</summary>
internal sealed record InventoryDocumentDigest(string? Id, int? Length, int? SpanStart, uint[]? Windows, byte[]? Hmac, string? Preview);

/// <summary>An inventory, key or token file is missing or malformed; the message names the file and the line or item, never a token.</summary>
internal sealed class InventoryFileException : Exception
{
    public InventoryFileException(string message)
        : base(message)
    {
    }

    public InventoryFileException()
    {
    }

    public InventoryFileException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The files of the inventory commands: token lists (plaintext, read and digested here, never written anywhere),
/// the key file (owner-only), and digests files, which <c>leaknode scan --inventory</c> turns into a watch list.
/// </summary>
internal static class InventoryFiles
{
    /// <summary>The longest token digested: the cloud's default <c>Limits:MaxTokenLength</c>, what a scan's matcher holds.</summary>
    public const int MaxTokenLength = 4096;

    /// <summary>
    /// Reads tokens one a line (<c>-</c>: standard input). Blank lines are skipped, spaces around a token trimmed;
    /// a line that cannot be a token is a problem named by its number, never by its text.
    /// </summary>
    public static async Task<List<string>> ReadTokensAsync(string source, TextReader standardInput, CancellationToken cancellationToken)
    {
        TextReader reader;
        try
        {
            reader = source == "-" ? standardInput : new StreamReader(source, Encoding.UTF8);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new InventoryFileException($"cannot read the tokens file {source}: {error.Message}");
        }
        var name = source == "-" ? "standard input" : source;
        var tokens = new List<string>();
        var problems = new List<string>();
        try
        {
            var number = 0;
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                number++;
                var token = line.Trim();
                if (token.Length == 0)
                {
                    continue;
                }
                var bytes = Encoding.UTF8.GetByteCount(token);
                if (bytes < WindowPlan.MinTokenLength)
                {
                    problems.Add($"line {number}: shorter than {WindowPlan.MinTokenLength} bytes: strings that short occur by chance in ordinary text");
                }
                else if (bytes > MaxTokenLength)
                {
                    problems.Add($"line {number}: longer than {MaxTokenLength} bytes");
                }
                else if (token.Any(char.IsControl))
                {
                    problems.Add($"line {number}: holds a control character");
                }
                else
                {
                    tokens.Add(token);
                }
            }
        }
        finally
        {
            if (!ReferenceEquals(reader, standardInput))
            {
                reader.Dispose();
            }
        }
        if (problems.Count > 0)
        {
            throw new InventoryFileException($"{name} has lines that are not tokens (one token a line):\n  - " + string.Join("\n  - ", problems.Take(20))
                + (problems.Count > 20 ? $"\n  - and {problems.Count - 20} more" : ""));
        }
        if (tokens.Count == 0)
        {
            throw new InventoryFileException($"{name} holds no token (one token a line)");
        }
        return tokens;
    }

    /// <summary>
    /// Digests the tokens with the inventory key into the body <c>POST /api/v1/inventory</c> takes. A token given twice
    /// is digested once. Only digests leave this method: no more than half of any token can be read back from them.
    /// </summary>
    public static InventoryAddRequest Digest(IReadOnlyList<string> tokens, InventoryKeyView key, string? label)
    {
        var digester = new TokenDigester(DigestKey.FromBytes(KeyBytes(key, "the inventory key")));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var digests = new List<InventoryDigestRequest?>(tokens.Count);
        foreach (var token in tokens)
        {
            var digest = digester.Digest("inventory", token);
            if (seen.Add(digest.Fingerprint))
            {
                digests.Add(new InventoryDigestRequest(digest.Length, digest.SpanStart, digest.Windows, digest.Hmac, digest.Preview));
            }
        }
        return new InventoryAddRequest(Digests: digests, KeyId: key.KeyId, Scheme: TokenDigest.Scheme, Label: string.IsNullOrWhiteSpace(label) ? null : label.Trim());
    }

    /// <summary>Writes the key file, readable by its owner only (it is as secret as the tokens it digests), replacing any file there.</summary>
    public static void WriteKey(string path, InventoryKeyView key)
    {
        var full = Path.GetFullPath(path);
        var temporary = Path.Combine(Path.GetDirectoryName(full)!, "." + Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        // Written beside the target and moved over it: a file that existed keeps no wider permissions, and a reader
        // never sees half a key.
        using (var file = new FileStream(temporary, options))
        {
            JsonSerializer.Serialize(file, key, CloudApiClient.Json);
        }
        File.Move(temporary, full, overwrite: true);
    }

    /// <summary>Reads a key file written by <c>leaknode inventory key</c>, checking that the key and its id belong together.</summary>
    public static InventoryKeyView ReadKey(string path)
    {
        InventoryKeyView? key;
        try
        {
            key = JsonSerializer.Deserialize<InventoryKeyView>(File.ReadAllText(path), CloudApiClient.Json);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new InventoryFileException($"cannot read the key file {path}: {error.Message}");
        }
        catch (JsonException)
        {
            throw new InventoryFileException($"{path} is not a key file ({{\"keyId\": …, \"key\": …}}, written by leaknode inventory key)");
        }
        if (key?.KeyId is null || key.Key is null)
        {
            throw new InventoryFileException($"{path} is not a key file: keyId and key are required (leaknode inventory key writes one)");
        }
        KeyBytes(key, path);
        return key;
    }

    /// <summary>The key's 32 bytes, checked against its id.</summary>
    private static byte[] KeyBytes(InventoryKeyView key, string source)
    {
        var bytes = new byte[64];
        if (!Convert.TryFromBase64String(key.Key, bytes, out var written) || written != DigestKey.Size)
        {
            throw new InventoryFileException($"{source}: the key is not the base64 of {DigestKey.Size} bytes");
        }
        bytes = bytes[..written];
        if (!string.Equals(RuleMapping.KeyId(bytes), key.KeyId, StringComparison.Ordinal))
        {
            throw new InventoryFileException($"{source}: the key does not have the id '{key.KeyId}' given with it: the file was altered, or mixes two keys");
        }
        return bytes;
    }

    /// <summary>
    /// The watch list of an inventory file for <c>leaknode scan --inventory</c>. The key comes from
    /// <paramref name="keyPath"/> when given, else from the file itself (the cloud's export holds it).
    /// </summary>
    public static InventoryWatchList LoadWatchList(string path, string? keyPath)
    {
        InventoryDocument? document;
        try
        {
            using var file = File.OpenRead(path);
            document = JsonSerializer.Deserialize<InventoryDocument>(file, CloudApiClient.Json);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new InventoryFileException($"cannot read the inventory file {path}: {error.Message}");
        }
        catch (JsonException error)
        {
            throw new InventoryFileException($"{path} is not an inventory file (JSON from leaknode inventory digest): {error.Message}");
        }
        var key = keyPath is null ? null : ReadKey(keyPath);
        return ToWatchList(document, key, path)
            ?? throw new InventoryFileException($"{path} holds no digest");
    }

    /// <summary>The watch list of an inventory document; null when it holds no digest.</summary>
    public static InventoryWatchList? ToWatchList(InventoryDocument? document, InventoryKeyView? key, string source)
    {
        if (document is null)
        {
            throw new InventoryFileException($"{source} is not an inventory file: it is empty or null");
        }
        if (document.Scheme is { } scheme && scheme != TokenDigest.Scheme)
        {
            throw new InventoryFileException($"{source} holds digests of scheme {scheme}; this build reads scheme {TokenDigest.Scheme}");
        }
        if (key is null)
        {
            if (document.Key is null || document.KeyId is null)
            {
                throw new InventoryFileException(
                    $"{source} does not hold the inventory key: give it with --inventory-key FILE (written by leaknode inventory key)");
            }
            key = new InventoryKeyView(document.KeyId, document.Key);
        }
        var bytes = KeyBytes(key, source);
        if (document.KeyId is { } keyId && !string.Equals(keyId, key.KeyId, StringComparison.Ordinal))
        {
            throw new InventoryFileException(
                $"{source} was digested with key '{keyId}', but the key given is '{key.KeyId}': its digests would never match; digest the tokens again with this key");
        }

        var digests = new List<TokenDigest>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var problems = new List<string>();
        var items = document.Digests ?? [];
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            var at = string.Create(CultureInfo.InvariantCulture, $"digests[{i}]");
            if (item?.Length is not { } length || item.SpanStart is not { } spanStart || item.Windows is null || item.Hmac is null)
            {
                problems.Add($"{at}: length, spanStart, windows and hmac are required");
                continue;
            }
            var digest = new TokenDigest(item.Id ?? at, length, spanStart, item.Windows, item.Hmac, item.Preview);
            if (digest.Validate() is { } problem)
            {
                problems.Add($"{at}: {problem}");
                continue;
            }
            if (seen.Add(digest.Fingerprint))
            {
                // A digest made offline has no id: its fingerprint, which the cloud's inventory list shows too, names it.
                digests.Add(item.Id is null ? digest with { Id = digest.Fingerprint } : digest);
            }
        }
        if (problems.Count > 0)
        {
            throw new InventoryFileException($"{source} has malformed digests:\n  - " + string.Join("\n  - ", problems.Take(20))
                + (problems.Count > 20 ? $"\n  - and {problems.Count - 20} more" : ""));
        }
        try
        {
            return digests.Count == 0 ? null : new InventoryWatchList(DigestKey.FromBytes(bytes), digests);
        }
        catch (Matching.RuleSetRejectedException rejected)
        {
            throw new InventoryFileException($"{source}: the scanner cannot watch for these digests: {rejected.Message}");
        }
    }
}
