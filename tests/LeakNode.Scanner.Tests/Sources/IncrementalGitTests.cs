using LeakNode.Scanner.Detection;
using LeakNode.Scanner.Tests.Support;

namespace LeakNode.Scanner.Tests.Sources;

/// <summary>
/// The API the cloud's scheduled scans use on a repository they scan again and again: the heads a scan covered
/// (<see cref="ScanResult.GitHeads"/>), scanning only what came after them (<see cref="ScanOptions.GitSince"/>),
/// whether a secret is still at HEAD (<see cref="Finding.AtHead"/>), and a mirror kept between scans
/// (<see cref="ScanOptions.GitMirrorDirectory"/>). Real repositories, built commit by commit.
/// </summary>
public sealed class IncrementalGitTests : IDisposable
{
    private readonly SecretFactory _factory = new(seed: 11);
    private readonly GitRepository _repository = new();
    private readonly TempFolder _mirrors = new();

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private string Token() => _factory.GitHubStyle("gh" + "p_");

    private static Task<ScanResult> ScanAsync(string target, IReadOnlyList<string>? since = null, string? mirror = null) =>
        new SecretScanner(new ScanOptions { GitSince = since ?? [], GitMirrorDirectory = mirror }).ScanAsync(target, Cancel);

    private string Head(string rev = "HEAD") => _repository.Run("rev-parse", rev).Trim();

    [Fact]
    public async Task ScanAsync_FirstScan_ReturnsTheCommitOfEveryRefOnce()
    {
        _repository.Write("a.txt", "one\n");
        _repository.Commit("one");
        _repository.Run("checkout", "-q", "-b", "feature");
        _repository.Write("b.txt", "two\n");
        _repository.Commit("two");
        _repository.Run("checkout", "-q", "main");
        _repository.Run("tag", "-a", "-m", "release", "v1");   // an annotated tag: its commit, not the tag object
        _repository.Run("branch", "copy-of-main");              // a second ref on the same commit: one head

        var result = await ScanAsync(_repository.Path);

        Assert.Equal([Head("feature"), Head("main")], result.GitHeads.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ScanAsync_NotAGitTarget_NoHeadsAndAtHeadNull()
    {
        using var folder = new TempFolder();
        folder.Write("config.py", $"TOKEN = \"{Token()}\"\n");

        var result = await ScanAsync(folder.Path);

        Assert.Empty(result.GitHeads);
        Assert.Null(Assert.Single(result.Findings).AtHead);
    }

    [Fact]
    public async Task ScanAsync_SinceTheHeadsAndNoNewCommit_FindsNothingAndReadsNoBlob()
    {
        _repository.Write("config.py", $"TOKEN = \"{Token()}\"\n");
        _repository.Commit("config");
        var first = await ScanAsync(_repository.Path);
        Assert.Single(first.Findings);

        var options = new ScanOptions { GitSince = first.GitHeads };
        var second = await new SecretScanner(options).ScanAsync(_repository.Path, Cancel);

        Assert.Empty(second.Findings);
        Assert.Equal(0, options.Statistics.Documents);
        Assert.Equal(first.GitHeads, second.GitHeads);
        Assert.Empty(second.Notices);
    }

    [Fact]
    public async Task ScanAsync_SinceTheHeadsThenATokenOnANewBranch_FindsOnlyThatToken()
    {
        var old = Token();
        _repository.Write("config.py", $"TOKEN = \"{old}\"\n");
        _repository.Commit("config");
        _repository.Write("README.md", "# app\n");
        _repository.Commit("readme");
        var first = await ScanAsync(_repository.Path);

        _repository.Run("checkout", "-q", "-b", "payments");
        var added = Token();
        _repository.Write("pay/keys.env", $"GH={added}\n");
        _repository.Write("README.md", "# app, with payments\n");
        var commit = _repository.Commit("payments");
        var options = new ScanOptions { GitSince = first.GitHeads };
        var second = await new SecretScanner(options).ScanAsync(_repository.Path, Cancel);

        var finding = Assert.Single(second.Findings);
        Assert.Equal(added, finding.Secret);
        Assert.Equal(commit, finding.Commit);
        Assert.Equal("pay/keys.env", finding.Path);
        Assert.Equal(2, options.Statistics.Documents); // the two blobs the new commit brought, nothing older
        Assert.Contains(commit, second.GitHeads);
    }

    /// <summary>
    /// A new merge of a branch forked before the boundary: its diff against the branch names every blob the main line
    /// gained meanwhile, all of them scanned before. Only what the new commits brought is read.
    /// </summary>
    [Fact]
    public async Task ScanAsync_SinceThenANewMergeOfAnOldBranch_ReadsOnlyTheNewBlobs()
    {
        _repository.Write("a.txt", "base\n");
        _repository.Commit("base");
        _repository.Run("branch", "side");
        _repository.Write("config.py", $"TOKEN = \"{Token()}\"\n");
        _repository.Commit("token on main");
        var first = await ScanAsync(_repository.Path);
        Assert.Single(first.Findings);

        _repository.Run("checkout", "-q", "side");
        _repository.Write("side.txt", "side work\n");
        _repository.Commit("side work");
        _repository.Run("checkout", "-q", "main");
        _repository.Run("merge", "-q", "--no-ff", "-m", "merge side", "side");
        var options = new ScanOptions { GitSince = first.GitHeads };
        var second = await new SecretScanner(options).ScanAsync(_repository.Path, Cancel);

        Assert.Empty(second.Findings);
        Assert.Equal(1, options.Statistics.Documents); // side.txt
    }

    [Fact]
    public async Task ScanAsync_SinceIdsNotInTheRepository_IgnoredWithANoticeAndTheHistoryScanned()
    {
        var token = Token();
        _repository.Write("config.py", $"TOKEN = \"{token}\"\n");
        _repository.Commit("config");
        var gone = new string('0', 39) + "1";

        var result = await ScanAsync(_repository.Path, since: [gone, "not-a-commit", "--all"]);

        Assert.Equal(token, Assert.Single(result.Findings).Secret);
        Assert.Contains(result.Notices, n => n.Contains(gone, StringComparison.Ordinal));
        Assert.Contains(result.Notices, n => n.Contains("not-a-commit", StringComparison.Ordinal));
        Assert.Contains(result.Notices, n => n.Contains("--all", StringComparison.Ordinal));
    }

    /// <summary>A commit rewritten away (force-push, then gc): the stale id is dropped, the rest still counts.</summary>
    [Fact]
    public async Task ScanAsync_SinceAHeadThatWasRewrittenAway_ScansTheRewrittenHistory()
    {
        _repository.Write("a.txt", "one\n");
        _repository.Commit("one");
        _repository.Write("b.txt", "draft\n");
        var draft = _repository.Commit("draft");
        var first = await ScanAsync(_repository.Path);
        _repository.Run("reset", "-q", "--hard", "HEAD~1");
        var token = Token();
        _repository.Write("b.txt", $"GH={token}\n");
        _repository.Commit("final");
        _repository.Run("reflog", "expire", "--expire=now", "--all");
        _repository.Run("gc", "-q", "--prune=now");

        var second = await ScanAsync(_repository.Path, since: first.GitHeads);

        Assert.Equal(token, Assert.Single(second.Findings).Secret);
        Assert.Contains(second.Notices, n => n.Contains(draft, StringComparison.Ordinal));
    }

    /// <summary>What happens to config.py (holding the token) after the commit that added it, and the expected AtHead.</summary>
    public static TheoryData<string, bool> AtHeadCases() => new()
    {
        { "deleted", false },
        { "kept", true },
        { "moved", true },
        { "only-on-a-branch", false },
    };

    [Theory]
    [MemberData(nameof(AtHeadCases))]
    public async Task ScanAsync_TokenHistory_AtHeadSaysWhetherHeadStillHoldsIt(string afterwards, bool atHead)
    {
        _repository.Write("README.md", "# app\n");
        _repository.Commit("readme");
        if (afterwards == "only-on-a-branch")
        {
            _repository.Run("checkout", "-q", "-b", "experiment");
        }
        _repository.Write("config.py", $"TOKEN = \"{Token()}\"\n");
        _repository.Commit("add");
        switch (afterwards)
        {
            case "deleted":
                _repository.Write("config.py", "TOKEN = os.environ['TOKEN']\n");
                _repository.Commit("remove");
                break;
            case "kept":
                _repository.Write("other.txt", "unrelated\n");
                _repository.Commit("other");
                break;
            case "moved":
                _repository.Run("mv", "config.py", "settings.py");
                _repository.Commit("move");
                break;
            default:
                _repository.Run("checkout", "-q", "main");
                break;
        }

        var result = await ScanAsync(_repository.Path);

        var finding = Assert.Single(result.Findings);
        Assert.Equal("config.py", finding.Path);
        Assert.Equal(atHead, finding.AtHead);
    }

    /// <summary>The file changed elsewhere and the token line stayed: both blobs report it, and it is at HEAD.</summary>
    [Fact]
    public async Task ScanAsync_FileEditedAroundTheToken_EveryFindingAtHead()
    {
        var token = Token();
        _repository.Write("config.py", $"TOKEN = \"{token}\"\n");
        _repository.Commit("add");
        _repository.Write("config.py", $"import os\n\nTOKEN = \"{token}\"\n");
        _repository.Commit("edit");

        var result = await ScanAsync(_repository.Path);

        Assert.Equal(2, result.Findings.Count);
        Assert.All(result.Findings, f => Assert.True(f.AtHead));
    }

    /// <summary>
    /// Copied into a file the detector does not read as a secret (no keyword on its line): the secret is still in
    /// HEAD's bytes, which is what counts.
    /// </summary>
    [Fact]
    public async Task ScanAsync_GenericSecretMovedToAnotherFileAndContext_AtHead()
    {
        var secret = _factory.Tokens[BuiltInDetectors.GenericId]();
        _repository.Write("db.py", $"db_password = \"{secret}\"\n");
        _repository.Commit("add");
        _repository.Run("rm", "-q", "db.py");
        _repository.Write("notes/values.txt", $"value {secret} kept here\n");
        _repository.Commit("move it");

        var result = await ScanAsync(_repository.Path);

        var finding = Assert.Single(result.Findings);
        Assert.Equal("db.py", finding.Path);
        Assert.True(finding.AtHead);
    }

    /// <summary>Incremental: the token was scanned before; a new commit deletes it. Nothing is new to report.</summary>
    [Fact]
    public async Task ScanAsync_SinceThenTheTokenDeleted_NotReportedAgain()
    {
        _repository.Write("config.py", $"TOKEN = \"{Token()}\"\n");
        _repository.Commit("add");
        var first = await ScanAsync(_repository.Path);
        _repository.Write("config.py", "TOKEN = None\n");
        _repository.Commit("remove");

        var second = await ScanAsync(_repository.Path, since: first.GitHeads);

        Assert.Empty(second.Findings);
    }

    /// <summary>Incremental: a token already at HEAD before the boundary, copied by a new commit into a branch file.</summary>
    [Fact]
    public async Task ScanAsync_SinceThenATokenAlreadyAtHeadCopied_AtHeadFromTheOldBlob()
    {
        var token = Token();
        _repository.Write("config.py", $"TOKEN = \"{token}\"\n");
        _repository.Commit("add");
        var first = await ScanAsync(_repository.Path);
        _repository.Run("checkout", "-q", "-b", "copy");
        _repository.Write("copy.env", $"GH={token}\n");
        _repository.Commit("copy");
        _repository.Run("checkout", "-q", "main");

        var second = await ScanAsync(_repository.Path, since: first.GitHeads);

        var finding = Assert.Single(second.Findings);
        Assert.Equal("copy.env", finding.Path);
        Assert.True(finding.AtHead); // config.py at HEAD holds it, though this scan did not read that blob
    }

    [Fact]
    public async Task ScanAsync_MirrorDirectory_ClonedOnceThenFetchedAndSeesNewCommits()
    {
        _repository.Write("README.md", "# app\n");
        _repository.Commit("readme");
        var mirror = Path.Combine(_mirrors.Path, "mirrors", "app.git");

        var first = await ScanAsync(_repository.FileUrl, mirror: mirror);

        Assert.Empty(first.Findings);
        Assert.True(File.Exists(Path.Combine(mirror, "HEAD")), "the mirror stays after the scan");
        var marker = Path.Combine(mirror, "leaknode-test-marker");
        await File.WriteAllTextAsync(marker, "kept", Cancel);

        var token = Token();
        _repository.Write("config.py", $"TOKEN = \"{token}\"\n");
        var pushed = _repository.Commit("token");
        var second = await ScanAsync(_repository.FileUrl, since: first.GitHeads, mirror: mirror);

        var finding = Assert.Single(second.Findings);
        Assert.Equal(token, finding.Secret);
        Assert.Equal(pushed, finding.Commit);
        Assert.True(finding.AtHead);
        Assert.Equal([pushed], second.GitHeads);
        Assert.True(File.Exists(marker), "fetched into the same mirror, not cloned again");
        Assert.Empty(second.Notices);
    }

    [Fact]
    public async Task ScanAsync_MirrorDirectoryCorrupt_ClonedAgainWithANotice()
    {
        var token = Token();
        _repository.Write("config.py", $"TOKEN = \"{token}\"\n");
        _repository.Commit("token");
        var mirror = Path.Combine(_mirrors.Path, "app.git");
        await ScanAsync(_repository.FileUrl, mirror: mirror);
        await File.WriteAllTextAsync(Path.Combine(mirror, "HEAD"), "garbage\n", Cancel);
        Directory.Delete(Path.Combine(mirror, "refs"), recursive: true);

        var result = await ScanAsync(_repository.FileUrl, mirror: mirror);

        Assert.Equal(token, Assert.Single(result.Findings).Secret);
        Assert.Contains(result.Notices, n => n.Contains("cloning it again", StringComparison.Ordinal));
        Assert.StartsWith("ref: ", await File.ReadAllTextAsync(Path.Combine(mirror, "HEAD"), Cancel), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ScanAsync_MirrorDirectoryHoldsSomethingElse_RefusedAndLeftAsItIs()
    {
        _repository.Write("README.md", "# app\n");
        _repository.Commit("readme");
        var folder = Path.Combine(_mirrors.Path, "documents");
        Directory.CreateDirectory(folder);
        var precious = Path.Combine(folder, "thesis.txt");
        await File.WriteAllTextAsync(precious, "do not delete", Cancel);

        var error = await Assert.ThrowsAsync<ScanException>(() => ScanAsync(_repository.FileUrl, mirror: folder));

        Assert.Contains("neither empty nor a git repository", error.Message, StringComparison.Ordinal);
        Assert.True(File.Exists(precious));
    }

    public void Dispose()
    {
        _repository.Dispose();
        _mirrors.Dispose();
    }
}
