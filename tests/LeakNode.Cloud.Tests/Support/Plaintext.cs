using System.Text;

namespace LeakNode.Cloud.Tests.Support;

/// <summary>Where a plaintext token must never be (PRODUCT.md): the cloud's log lines, its answers, and every byte it stored.</summary>
public static class Plaintext
{
    /// <summary>
    /// The texts to search, by where they come from: <c>logs</c>, <c>answers</c>, and each file of the data folder
    /// (SQLite: the database, its WAL, the master key) or, on PostgreSQL, <c>database</c> (every value of every table).
    /// Call it once the cloud has stopped, so that everything it wrote is on disk.
    /// </summary>
    public static async Task<Dictionary<string, string>> HaystacksAsync(CloudHarness cloud)
    {
        var haystacks = new Dictionary<string, string>
        {
            ["logs"] = string.Join('\n', cloud.Logs),
            ["answers"] = string.Join('\n', cloud.Responses),
        };
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(cloud.Folder, "data")))
        {
            // Latin-1 keeps every byte as one char, so a UTF-8 token shows as its own bytes wherever it lies.
            haystacks[Path.GetFileName(file)] = Encoding.Latin1.GetString(await File.ReadAllBytesAsync(file, CloudApi.Ct));
        }
        if (CloudHarness.PostgresServer is not null)
        {
            haystacks["database"] = await cloud.DumpPostgresAsync();
        }
        return haystacks;
    }

    /// <summary>Fails when any of <paramref name="tokens"/> is in any haystack, naming where (never the token).</summary>
    public static void AssertAbsent(IEnumerable<string> tokens, IReadOnlyDictionary<string, string> haystacks)
    {
        foreach (var token in tokens)
        {
            var latin1 = Encoding.Latin1.GetString(Encoding.UTF8.GetBytes(token));
            foreach (var (where, text) in haystacks)
            {
                Assert.False(text.Contains(where is "logs" or "answers" ? token : latin1, StringComparison.Ordinal), $"a plaintext token is in {where}");
            }
        }
    }
}
