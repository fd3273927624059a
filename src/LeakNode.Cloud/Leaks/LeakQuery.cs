using System.Text;
using System.Text.Json;
using Dapper;
using LeakNode.Cloud.Storage;

namespace LeakNode.Cloud.Leaks;

/// <summary>What a list, the stats or an export select: each list is "any of", an empty list selects all.</summary>
/// <param name="Since">Leaks discovered (created) at or after this time, Unix milliseconds; null for any time.</param>
internal sealed record LeakFilter(IReadOnlyList<string> Statuses, IReadOnlyList<string> RiskLevels, IReadOnlyList<string> SourceKinds, string? Text, string? TextFingerprint, long? Since = null)
{
    /// <summary>Appends the filter's conditions on the leaks aliased <c>l</c>.</summary>
    public void AppendWhere(StringBuilder sql, DynamicParameters parameters)
    {
        if (Statuses.Count > 0)
        {
            sql.Append(" AND l.status IN ").Append(SqlList.In(parameters, "status", Statuses));
        }
        if (RiskLevels.Count > 0)
        {
            sql.Append(" AND (");
            for (var i = 0; i < RiskLevels.Count; i++)
            {
                var (min, max) = Leaks.RiskLevels.Range(RiskLevels[i]);
                sql.Append(i == 0 ? "" : " OR ").Append($"l.risk BETWEEN @riskMin{i} AND @riskMax{i}");
                parameters.Add($"riskMin{i}", min);
                parameters.Add($"riskMax{i}", max);
            }
            sql.Append(')');
        }
        if (SourceKinds.Count > 0)
        {
            sql.Append(" AND EXISTS (SELECT 1 FROM leak_sources fs WHERE fs.leak_id = l.id AND fs.kind IN ")
               .Append(SqlList.In(parameters, "sourceKind", SourceKinds)).Append(')');
        }
        if (Since is { } since)
        {
            sql.Append(" AND l.created_at >= @since");
            parameters.Add("since", since);
        }
        if (!string.IsNullOrEmpty(Text))
        {
            // Names and descriptions are matched lower-cased on both sides (stored lower-cased), which behaves the
            // same on SQLite, whose LIKE ignores ASCII case only, and on PostgreSQL, whose LIKE is case-sensitive.
            // A fingerprint, or a token itself (matched by its fingerprint, never stored), finds its leak too.
            var lower = Text.ToLowerInvariant();
            sql.Append(@" AND (l.name_lower LIKE @text ESCAPE '\' OR l.description_lower LIKE @text ESCAPE '\' OR l.id = @textExact")
               .Append(" OR EXISTS (SELECT 1 FROM leak_tokens ft WHERE ft.leak_id = l.id AND ft.fingerprint IN ")
               .Append(SqlList.In(parameters, "fingerprint", TextFingerprint is null ? new[] { lower } : new[] { lower, TextFingerprint }))
               .Append("))");
            parameters.Add("text", "%" + lower.Replace(@"\", @"\\", StringComparison.Ordinal).Replace("%", @"\%", StringComparison.Ordinal).Replace("_", @"\_", StringComparison.Ordinal) + "%");
            parameters.Add("textExact", Text);
        }
    }
}

/// <summary>
/// A list order: its keys, last always the id so that the order is total, which keyset paging needs. The cursor
/// carries the last row's keys: a page after it starts strictly after that row, so leaks added meanwhile never
/// shift a walk (unlike an offset).
/// </summary>
internal sealed class LeakSort
{
    public const string Default = "status";

    public static readonly IReadOnlyDictionary<string, LeakSort> All = new Dictionary<string, LeakSort>(StringComparer.Ordinal)
    {
        // Open leaks first (they need a decision), newest first within a status.
        ["status"] = new("status", ("l.status_rank", false), ("l.created_at", true), ("l.id", true)),
        ["newest"] = new("newest", ("l.created_at", true), ("l.id", true)),
        ["oldest"] = new("oldest", ("l.created_at", false), ("l.id", false)),
        ["risk"] = new("risk", ("l.risk", true), ("l.created_at", true), ("l.id", true)),
        ["updated"] = new("updated", ("l.updated_at", true), ("l.id", true)),
        ["name"] = new("name", ("l.name_lower", false), ("l.id", false)),
    };

    private readonly (string Column, bool Descending)[] _keys;

    private LeakSort(string name, params (string Column, bool Descending)[] keys)
    {
        Name = name;
        _keys = keys;
    }

    public string Name { get; }

    public string OrderBy => string.Join(", ", _keys.Select(k => k.Column + (k.Descending ? " DESC" : " ASC")));

    /// <summary>Appends "after the cursor's row" to a WHERE clause: (k1 after v1) or (k1 = v1 and k2 after v2) or ….</summary>
    public void AppendAfter(StringBuilder sql, DynamicParameters parameters, IReadOnlyList<object> cursor)
    {
        sql.Append(" AND (");
        for (var i = 0; i < _keys.Length; i++)
        {
            sql.Append(i == 0 ? "(" : " OR (");
            for (var j = 0; j < i; j++)
            {
                sql.Append($"{_keys[j].Column} = @cursor{j} AND ");
            }
            sql.Append($"{_keys[i].Column} {(_keys[i].Descending ? "<" : ">")} @cursor{i})");
        }
        sql.Append(')');
        for (var i = 0; i < _keys.Length; i++)
        {
            parameters.Add($"cursor{i}", cursor[i]);
        }
    }

    public string CursorOf(LeakRow row)
    {
        var values = _keys.Select(k => KeyOf(row, k.Column)).ToArray();
        var json = JsonSerializer.SerializeToUtf8Bytes(new CursorBody(Name, values), JsonSerializerOptions.Web);
        return Ids.Base64Url(json);
    }

    /// <summary>The keys a cursor carries, or null when it is not a cursor of this order.</summary>
    public IReadOnlyList<object>? ParseCursor(string cursor)
    {
        try
        {
            using var document = JsonDocument.Parse(Ids.FromBase64Url(cursor));
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("s", out var sort) || sort.GetString() != Name
                || !root.TryGetProperty("k", out var keys) || keys.ValueKind != JsonValueKind.Array || keys.GetArrayLength() != _keys.Length)
            {
                return null;
            }
            var values = new object[_keys.Length];
            for (var i = 0; i < _keys.Length; i++)
            {
                var key = keys[i];
                var text = IsText(_keys[i].Column);
                if (text && key.ValueKind == JsonValueKind.String)
                {
                    values[i] = key.GetString()!;
                }
                else if (!text && key.ValueKind == JsonValueKind.Number && key.TryGetInt64(out var number))
                {
                    values[i] = number;
                }
                else
                {
                    return null;
                }
            }
            return values;
        }
        catch (Exception error) when (error is FormatException or JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    private static bool IsText(string column) => column is "l.id" or "l.name_lower";

    private static object KeyOf(LeakRow row, string column) => column switch
    {
        "l.status_rank" => row.StatusRank,
        "l.created_at" => row.CreatedAt,
        "l.updated_at" => row.UpdatedAt,
        "l.risk" => row.Risk,
        "l.name_lower" => row.NameLower,
        _ => row.Id,
    };

    private sealed record CursorBody(string S, object[] K);
}

/// <summary>A leak's row.</summary>
internal sealed class LeakRow
{
    public string Id { get; set; } = "";

    public string Name { get; set; } = "";

    public string NameLower { get; set; } = "";

    public string Description { get; set; } = "";

    public long Risk { get; set; }

    public string Status { get; set; } = "";

    public long StatusRank { get; set; }

    public string Remediation { get; set; } = "";

    public long TokenCount { get; set; }

    public long CreatedAt { get; set; }

    public long UpdatedAt { get; set; }

    /// <summary>The factors a scan scored the risk from, one a line; null when a person set the risk.</summary>
    public string? RiskReasons { get; set; }

    /// <summary>1 once a person has set the risk: later scans then leave it alone.</summary>
    public long RiskByUser { get; set; }

    public const string Columns =
        "l.id, l.name, l.name_lower, l.description, l.risk, l.status, l.status_rank, l.remediation, l.token_count, l.created_at, l.updated_at, l.risk_reasons, l.risk_by_user";
}
