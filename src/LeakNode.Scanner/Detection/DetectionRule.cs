using System.Text.RegularExpressions;

namespace LeakNode.Scanner.Detection;

/// <summary>
/// One detector: a built-in token format or a rule imported from a gitleaks config. A rule finds candidates with
/// its <see cref="Regex"/> (only in documents that contain one of its <see cref="Keywords"/>, when it has any), takes
/// the secret from <see cref="SecretGroup"/>, and keeps it when its entropy, its <see cref="Validator"/> and the
/// allowlists agree.
/// </summary>
public sealed class DetectionRule
{
    /// <summary>The rule's id; built-in detectors use gitleaks' ids where gitleaks has the same format.</summary>
    public required string Id { get; init; }

    public string Description { get; init; } = "";

    /// <summary>The kind of credential, reported with each finding (the cloud's token kind).</summary>
    public string Kind { get => field ?? Id; init; }

    public Severity Severity { get; init; } = Severity.High;

    /// <summary>The pattern, in .NET syntax; null for a rule that matches paths only.</summary>
    public Regex? Regex { get; init; }

    /// <summary>The capture group that holds the secret; 0 means the first non-empty group, or the whole match.</summary>
    public int SecretGroup { get; init; }

    /// <summary>The least Shannon entropy a secret must have; null for none.</summary>
    public double? Entropy { get; init; }

    /// <summary>A pattern the document's path must match; a rule with a path and no regex reports the file itself.</summary>
    public Regex? Path { get; init; }

    /// <summary>
    /// Lower-case words; the rule runs only on documents that contain one of them (ignoring case). Empty: always runs.
    /// </summary>
    public IReadOnlyList<string> Keywords { get; init; } = [];

    /// <summary>
    /// When true, the regex runs only on the lines that hold a keyword, not on the whole document: for the generic
    /// detector, whose keywords (<c>token</c>, <c>secret</c>) occur in most files, so that its costly pattern stays
    /// off the hot path of the exact formats.
    /// </summary>
    public bool LineScoped { get; init; }

    /// <summary>A check of the secret beyond its shape (a checksum, a decodable header); null for none.</summary>
    public Func<string, bool>? Validator { get; init; }

    public IReadOnlyList<Allowlist> Allowlists { get; init; } = [];

    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>The format's public prefix (<c>ghp_</c>), shown in masked previews; null when it has none.</summary>
    public string? PublicPrefix { get; init; }
}
