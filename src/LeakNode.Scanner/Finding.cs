using LeakNode.Scanner.Detection;

namespace LeakNode.Scanner;

/// <summary>
/// One secret found: what (rule, kind, severity), where (path, line, column; commit for git history) and a stable
/// fingerprint. <see cref="Secret"/> is the plaintext, for the caller's own use only: every report prints
/// <see cref="Preview"/> unless the user asks for the secret with <c>--no-redact</c>.
/// </summary>
public sealed record Finding
{
    public required string RuleId { get; init; }

    public required string Kind { get; init; }

    public string Description { get; init; } = "";

    public Severity Severity { get; init; }

    /// <summary>The secret as found. Never logged; reports print <see cref="Preview"/> instead.</summary>
    public required string Secret { get; init; }

    /// <summary>The masked form every report shows (<c>ghp_…9f3a</c>).</summary>
    public required string Preview { get; init; }

    /// <summary>
    /// Where the secret is: a path relative to the scanned root, with <c>!</c> between an archive and an entry in
    /// it (<c>dist/app.zip!config/.env</c>), or the URL of a fetched document.
    /// </summary>
    public required string Path { get; init; }

    /// <summary>1-based line of the secret's first character.</summary>
    public int StartLine { get; init; }

    /// <summary>1-based column (in characters) of the secret's first character.</summary>
    public int StartColumn { get; init; }

    public int EndLine { get; init; }

    /// <summary>1-based column of the secret's last character.</summary>
    public int EndColumn { get; init; }

    /// <summary>For git history: the commit that first introduced the blob holding the secret.</summary>
    public string? Commit { get; init; }

    public string? Author { get; init; }

    public string? Email { get; init; }

    public DateTimeOffset? Date { get; init; }

    public string? Message { get; init; }

    public double Entropy { get; init; }

    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>
    /// A stable id for this finding across scans: rule, path and a hash of the secret (never the secret), so that a
    /// baseline can list known findings and code scanning can track them.
    /// </summary>
    public required string Fingerprint { get; init; }

    /// <summary>For an inventory hit: the id of the organisation's token that leaked.</summary>
    public string? TokenId { get; init; }

    /// <summary>
    /// For git history: whether the same secret is still in HEAD's tree (in the blob it was found in, or in any other
    /// file of HEAD), so it is in every fresh clone, not only in history. False when it lives only in history (deleted
    /// since, or only on another branch). Null for targets that are not a git history.
    /// </summary>
    public bool? AtHead { get; init; }
}
