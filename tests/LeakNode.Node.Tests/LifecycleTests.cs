using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using LeakNode.Node.Tests.Support;

namespace LeakNode.Node.Tests;

public sealed class LifecycleTests
{
    private const string Token = "ghp_lifecycleTestToken000000000000000000";

    [Fact]
    public async Task StopAsync_WithRequestInFlight_LetsItFinish()
    {
        var node = await NodeHarness.StartAsync([("leak", "block", [Token])]);
        try
        {
            var slow = node.Client.GetAsync("/slow", TestContext.Current.CancellationToken);
            await Task.Delay(300, TestContext.Current.CancellationToken);

            var stopping = node.Node.StopAsync(TestContext.Current.CancellationToken);
            using var response = await slow;
            await stopping;

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("slow done", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
            await Assert.ThrowsAsync<HttpRequestException>(() => node.Client.GetAsync("/after", TestContext.Current.CancellationToken));
        }
        finally
        {
            await node.DisposeAsync();
        }
    }

    [Fact]
    public async Task Https_WithPemCertificate_ServesHttp2AndBlocks()
    {
        var folder = Directory.CreateTempSubdirectory("leaknode-tls-").FullName;
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        await File.WriteAllTextAsync(Path.Combine(folder, "cert.pem"), certificate.ExportCertificatePem(), TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(folder, "key.pem"), key.ExportPkcs8PrivateKeyPem(), TestContext.Current.CancellationToken);

        await using var node = await NodeHarness.StartAsync([("leak", "block", [Token])], new Dictionary<string, string?>
        {
            ["Listen:Proxy"] = "https://127.0.0.1:0",
            ["Listen:Certificate:Path"] = Path.Combine(folder, "cert.pem"),
            ["Listen:Certificate:KeyPath"] = Path.Combine(folder, "key.pem"),
        });
        using var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, presented, _, _) => presented?.GetCertHashString() == certificate.GetCertHashString(),
        };
        using var client = new HttpClient(handler) { BaseAddress = node.Node.ProxyUrl, DefaultRequestVersion = HttpVersion.Version20 };

        using var clean = await client.GetAsync("/a", TestContext.Current.CancellationToken);
        using var leaked = await client.GetAsync("/a?t=" + Token, TestContext.Current.CancellationToken);

        Assert.Equal("https", node.Node.ProxyUrl.Scheme);
        Assert.Equal(HttpVersion.Version20, clean.Version);
        Assert.Equal(HttpStatusCode.OK, clean.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, leaked.StatusCode);
    }
}
