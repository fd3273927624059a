using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using LeakNode.Cloud;
using LeakNode.Protocol.V1;
using LeakNode.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace LeakNode.Benchmarks.Propagation;

/// <summary>
/// <c>propagation</c>: how fast a change made through the REST API is in force on every node, and how many attack
/// events a second the cloud stores. A real cloud (SQLite in a temporary folder, then, with a server given, PostgreSQL
/// in a database made for the run; both listeners on loopback) and
/// real gRPC clients as nodes, each on its own HTTP/2 connection as separate machines would be.
/// </summary>
/// <remarks>
/// One round: create a leak (not timed; every node gets and acks it), then apply its virtual patch and time from
/// just before the REST call until the last node has acked the version that blocks it. That is what a user waits
/// for between "apply the patch" and "blocked everywhere", less the nodes' own build time (a delta of one leak
/// builds in well under a millisecond: bench/README.md, "add one leak").
/// </remarks>
internal static class PropagationBenchmark
{
    /// <param name="postgres">A PostgreSQL server (Npgsql connection string) to run on too, after SQLite, in a database made for the run; null: SQLite only.</param>
    public static async Task RunAsync(int[] nodeCounts, int rounds, int eventStreams, int eventsPerStream, int batchSize, string? postgres)
    {
        var propagation = new List<string>();
        var ingest = new List<string>();
        string?[] servers = postgres is null ? [null] : [null, postgres];
        foreach (var server in servers)
        {
            await using var scratch = await ScratchDatabase.CreateAsync(server);
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(scratch.Settings()).Build();
            await using var cloud = await CloudApplication.StartAsync(configuration, logging => logging.SetMinimumLevel(LogLevel.Warning));
            using var api = new HttpClient { BaseAddress = cloud.HttpUrl, Timeout = TimeSpan.FromMinutes(1) };
            api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", cloud.BootstrapAdminKey);
            var tokens = new TokenFactory(2026);
            foreach (var count in nodeCounts)
            {
                var nodes = await ConnectAsync(cloud.GrpcUrl, api, count);
                try
                {
                    var result = await MeasureAsync(api, nodes, tokens, rounds);
                    propagation.Add(string.Create(CultureInfo.InvariantCulture,
                        $"| {scratch.Provider} | {count} | {result.Last.P(50):0.0} ms | {result.Last.P(99):0.0} ms | {result.Last.Max():0.0} ms | {result.Call.P(50):0.0} ms | {result.First.P(50):0.0} ms |"));
                    Console.WriteLine(propagation[^1]);
                }
                finally
                {
                    await Task.WhenAll(nodes.Select(n => n.DisposeAsync().AsTask()));
                }
            }
            ingest.Add($"| {scratch.Provider} | {await IngestAsync(cloud.GrpcUrl, api, tokens, eventStreams, eventsPerStream, batchSize)} |");
            Console.WriteLine(ingest[^1]);
        }

        Console.WriteLine();
        Console.WriteLine($"Rule propagation: {rounds} rounds a row; time from the vpatch REST call to the last node's ack.");
        Console.WriteLine();
        Console.WriteLine("| database | nodes | p50 | p99 | max | REST call p50 | first node p50 |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        propagation.ForEach(Console.WriteLine);
        Console.WriteLine();
        Console.WriteLine($"Event ingest: {eventStreams} streams × {eventsPerStream:N0} events in batches of {batchSize}, one batch in flight a stream.");
        Console.WriteLine();
        Console.WriteLine("| database | events stored | time | events/s |");
        Console.WriteLine("|---|---:|---:|---:|");
        ingest.ForEach(Console.WriteLine);
    }

    private static async Task<List<SimulatedNode>> ConnectAsync(Uri grpcUrl, HttpClient api, int count)
    {
        var nodes = new List<SimulatedNode>(count);
        for (var i = 0; i < count; i++)
        {
            var token = (await PostAsync(api, "/api/v1/nodes", new { name = $"bench-{count}-{i}" })).GetProperty("token").GetString()!;
            nodes.Add(await SimulatedNode.ConnectAsync(grpcUrl, token));
        }
        // Each node's first update is a snapshot (it said hello with no key); wait until all have acked one.
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await Task.WhenAll(nodes.Select(n => n.AckedAfterAsync(-1, timeout.Token)));
        return nodes;
    }

    private static async Task<(List<double> Last, List<double> First, List<double> Call)> MeasureAsync(HttpClient api, List<SimulatedNode> nodes, TokenFactory tokens, int rounds)
    {
        var last = new List<double>(rounds);
        var first = new List<double>(rounds);
        var rest = new List<double>(rounds);
        const int WarmUp = 3;
        for (var round = 0; round < rounds + WarmUp; round++)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            var before = nodes.Select(n => n.Acked).ToArray();
            var leak = await PostAsync(api, "/api/v1/leaks", new { name = $"bench leak {round}", tokens = new[] { "ghp_" + tokens.Chars(Base62, 36) } });
            await Task.WhenAll(nodes.Select((n, i) => n.AckedAfterAsync(before[i], timeout.Token)));

            before = [.. nodes.Select(n => n.Acked)];
            var start = Stopwatch.GetTimestamp();
            await PostAsync(api, $"/api/v1/leaks/{leak.GetProperty("id").GetString()}/vpatch", new { comment = "benchmark" });
            var answered = Stopwatch.GetTimestamp();
            var acks = await Task.WhenAll(nodes.Select((n, i) => n.AckedAfterAsync(before[i], timeout.Token)));
            if (round < WarmUp)
            {
                continue;
            }
            last.Add(Stopwatch.GetElapsedTime(start, acks.Max()).TotalMilliseconds);
            first.Add(Stopwatch.GetElapsedTime(start, acks.Min()).TotalMilliseconds);
            rest.Add(Stopwatch.GetElapsedTime(start, answered).TotalMilliseconds);
        }
        return (last, first, rest);
    }

    /// <summary>
    /// Event ingest: <paramref name="streams"/> nodes each send <paramref name="eventsPerStream"/> events in batches of
    /// <paramref name="batchSize"/>, one batch in flight a stream (a node sends its next batch once the last is acked).
    /// </summary>
    /// <returns>The table row's cells: events stored, time, events/s.</returns>
    private static async Task<string> IngestAsync(Uri grpcUrl, HttpClient api, TokenFactory tokens, int streams, int eventsPerStream, int batchSize)
    {
        var leak = await PostAsync(api, "/api/v1/leaks", new { name = "ingest", tokens = new[] { "ghp_" + tokens.Chars(Base62, 36) } });
        var leakId = leak.GetProperty("id").GetString()!;
        var tokenId = leak.GetProperty("tokens")[0].GetProperty("id").GetString()!;
        var nodeTokens = new List<string>();
        for (var i = 0; i < streams; i++)
        {
            nodeTokens.Add((await PostAsync(api, "/api/v1/nodes", new { name = $"ingest-{i}" })).GetProperty("token").GetString()!);
        }

        // Batches are made before the clock starts: what is timed is the cloud, not the making of test data.
        var batches = nodeTokens.Select(_ => MakeBatches(leakId, tokenId, eventsPerStream, batchSize)).ToList();
        var start = Stopwatch.GetTimestamp();
        var stored = await Task.WhenAll(nodeTokens.Select((token, i) => ShipAsync(grpcUrl, token, batches[i])));
        var elapsed = Stopwatch.GetElapsedTime(start);
        var total = stored.Sum();
        if (total != streams * eventsPerStream)
        {
            throw new InvalidOperationException($"stored {total} events of {streams * eventsPerStream}: the benchmark is wrong or the cloud lost events");
        }
        // The stored counts the cloud answered are what its day and hour counts (the list's total) were given.
        var listed = JsonSerializer.Deserialize<JsonElement>(await api.GetStringAsync($"/api/v1/attacks?limit=1&leakId={leakId}")).GetProperty("total").GetInt64();
        if (listed != total)
        {
            throw new InvalidOperationException($"the cloud answered {total} events stored, its total says {listed}");
        }
        return string.Create(CultureInfo.InvariantCulture, $"{total:N0} | {elapsed.TotalSeconds:0.00} s | {total / elapsed.TotalSeconds:N0}");
    }

    private static List<EventBatch> MakeBatches(string leakId, string tokenId, int events, int batchSize)
    {
        var batches = new List<EventBatch>();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        for (var i = 0; i < events; i += batchSize)
        {
            var batch = new EventBatch { BatchId = (ulong)batches.Count + 1 };
            for (var j = i; j < Math.Min(events, i + batchSize); j++)
            {
                batch.Events.Add(new AttackEvent
                {
                    Id = Guid.CreateVersion7().ToString(), Type = "vpatch", TimeUnixMs = now + j, LeakId = leakId, TokenId = tokenId,
                    TokenFingerprint = "00112233445566ff", TokenPreview = "ghp_…f00d", Action = "blocked", Hits = 1,
                    ClientIp = "192.0.2.10", Method = "GET", Host = "api.example.test", Path = "/v1/orders?page=" + j,
                    Location = "header:Authorization", StatusCode = 403,
                });
            }
            batches.Add(batch);
        }
        return batches;
    }

    private static async Task<int> ShipAsync(Uri grpcUrl, string token, List<EventBatch> batches)
    {
        using var channel = GrpcChannel.ForAddress(grpcUrl);
        using var call = new NodeSync.NodeSyncClient(channel).ShipEvents(new Metadata { { "authorization", "Bearer " + token } });
        var stored = 0;
        foreach (var batch in batches)
        {
            await call.RequestStream.WriteAsync(batch);
            if (!await call.ResponseStream.MoveNext(CancellationToken.None))
            {
                throw new InvalidOperationException("the cloud ended the event stream");
            }
            stored += call.ResponseStream.Current.Stored;
        }
        await call.RequestStream.CompleteAsync();
        return stored;
    }

    private static async Task<JsonElement> PostAsync(HttpClient api, string path, object body)
    {
        using var response = await api.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST {path} answered {(int)response.StatusCode}: {text}");
        }
        return JsonSerializer.Deserialize<JsonElement>(text);
    }

    private const string Base62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    /// <summary>The <paramref name="percent"/>th percentile (nearest rank).</summary>
    private static double P(this List<double> samples, int percent)
    {
        var sorted = samples.Order().ToList();
        var rank = (int)Math.Ceiling(percent / 100.0 * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }
}
