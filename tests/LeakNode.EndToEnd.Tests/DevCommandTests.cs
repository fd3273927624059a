using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using LeakNode.Testing.Processes;

namespace LeakNode.EndToEnd.Tests;

/// <summary><c>leaknode dev</c>, the README's run command, does what its banner says.</summary>
public sealed partial class DevCommandTests
{
    [Fact]
    public async Task Dev_Walkthrough_PassesThenBlocksAfterVpatch_AndKeepsStateAcrossRuns()
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "leaknode-dev-" + Guid.NewGuid().ToString("N")[..12]);
        string[] arguments =
        [
            "dev", "--data-dir", dataDir,
            "--http", "http://127.0.0.1:0", "--grpc", "http://127.0.0.1:0", "--proxy", "http://127.0.0.1:0", "--admin", "http://127.0.0.1:0",
        ];
        try
        {
            string token;
            string signIn;
            await using (var dev = LeakNodeProcess.Start(arguments))
            {
                // The banner arrives a line at a time: wait for its last line, not its first.
                await dev.WaitForOutputAsync("Start over:", TimeSpan.FromSeconds(90));
                var (proxy, demoToken, vpatch, adminKey) = ParseBanner(dev.Output);
                token = demoToken;
                signIn = ConsoleSignIn(dev.Output);
                using var client = new HttpClient();

                Assert.Equal(HttpStatusCode.OK, await AttemptAsync(client, proxy, token));

                using (var request = new HttpRequestMessage(HttpMethod.Post, vpatch) { Content = new StringContent("{\"comment\":\"block it\"}", System.Text.Encoding.UTF8, "application/json") })
                {
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
                    using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
                    Assert.True(response.IsSuccessStatusCode, $"vpatch answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)}");
                }
                var clock = System.Diagnostics.Stopwatch.StartNew();
                while (await AttemptAsync(client, proxy, token) != HttpStatusCode.Forbidden)
                {
                    Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "The node did not block after the vpatch.\n" + dev.Output);
                    await Task.Delay(20, TestContext.Current.CancellationToken);
                }
                Assert.True(clock.Elapsed <= TimeSpan.FromSeconds(1), $"The vpatch took {clock.ElapsedMilliseconds} ms to reach the node.");

                Assert.Equal(0, await dev.TerminateAsync(TimeSpan.FromSeconds(30)));
            }

            // A second run continues: the same demo leak, still patched.
            await using (var again = LeakNodeProcess.Start(arguments))
            {
                await again.WaitForOutputAsync("Start over:", TimeSpan.FromSeconds(90));
                var (proxy, demoToken, _, _) = ParseBanner(again.Output);
                Assert.Equal(token, demoToken);
                // The console's admin keeps the password the first run printed.
                Assert.Equal(signIn, ConsoleSignIn(again.Output));
                using var client = new HttpClient();
                Assert.Equal(HttpStatusCode.Forbidden, await AttemptAsync(client, proxy, token));
                Assert.Equal(0, await again.TerminateAsync(TimeSpan.FromSeconds(30)));
            }
        }
        finally
        {
            try
            {
                Directory.Delete(dataDir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task<HttpStatusCode> AttemptAsync(HttpClient client, Uri proxy, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(proxy, "/api/orders"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        return response.StatusCode;
    }

    private static (Uri Proxy, string Token, Uri Vpatch, string AdminKey) ParseBanner(string output)
    {
        var attempt = Attempt().Match(output);
        var vpatch = Vpatch().Match(output);
        Assert.True(attempt.Success && vpatch.Success, "The banner lacks the curl commands:\n" + output);
        return (new Uri(attempt.Groups["proxy"].Value), attempt.Groups["token"].Value, new Uri(vpatch.Groups["url"].Value), vpatch.Groups["key"].Value);
    }

    /// <summary>The console's email and password from the banner.</summary>
    private static string ConsoleSignIn(string output)
    {
        var match = SignIn().Match(output);
        Assert.True(match.Success, "The banner lacks the console's sign-in:\n" + output);
        Assert.True(match.Groups["password"].Value.Length >= 12, "The console password is too short:\n" + output);
        return match.Value;
    }

    [GeneratedRegex(@"console sign-in\s+(?<email>\S+@\S+)\s+/\s+(?<password>\S+)")]
    private static partial Regex SignIn();

    [GeneratedRegex(@"curl -i (?<proxy>http://\S+)/api/orders -H 'Authorization: Bearer (?<token>[^']+)'")]
    private static partial Regex Attempt();

    [GeneratedRegex(@"curl -s -X POST (?<url>http://\S+/vpatch) -H 'Authorization: Bearer (?<key>[^']+)'")]
    private static partial Regex Vpatch();
}
