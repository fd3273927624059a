using System.Globalization;
using System.Text;
using LeakNode.Cloud.Api;
using LeakNode.Cloud.Configuration;
using LeakNode.Matching.Digests;

namespace LeakNode.Cloud.Inventory;

/// <summary>An add that validation accepted: plaintext tokens or digests (one of them), and the label.</summary>
/// <param name="Requested">Items in the request, duplicates included: what added + skipped add up to.</param>
internal sealed record InventoryAddition(IReadOnlyList<string>? Tokens, IReadOnlyList<TokenDigest>? Digests, string? Label, int Requested);

/// <summary>
/// Checks inventory requests; every error at once, each under its field (<c>digests[3].windows</c>). A token is named
/// by its index, never by its value.
/// </summary>
internal static class InventoryValidation
{
    /// <summary>The longest token the inventory takes: the configured limit, within what a scan's matcher holds.</summary>
    public static int MaxTokenLength(LimitOptions limits) => Math.Min(limits.MaxTokenLength, Matching.MatcherLimits.Default.MaxTokenLength);

    public static InventoryAddition? Check(InventoryAddRequest request, string keyId, LimitOptions limits, Errors errors)
    {
        var label = CheckLabel(request.Label, limits, errors);
        if (request.Tokens is not null && request.Digests is not null)
        {
            errors.Add("body", "give tokens or digests, not both");
            return null;
        }
        if (request.Tokens is null && request.Digests is null)
        {
            errors.Add("body", "give tokens (plaintext, reduced to digests at once) or digests (made offline: leaknode inventory digest)");
            return null;
        }
        if (request.Scheme is { } scheme && scheme != TokenDigest.Scheme)
        {
            errors.Add("scheme", $"must be {TokenDigest.Scheme}, the digest scheme this cloud reads");
        }

        var field = request.Tokens is not null ? "tokens" : "digests";
        var count = request.Tokens?.Count ?? request.Digests!.Count;
        if (count == 0)
        {
            errors.Add(field, "at least one is required");
            return null;
        }
        if (count > limits.MaxInventoryItemsPerRequest)
        {
            errors.Add(field, $"at most {limits.MaxInventoryItemsPerRequest} a request (Limits:MaxInventoryItemsPerRequest); send the rest in further requests");
            return null;
        }

        if (request.Tokens is { } tokens)
        {
            if (request.KeyId is not null)
            {
                errors.Add("keyId", "goes with digests only: plaintext tokens are digested here with the current key");
            }
            var checkedTokens = CheckTokens(tokens, limits, errors);
            return errors.Any ? null : new InventoryAddition(checkedTokens, null, label, count);
        }

        CheckKeyId(request.KeyId, keyId, errors);
        var digests = CheckDigests(request.Digests!, limits, errors);
        return errors.Any ? null : new InventoryAddition(null, digests, label, count);
    }

    private static string? CheckLabel(string? value, LimitOptions limits, Errors errors)
    {
        var label = value?.Trim();
        if (string.IsNullOrEmpty(label))
        {
            return null;
        }
        if (label.Length > limits.MaxNameLength)
        {
            errors.Add("label", $"must be at most {limits.MaxNameLength} characters (Limits:MaxNameLength)");
        }
        else if (label.Any(char.IsControl))
        {
            errors.Add("label", "must not contain control characters");
        }
        return label;
    }

    private static void CheckKeyId(string? given, string current, Errors errors)
    {
        if (string.IsNullOrEmpty(given))
        {
            errors.Add("keyId", $"is required with digests: the id of the inventory key they were made with (the current one is '{current}')");
        }
        else if (!string.Equals(given, current, StringComparison.Ordinal))
        {
            // The given id is echoed cut short: it is a key id, never a token, but it is still the caller's text.
            var shown = given.Length <= 32 ? given : given[..32] + "…";
            errors.Add(
                "keyId",
                $"the digests were made with key '{shown}', but the inventory key is '{current}': digest the tokens again with the current key (leaknode inventory digest fetches it)");
        }
    }

    private static List<string> CheckTokens(IReadOnlyList<string?> tokens, LimitOptions limits, Errors errors)
    {
        var max = MaxTokenLength(limits);
        var accepted = new List<string>(tokens.Count);
        for (var i = 0; i < tokens.Count; i++)
        {
            if (TokenProblem(tokens[i], max) is { } problem)
            {
                errors.Add(Item("tokens", i), problem);
            }
            else
            {
                accepted.Add(tokens[i]!);
            }
        }
        return accepted;
    }

    private static string? TokenProblem(string? token, int maxLength)
    {
        if (token is null)
        {
            return "must be a string";
        }
        var bytes = Encoding.UTF8.GetByteCount(token);
        if (bytes < WindowPlan.MinTokenLength)
        {
            return $"must be at least {WindowPlan.MinTokenLength} characters: shorter strings occur by chance in ordinary traffic";
        }
        if (bytes > maxLength)
        {
            return $"must be at most {maxLength} bytes (Limits:MaxTokenLength)";
        }
        return token.Any(char.IsControl) ? "must not contain control characters (a line break copied with it?)" : null;
    }

    private static List<TokenDigest> CheckDigests(IReadOnlyList<InventoryDigestRequest?> items, LimitOptions limits, Errors errors)
    {
        var max = MaxTokenLength(limits);
        var digests = new List<TokenDigest>(items.Count);
        for (var i = 0; i < items.Count; i++)
        {
            var at = Item("digests", i);
            if (items[i] is not { } item)
            {
                errors.Add(at, "must be an object {length, spanStart, windows, hmac, preview}");
                continue;
            }
            var problems = 0;
            void Problem(string field, string message)
            {
                errors.Add(at + "." + field, message);
                problems++;
            }

            if (item.Length is null)
            {
                Problem("length", "is required");
            }
            else if (item.Length < WindowPlan.MinTokenLength || item.Length > max)
            {
                Problem("length", $"must be from {WindowPlan.MinTokenLength} to {max} (Limits:MaxTokenLength)");
            }
            if (item.SpanStart is null)
            {
                Problem("spanStart", "is required");
            }
            if (item.Windows is null)
            {
                Problem("windows", "is required");
            }
            if (item.Hmac is null)
            {
                Problem("hmac", "is required");
            }
            else if (item.Hmac.Length != TokenDigest.HmacLength)
            {
                Problem("hmac", $"must be the first {TokenDigest.HmacLength} bytes of the token's HMAC, in base64; it is {item.Hmac.Length} bytes");
            }
            if (item.Preview is not null && !TokenPreview.IsWellFormed(item.Preview))
            {
                Problem("preview", "must be a masked preview as the helper makes it: a public format prefix or nothing, '…', at most 4 last characters");
            }
            // The window count and the span's place follow from the length: checked only once the length is good.
            if (item.Length is { } tokenLength && tokenLength >= WindowPlan.MinTokenLength && tokenLength <= max)
            {
                var windows = WindowPlan.DigestWindowCount(tokenLength);
                if (item.Windows is not null && item.Windows.Length != windows)
                {
                    Problem("windows", $"must hold {windows} window hashes for a token of length {tokenLength}; it holds {item.Windows.Length}");
                }
                var lastStart = tokenLength - WindowPlan.SpanLength(tokenLength);
                if (item.SpanStart is < 0 || item.SpanStart > lastStart)
                {
                    Problem("spanStart", $"must be from 0 to {lastStart} for a token of length {tokenLength}");
                }
            }
            if (problems > 0)
            {
                continue;
            }
            var digest = new TokenDigest("inventory", item.Length!.Value, item.SpanStart!.Value, item.Windows!, item.Hmac!, item.Preview);
            // Every rule Validate knows is checked above field by field; the matcher's own check stays as the last word.
            if (digest.Validate() is { } invalid)
            {
                errors.Add(at, invalid);
                continue;
            }
            digests.Add(digest);
        }
        return digests;
    }

    private static string Item(string list, int index) => list + "[" + index.ToString(CultureInfo.InvariantCulture) + "]";
}
