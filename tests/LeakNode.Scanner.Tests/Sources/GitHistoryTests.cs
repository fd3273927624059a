using System.Text;
using LeakNode.Matching.Digests;
using LeakNode.Scanner.Tests.Support;

namespace LeakNode.Scanner.Tests.Sources;

/// <summary>Real repositories: tokens added then deleted, branches, merges, renames, binary files.</summary>
public sealed class GitHistoryTests : IDisposable
{
    private readonly SecretFactory _factory = new(seed: 7);
    private readonly GitRepository _repository = new();
    private readonly string _deletedToken;
    private readonly string _branchToken;
    private readonly string _binaryToken;
    private readonly string _firstCommit;
    private readonly string _branchCommit;

    public GitHistoryTests()
    {
        _deletedToken = _factory.GitHubStyle("gh" + "p_");
        _branchToken = "sk" + "_live_" + _factory.Chars("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789", 32);
        _binaryToken = _factory.GitHubStyle("gh" + "o_");

        _repository.Write("README.md", "# app\n");
        _repository.Write("config.py", $"import os\n\nGITHUB_TOKEN = \"{_deletedToken}\"\n");
        _firstCommit = _repository.Commit("add config");

        _repository.Write("config.py", "import os\n\nGITHUB_TOKEN = os.environ[\"GITHUB_TOKEN\"]\n");
        _repository.Commit("read the token from the environment");

        _repository.Run("checkout", "-q", "-b", "feature");
        _repository.Write("billing/stripe.env", $"STRIPE_KEY={_branchToken}\n");
        _branchCommit = _repository.Commit("billing");
        _repository.Run("checkout", "-q", "main");
        _repository.Write("docs/notes.md", "nothing here\n");
        _repository.Commit("notes");
        _repository.Run("merge", "-q", "--no-ff", "-m", "merge feature", "feature");

        _repository.Run("mv", "billing/stripe.env", "billing/payments.env");
        _repository.Commit("rename");

        var binary = new byte[512];
        Encoding.ASCII.GetBytes(_binaryToken).CopyTo(binary, 100);
        _repository.Write("assets/blob.bin", binary);
        _repository.Commit("binary");

        // The token leaves the tree at HEAD: only history still holds it.
        _repository.Run("rm", "-q", "billing/payments.env");
        _repository.Commit("remove the key");
    }

    public static TheoryData<string> Targets() => ["path", "file-url"];

    [Theory]
    [MemberData(nameof(Targets))]
    public async Task ScanAsync_HistoryWithDeletedTokens_EachFoundOnceAtTheCommitThatAddedIt(string target)
    {
        var scanner = new SecretScanner();

        var result = await scanner.ScanAsync(target == "path" ? _repository.Path : _repository.FileUrl, TestContext.Current.CancellationToken);

        Assert.Equal(2, result.Findings.Count);
        var deleted = Assert.Single(result.Findings, f => f.Secret == _deletedToken);
        Assert.Equal("github-pat", deleted.RuleId);
        Assert.Equal("config.py", deleted.Path);
        Assert.Equal(3, deleted.StartLine);
        Assert.Equal(_firstCommit, deleted.Commit);
        Assert.Equal("Test Author", deleted.Author);
        Assert.Equal("author@example.test", deleted.Email);
        Assert.Equal(new DateTimeOffset(2024, 1, 1, 12, 0, 0, TimeSpan.Zero), deleted.Date);

        // Added on a branch, merged, renamed and deleted: reported once, at the branch commit and its first path.
        var branch = Assert.Single(result.Findings, f => f.Secret == _branchToken);
        Assert.Equal(_branchCommit, branch.Commit);
        Assert.Equal("billing/stripe.env", branch.Path);
    }

    [Fact]
    public async Task ScanAsync_BinaryBlobWithInventoryToken_FoundOnlyByTheInventory()
    {
        var key = DigestKey.FromBytes(new byte[DigestKey.Size]);
        var digest = new TokenDigester(key).Digest("issued-1", _binaryToken);
        var scanner = new SecretScanner(new ScanOptions { Inventory = new InventoryWatchList(key, [digest]) });

        var result = await scanner.ScanAsync(_repository.Path, TestContext.Current.CancellationToken);

        var hit = Assert.Single(result.Findings, f => f.RuleId == InventoryWatchList.RuleId);
        Assert.Equal("assets/blob.bin", hit.Path);
        Assert.Equal("issued-1", hit.TokenId);
        Assert.Equal(Scanner.Detection.Severity.Critical, hit.Severity);
        Assert.DoesNotContain(result.Findings, f => f.Secret == _binaryToken && f.RuleId != InventoryWatchList.RuleId);
    }

    [Fact]
    public async Task ScanAsync_TokenIntroducedByAMergeResolution_AttributedToTheMergeCommit()
    {
        using var repository = new GitRepository();
        repository.Write("f.txt", "a=1\n");
        repository.Commit("one");
        repository.Run("checkout", "-q", "-b", "side");
        repository.Write("f.txt", "a=2\n");
        repository.Commit("side");
        repository.Run("checkout", "-q", "main");
        repository.Write("f.txt", "a=3\n");
        repository.Commit("main");
        try
        {
            repository.Run("merge", "-q", "side");
        }
        catch (InvalidOperationException)
        {
            // The conflict is the point: the resolution is new content that only the merge commit holds.
        }
        var token = _factory.GitHubStyle("gh" + "p_");
        repository.Write("f.txt", $"a={token}\n");
        var merge = repository.Commit("merge, resolved");

        var result = await new SecretScanner().ScanAsync(repository.Path, TestContext.Current.CancellationToken);

        Assert.Equal(merge, Assert.Single(result.Findings).Commit);
    }

    [Fact]
    public async Task ScanAsync_NoGitOption_ScansOnlyTheFilesAtHead()
    {
        var scanner = new SecretScanner(new ScanOptions { NoGit = true });

        var result = await scanner.ScanAsync(_repository.Path, TestContext.Current.CancellationToken);

        Assert.Empty(result.Findings);
    }

    [Fact]
    public async Task ScanAsync_CloneUrlThatDoesNotExist_ClearScanException()
    {
        var scanner = new SecretScanner();

        var error = await Assert.ThrowsAsync<ScanException>(() => scanner.ScanAsync("file:///nonexistent/leaknode/repo.git", TestContext.Current.CancellationToken));

        Assert.Contains("could not clone", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ScanAsync_RepositoryWithoutCommits_NothingFoundNoError()
    {
        using var empty = new GitRepository();

        var result = await new SecretScanner().ScanAsync(empty.Path, TestContext.Current.CancellationToken);

        Assert.Empty(result.Findings);
    }

    public void Dispose() => _repository.Dispose();
}
