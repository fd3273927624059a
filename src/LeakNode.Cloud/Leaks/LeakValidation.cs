using System.Text;
using LeakNode.Cloud.Api;
using LeakNode.Cloud.Configuration;
using LeakNode.Matching.Digests;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace LeakNode.Cloud.Leaks;

/// <summary>Checks leak requests against the limits; errors name the field (a token by its index, never its value).</summary>
internal static class LeakValidation
{
    /// <summary>The risk of a manual leak when none is given: the middle of the scale, for the user to judge.</summary>
    public const int DefaultRisk = 5;

    public static NewLeak? Check(CreateLeakRequest request, LimitOptions limits, Errors errors)
    {
        var name = CheckName(request.Name, limits, errors, required: true);
        var description = CheckDescription(request.Description, limits, errors);
        CheckRisk(request.Risk, errors);

        var tokens = CheckTokens(request.Tokens, limits, errors);

        var kind = request.Source?.Kind ?? LeakSources.Manual;
        if (!LeakSources.Kinds.Contains(kind))
        {
            errors.Add("source.kind", $"must be one of {string.Join(", ", LeakSources.Kinds)}");
        }
        var url = CheckUrl(request.Source?.Url, limits, errors);
        var location = request.Source?.Location;
        if (location is not null && location.Length > limits.MaxUrlLength)
        {
            errors.Add("source.location", $"must be at most {limits.MaxUrlLength} characters");
        }
        return errors.Any ? null : new NewLeak(name!, description ?? "", request.Risk ?? DefaultRisk, tokens, kind, url, location);
    }

    /// <summary>Checks a token list: 1 to Limits:MaxTokensPerLeak tokens, each long enough; the same token twice is kept once.</summary>
    public static List<string> CheckTokens(IReadOnlyList<string?>? requested, LimitOptions limits, Errors errors)
    {
        var tokens = new List<string>();
        if (requested is null || requested.Count == 0)
        {
            errors.Add("tokens", "at least one token is required");
        }
        else if (requested.Count > limits.MaxTokensPerLeak)
        {
            errors.Add("tokens", $"at most {limits.MaxTokensPerLeak} tokens a leak (Limits:MaxTokensPerLeak)");
        }
        else
        {
            // The same token twice is kept once: a paste often repeats the token it leaks.
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < requested.Count; i++)
            {
                var token = requested[i];
                var field = $"tokens[{i}]";
                if (token is null)
                {
                    errors.Add(field, "must be a string");
                    continue;
                }
                var bytes = Encoding.UTF8.GetByteCount(token);
                if (token.Length < WindowPlan.MinTokenLength || bytes < WindowPlan.MinTokenLength)
                {
                    errors.Add(field, $"must be at least {WindowPlan.MinTokenLength} characters: shorter strings occur by chance in ordinary traffic");
                }
                else if (bytes > limits.MaxTokenLength)
                {
                    errors.Add(field, $"must be at most {limits.MaxTokenLength} bytes (Limits:MaxTokenLength)");
                }
                else if (token.Any(char.IsControl))
                {
                    errors.Add(field, "must not contain control characters (a line break copied with it?)");
                }
                else if (seen.Add(token))
                {
                    tokens.Add(token);
                }
            }
        }

        return tokens;
    }

    public static (List<string> Tokens, string? Comment) Check(AddTokensRequest request, LimitOptions limits, Errors errors) =>
        (CheckTokens(request.Tokens, limits, errors), CheckComment(new LifecycleRequest(request.Comment), limits, errors));

    public static LeakEdit? Check(UpdateLeakRequest request, LimitOptions limits, Errors errors)
    {
        if (request.Name is null && request.Description is null && request.Risk is null)
        {
            errors.Add("body", "give at least one of name, description, risk");
            return null;
        }
        var name = request.Name is null ? null : CheckName(request.Name, limits, errors, required: true);
        var description = CheckDescription(request.Description, limits, errors);
        CheckRisk(request.Risk, errors);
        return errors.Any ? null : new LeakEdit(name, description, request.Risk);
    }

    public static string? CheckComment(LifecycleRequest? request, LimitOptions limits, Errors errors)
    {
        var comment = request?.Comment?.Trim();
        if (comment is not null && comment.Length > limits.MaxCommentLength)
        {
            errors.Add("comment", $"must be at most {limits.MaxCommentLength} characters (Limits:MaxCommentLength)");
        }
        return string.IsNullOrEmpty(comment) ? null : comment;
    }

    /// <summary>Reads the list filters (<c>status</c>, <c>risk</c>, <c>source</c>, <c>q</c>, <c>since</c>); each list may repeat or hold a comma-separated list.</summary>
    public static LeakFilter ReadFilter(IQueryCollection query, Func<string, string?> fingerprintOf, Errors errors)
    {
        var statuses = Values(query["status"], "status", LeakStatuses.All, errors);
        var risks = Values(query["risk"], "risk", RiskLevels.All, errors);
        var sources = Values(query["source"], "source", LeakSources.Kinds, errors);
        var text = query["q"].ToString().Trim();
        if (text.Length > 512)
        {
            errors.Add("q", "must be at most 512 characters");
        }
        long? since = null;
        var sinceText = query["since"].ToString();
        if (sinceText.Length > 0)
        {
            if (DateTimeOffset.TryParse(sinceText, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var time))
            {
                since = time.ToUnixTimeMilliseconds();
            }
            else
            {
                errors.Add("since", "must be an ISO 8601 date or time, e.g. 2026-01-31 or 2026-01-31T12:00:00Z");
            }
        }
        return new LeakFilter(statuses, risks, sources, text.Length == 0 ? null : text, text.Length == 0 ? null : fingerprintOf(text), since);
    }

    public static (LeakSort Sort, IReadOnlyList<object>? After, int Limit) ReadPaging(IQueryCollection query, LimitOptions limits, Errors errors)
    {
        var sortName = query["sort"].ToString();
        if (sortName.Length == 0)
        {
            sortName = LeakSort.Default;
        }
        if (!LeakSort.All.TryGetValue(sortName, out var sort))
        {
            errors.Add("sort", $"must be one of {string.Join(", ", LeakSort.All.Keys)}");
            sort = LeakSort.All[LeakSort.Default];
        }
        var limit = ReadLimit(query, limits, errors);
        IReadOnlyList<object>? after = null;
        var cursor = query["cursor"].ToString();
        if (cursor.Length > 0)
        {
            after = sort.ParseCursor(cursor);
            if (after is null)
            {
                errors.Add("cursor", "not a cursor of this list: pass nextCursor back unchanged, with the same sort");
            }
        }
        return (sort, after, limit);
    }

    public static int ReadLimit(IQueryCollection query, LimitOptions limits, Errors errors)
    {
        var text = query["limit"].ToString();
        if (text.Length == 0)
        {
            return limits.DefaultPageSize;
        }
        if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var limit) || limit < 1 || limit > limits.MaxPageSize)
        {
            errors.Add("limit", $"must be a whole number from 1 to {limits.MaxPageSize} (Limits:MaxPageSize)");
            return limits.DefaultPageSize;
        }
        return limit;
    }

    private static List<string> Values(StringValues raw, string field, IReadOnlyList<string> allowed, Errors errors)
    {
        var values = new List<string>();
        foreach (var item in raw)
        {
            foreach (var value in (item ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (allowed.Contains(value))
                {
                    values.Add(value);
                }
                else
                {
                    // The value is not echoed: a query string is where a pasted token ends up by mistake.
                    errors.Add(field, $"must be one of {string.Join(", ", allowed)}");
                }
            }
        }
        return values;
    }

    private static string? CheckName(string? value, LimitOptions limits, Errors errors, bool required)
    {
        var name = value?.Trim();
        if (string.IsNullOrEmpty(name))
        {
            if (required)
            {
                errors.Add("name", "is required");
            }
            return null;
        }
        if (name.Length > limits.MaxNameLength)
        {
            errors.Add("name", $"must be at most {limits.MaxNameLength} characters (Limits:MaxNameLength)");
        }
        return name;
    }

    private static string? CheckDescription(string? value, LimitOptions limits, Errors errors)
    {
        var description = value?.Trim();
        if (description is not null && description.Length > limits.MaxDescriptionLength)
        {
            errors.Add("description", $"must be at most {limits.MaxDescriptionLength} characters (Limits:MaxDescriptionLength)");
        }
        return description;
    }

    private static void CheckRisk(int? risk, Errors errors)
    {
        if (risk is < 1 or > 10)
        {
            errors.Add("risk", "must be a score from 1 to 10");
        }
    }

    private static string? CheckUrl(string? value, LimitOptions limits, Errors errors)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }
        if (value.Length > limits.MaxUrlLength)
        {
            errors.Add("source.url", $"must be at most {limits.MaxUrlLength} characters (Limits:MaxUrlLength)");
        }
        // "://" as well: on Unix, Uri takes "/a/b" for an absolute file:// URI.
        else if (!Uri.TryCreate(value.Trim(), UriKind.Absolute, out _) || !value.Contains("://", StringComparison.Ordinal))
        {
            errors.Add("source.url", "must be an absolute URL (scheme://…)");
        }
        return value.Trim();
    }
}
