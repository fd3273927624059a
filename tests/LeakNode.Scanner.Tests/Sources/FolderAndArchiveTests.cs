using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using LeakNode.Scanner.Tests.Support;

namespace LeakNode.Scanner.Tests.Sources;

public sealed class FolderAndArchiveTests : IDisposable
{
    private readonly SecretFactory _factory = new(seed: 5);
    private readonly TempFolder _folder = new();

    [Fact]
    public async Task ScanAsync_ZipInsideTarGz_FoundWithTheNestedPath()
    {
        var token = _factory.GitHubStyle("gh" + "p_");
        var zip = Zip(("app/settings.json", $"{{\"token\": \"{token}\"}}\n"));
        var tarGz = TarGz(("release/bundle.zip", zip), ("release/README", Encoding.UTF8.GetBytes("hello\n")));
        _folder.Write("dist/release.tar.gz", tarGz);

        var result = await new SecretScanner().ScanAsync(_folder.Path, TestContext.Current.CancellationToken);

        var finding = Assert.Single(result.Findings);
        Assert.Equal("dist/release.tar.gz!release/bundle.zip!app/settings.json", finding.Path);
        Assert.Equal(token, finding.Secret);
    }

    [Fact]
    public async Task ScanAsync_ArchivesNestedDeeperThanTheLimit_NotOpenedAndNamed()
    {
        var token = _factory.GitHubStyle("gh" + "p_");
        var inner = Zip(("secret.txt", token));
        var middle = Zip(("inner.zip", inner));
        _folder.Write("outer.zip", Zip(("middle.zip", middle)));
        var options = new ScanOptions { Limits = new ScanLimits { MaxArchiveDepth = 2 } };

        var result = await new SecretScanner(options).ScanAsync(_folder.Path, TestContext.Current.CancellationToken);

        Assert.Empty(result.Findings);
        Assert.Contains(result.Notices, n => n.Contains("outer.zip!middle.zip!inner.zip", StringComparison.Ordinal) && n.Contains("deeper than 2", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ScanAsync_CompressionBomb_SkippedByTheRatioLimit()
    {
        var zeros = new byte[4 * 1024 * 1024];
        _folder.Write("bomb.zip", Zip(("zeros.bin", zeros)));

        var result = await new SecretScanner().ScanAsync(_folder.Path, TestContext.Current.CancellationToken);

        Assert.Contains(result.Notices, n => n.Contains("bomb.zip!zeros.bin", StringComparison.Ordinal) && n.Contains("ratio", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ScanAsync_CorruptArchiveAsTheTarget_ScanExceptionNamesIt()
    {
        var file = _folder.Write("broken.zip", [(byte)'P', (byte)'K', 3, 4, 1, 2, 3, 4, 5, 6]);

        var error = await Assert.ThrowsAsync<ScanException>(() => new SecretScanner().ScanAsync(file, TestContext.Current.CancellationToken));

        Assert.Contains("broken.zip: unreadable zip archive", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ScanAsync_CorruptArchiveInAFolder_NamedAndTheScanGoesOn()
    {
        _folder.Write("broken.zip", [(byte)'P', (byte)'K', 3, 4, 1, 2, 3, 4, 5, 6]);
        _folder.Write("ok.env", "TOKEN=" + _factory.GitHubStyle("gh" + "p_") + "\n");

        var result = await new SecretScanner().ScanAsync(_folder.Path, TestContext.Current.CancellationToken);

        Assert.Single(result.Findings);
        Assert.Contains(result.Notices, n => n.StartsWith("broken.zip: unreadable zip archive", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ScanAsync_TargetThatDoesNotExist_ScanException()
    {
        var error = await Assert.ThrowsAsync<ScanException>(() => new SecretScanner().ScanAsync(Path.Combine(_folder.Path, "missing"), TestContext.Current.CancellationToken));

        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ScanAsync_FileOverTheSizeLimit_SkippedAndNamed()
    {
        _folder.Write("big.txt", new string('a', 2048) + _factory.GitHubStyle("gh" + "p_"));
        var options = new ScanOptions { Limits = new ScanLimits { MaxFileBytes = 1024 } };

        var result = await new SecretScanner(options).ScanAsync(_folder.Path, TestContext.Current.CancellationToken);

        Assert.Empty(result.Findings);
        Assert.Contains(result.Notices, n => n.StartsWith("big.txt: skipped", StringComparison.Ordinal));
    }

    internal static byte[] Zip(params (string Name, string Content)[] entries) =>
        Zip([.. entries.Select(e => (e.Name, Encoding.UTF8.GetBytes(e.Content)))]);

    internal static byte[] Zip(params (string Name, byte[] Content)[] entries)
    {
        using var stream = new MemoryStream();
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in entries)
            {
                using var entry = zip.CreateEntry(name).Open();
                entry.Write(content);
            }
        }
        return stream.ToArray();
    }

    private static byte[] TarGz(params (string Name, byte[] Content)[] entries)
    {
        using var stream = new MemoryStream();
        using (var gzip = new GZipStream(stream, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (name, content) in entries)
            {
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(content) });
            }
        }
        return stream.ToArray();
    }

    public void Dispose() => _folder.Dispose();
}
