namespace LeakNode.Matching;

/// <summary>
/// Bounds on what a matcher accepts. A rule set or update beyond any of them is refused whole, with every
/// problem named, and the previous rule set stays in force: a rule set too large to hold must never take the
/// node down (the lesson of Cloudflare's November 2025 outage, where a feature file twice its expected size
/// crashed the proxy that loaded it).
/// </summary>
public sealed record MatcherLimits
{
    /// <summary>The defaults: 4 million tokens and leaks, tokens up to 4096 bytes, 1 GiB of matcher memory.</summary>
    public static MatcherLimits Default { get; } = new();

    /// <summary>Most live tokens. Default 4,000,000.</summary>
    public int MaxTokens { get; init; } = 4_000_000;

    /// <summary>Most live leaks. Default 4,000,000.</summary>
    public int MaxLeaks { get; init; } = 4_000_000;

    /// <summary>Longest token in bytes. Default 4096: a private key in PEM fits; the scanner holds this many bytes of carry.</summary>
    public int MaxTokenLength { get; init; } = 4096;

    /// <summary>Most memory the compiled matcher may take, as estimated before it is built. Default 1 GiB.</summary>
    public long MaxMemoryBytes { get; init; } = 1L << 30;
}
