using System.Globalization;
using System.Net;
using LeakNode.Scanner;

namespace LeakNode.Cloud.Sources;

// The REST shapes of scan sources (CONTRACT.md: /api/v1/sources). Requests use nullable members so that a missing
// field is reported by validation with its name.

/// <summary><c>POST /api/v1/sources</c> and <c>PATCH /api/v1/sources/{id}</c>: the fields given are set.</summary>
public sealed record SourceRequest(string? Name, string? Kind, string? Url, string? Schedule, bool? Enabled);

/// <summary>A source the cloud scans, with its last run.</summary>
public sealed record ScanSourceView(
    string Id,
    string Name,
    string Kind,
    string Url,
    string Schedule,
    bool Enabled,
    DateTimeOffset? NextScanAt,
    bool Scanning,
    ScanRunView? LastRun,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary>
/// One scan of a source: <c>trigger</c> <c>schedule</c>, <c>manual</c> (<c>POST …/scan</c>) or <c>first</c>;
/// <c>status</c> <c>running</c>, <c>succeeded</c> or <c>failed</c> (with <c>error</c>); <c>incremental</c> when it
/// read only the commits since the last scan.
/// </summary>
public sealed record ScanRunView(
    string Id,
    string Trigger,
    string Actor,
    string Status,
    DateTimeOffset StartedAt,
    DateTimeOffset? FinishedAt,
    bool Incremental,
    long Documents,
    long Bytes,
    int Findings,
    int NewLeaks,
    int UpdatedLeaks,
    string? Error);

/// <summary><c>POST /api/v1/findings</c>: what a scan found in <see cref="Target"/> (a URL or a path), for the cloud to turn into leaks.</summary>
public sealed record FindingsRequest(string? Target, string? Kind, IReadOnlyList<FindingRequest?>? Findings);

/// <summary>
/// One finding as <c>leaknode scan --cloud</c> sends it. <see cref="Secret"/> is the plaintext: the cloud needs it to
/// block the token; it is sealed at once and never shown again.
/// </summary>
public sealed record FindingRequest(
    string? Secret,
    string? RuleId,
    string? Kind,
    string? Severity,
    string? Path,
    int? Line,
    string? Commit,
    string? Author,
    DateTimeOffset? Date,
    bool? AtHead,
    bool? Inventory);

/// <summary>
/// What the cloud did with findings: <c>newLeaks</c> made, <c>updatedLeaks</c> that gained a place or tokens,
/// <c>ignored</c> findings whose secret cannot be a token (shorter than 8 characters, longer than the limit), and
/// the ids of every leak the findings belong to.
/// </summary>
public sealed record FindingsResult(int Findings, int Ignored, int NewLeaks, int UpdatedLeaks, IReadOnlyList<string> LeakIds);

/// <summary>What a source is, from its URL: where a leak was found tells how public it is.</summary>
public static class SourceKinds
{
    public const string Git = "git";
    public const string GitHub = "github";
    public const string GitLab = "gitlab";
    public const string Bitbucket = "bitbucket";
    public const string Paste = "paste";
    public const string Web = "web";
    public const string File = "file";
    public const string Postman = "postman";
    public const string Docker = "docker";

    /// <summary>The kinds a source may have: each is scanned as a git repository, a fetched URL or a local path.</summary>
    public static readonly IReadOnlyList<string> Scannable = [Git, GitHub, GitLab, Bitbucket, Paste, Web, File];

    private static readonly string[] PasteHosts =
    [
        "pastebin.com", "gist.github.com", "gist.githubusercontent.com", "hastebin.com", "paste.ee", "dpaste.org", "dpaste.com",
        "rentry.co", "ghostbin.co", "controlc.com", "justpaste.it", "privatebin.net", "paste.debian.net", "termbin.com", "0bin.net",
    ];

    /// <summary>
    /// The kind of a URL or path: <c>github</c>, <c>gitlab</c>, <c>bitbucket</c> by host; <c>paste</c> for paste
    /// sites; <c>postman</c>, <c>docker</c> by host; <c>git</c> for another clone URL (<c>ssh://</c>, <c>git@…</c>,
    /// <c>….git</c>, <c>file://</c>); <c>web</c> for another http(s) URL; <c>file</c> for a path.
    /// </summary>
    public static string FromUrl(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var host = HostOf(url);
        if (host is null)
        {
            return url.StartsWith("file://", StringComparison.OrdinalIgnoreCase) ? Git : File;
        }
        if (PasteHosts.Any(p => host == p || host.EndsWith("." + p, StringComparison.Ordinal)))
        {
            return Paste;
        }
        if (host is "github.com" or "raw.githubusercontent.com" || host.EndsWith(".github.com", StringComparison.Ordinal))
        {
            return GitHub;
        }
        if (host == "gitlab.com" || host.StartsWith("gitlab.", StringComparison.Ordinal))
        {
            return GitLab;
        }
        if (host is "bitbucket.org" || host.StartsWith("bitbucket.", StringComparison.Ordinal))
        {
            return Bitbucket;
        }
        if (host is "postman.com" || host.EndsWith(".postman.com", StringComparison.Ordinal) || host.EndsWith(".getpostman.com", StringComparison.Ordinal))
        {
            return Postman;
        }
        if (host is "hub.docker.com" or "docker.io" || host.EndsWith(".docker.io", StringComparison.Ordinal))
        {
            return Docker;
        }
        return SecretScanner.IsCloneUrl(url) ? Git : Web;
    }

    /// <summary>
    /// Whether a place is public: a well-known public service (github.com, gitlab.com, bitbucket.org, paste sites,
    /// postman.com, Docker Hub), or a web page on a host that is not a loopback or private address. Self-hosted git
    /// servers, file shares and local paths are internal.
    /// </summary>
    public static bool IsPublic(string kind, string? url)
    {
        var host = url is null ? null : HostOf(url);
        if (host is null)
        {
            return false;
        }
        return kind switch
        {
            GitHub => host.EndsWith("github.com", StringComparison.Ordinal) || host.EndsWith("githubusercontent.com", StringComparison.Ordinal),
            GitLab => host == "gitlab.com",
            Bitbucket => host == "bitbucket.org",
            Paste or Postman or Docker => true,
            Web => !IsInternalHost(host),
            _ => false,
        };
    }

    /// <summary>A URL without its user and password: a clone URL with a token in it must not become a leak's source.</summary>
    public static string WithoutCredentials(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.UserInfo.Length > 0 && !uri.IsFile
            ? new UriBuilder(uri) { UserName = "", Password = "" }.Uri.ToString()
            : url;

    /// <summary>Whether the kind is read with git (a clone URL or a repository path).</summary>
    public static bool IsGit(string kind) => kind is Git or GitHub or GitLab or Bitbucket;

    public static bool IsHttp(string url) =>
        url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("https://", StringComparison.OrdinalIgnoreCase);

    /// <summary>The lower-case host of a URL or of an scp-like git address (<c>git@host:path</c>); null for a path or <c>file://</c>.</summary>
    public static string? HostOf(string url)
    {
        if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && !uri.IsFile && !string.IsNullOrEmpty(uri.Host))
        {
            return uri.Host.ToLowerInvariant();
        }
        var at = url.IndexOf('@', StringComparison.Ordinal);
        var colon = url.IndexOf(':', StringComparison.Ordinal);
        return at > 0 && colon > at && !url.Contains("://", StringComparison.Ordinal) ? url[(at + 1)..colon].ToLowerInvariant() : null;
    }

    private static bool IsInternalHost(string host)
    {
        if (host is "localhost" || host.EndsWith(".localhost", StringComparison.Ordinal) || host.EndsWith(".internal", StringComparison.Ordinal)
            || host.EndsWith(".local", StringComparison.Ordinal) || !host.Contains('.', StringComparison.Ordinal))
        {
            return true;
        }
        if (!IPAddress.TryParse(host.Trim('[', ']'), out var address))
        {
            return false;
        }
        if (IPAddress.IsLoopback(address) || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6UniqueLocal)
        {
            return true;
        }
        var bytes = address.MapToIPv4().GetAddressBytes();
        return address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
            && (bytes[0] == 10 || (bytes[0] == 172 && bytes[1] >= 16 && bytes[1] <= 31) || (bytes[0] == 192 && bytes[1] == 168) || (bytes[0] == 169 && bytes[1] == 254));
    }
}

/// <summary>
/// A source's schedule: <c>manual</c> (scanned only on request) or an interval: a number and a unit, <c>m</c>,
/// <c>h</c>, <c>d</c> or <c>w</c> (<c>30m</c>, <c>6h</c>, <c>1d</c>, <c>1w</c>). The default is <c>1d</c>.
/// </summary>
public static class Schedules
{
    public const string Manual = "manual";
    public const string Default = "1d";

    /// <summary>The interval of a schedule; null for <c>manual</c>. False when the text is not a schedule.</summary>
    public static bool TryParse(string text, out TimeSpan? interval)
    {
        interval = null;
        text = text.Trim().ToLowerInvariant();
        if (text == Manual)
        {
            return true;
        }
        if (text.Length < 2 || !int.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count < 1)
        {
            return false;
        }
        interval = text[^1] switch
        {
            'm' => TimeSpan.FromMinutes(count),
            'h' => TimeSpan.FromHours(count),
            'd' => TimeSpan.FromDays(count),
            'w' => TimeSpan.FromDays(7.0 * count),
            _ => null,
        };
        return interval is not null && interval <= TimeSpan.FromDays(366);
    }
}
