using System.Text;
using Dapper;

namespace LeakNode.Cloud.Storage;

/// <summary>
/// <c>IN (…)</c> lists that run on both databases. Dapper expands <c>IN @list</c> for SQLite but hands Npgsql the
/// list as one array parameter, which <c>IN</c> cannot take (it would need <c>= ANY(@list)</c>); spelling the
/// parameters out keeps one SQL text for both.
/// </summary>
internal static class SqlList
{
    /// <summary>Adds <paramref name="values"/> as <c>@name0, @name1, …</c> and returns <c>(@name0, @name1, …)</c>. The list must not be empty.</summary>
    public static string In<T>(DynamicParameters parameters, string name, IReadOnlyList<T> values)
    {
        ArgumentOutOfRangeException.ThrowIfZero(values.Count);
        var sql = new StringBuilder("(");
        for (var i = 0; i < values.Count; i++)
        {
            var parameter = name + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            sql.Append(i == 0 ? "@" : ", @").Append(parameter);
            parameters.Add(parameter, values[i]);
        }
        return sql.Append(')').ToString();
    }

    /// <summary>A fresh parameter set holding only the list, and the <c>IN</c> text for it.</summary>
    public static (string Sql, DynamicParameters Parameters) In<T>(string name, IReadOnlyList<T> values)
    {
        var parameters = new DynamicParameters();
        return (In(parameters, name, values), parameters);
    }
}
