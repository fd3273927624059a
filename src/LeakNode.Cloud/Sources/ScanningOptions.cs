namespace LeakNode.Cloud.Sources;

/// <summary>
/// The <c>Scanning</c> section: how the cloud scans the sources registered at <c>/api/v1/sources</c>. Every limit has
/// a default that suits one cloud on a small machine; tests shorten the times.
/// </summary>
public sealed class ScanningOptions
{
    /// <summary>Runs the scan worker on this replica. Default true; false leaves scans to other replicas.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Sources this replica scans at once. Default 1: a scan uses <see cref="Parallelism"/> cores while it runs.</summary>
    public int Concurrency { get; set; } = 1;

    /// <summary>Documents one scan reads at once. Default 1, so that a scan never takes every core from the API and rule streaming.</summary>
    public int Parallelism { get; set; } = 1;

    /// <summary>How often the worker looks for due sources when nothing woke it. Default 15 s.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How long a replica owns the source it is scanning before another may take it. The owner renews it every third
    /// of this while the scan runs, so it only runs out when the owner died. Default 2 minutes.
    /// </summary>
    public TimeSpan ClaimLease { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>The longest one scan may run; it is stopped and recorded as failed after this. Default 1 hour.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromHours(1);

    /// <summary>When a scan failed, the next try comes after this (or at the schedule's next time, if sooner). Default 15 minutes.</summary>
    public TimeSpan RetryAfterFailure { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>The shortest schedule a source may have. Default 5 minutes.</summary>
    public TimeSpan MinInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Sources the cloud keeps at most. Default 1,000.</summary>
    public int MaxSources { get; set; } = 1000;

    /// <summary>Findings one <c>POST /api/v1/findings</c> may carry. Default 5,000 (the CLI sends larger scans in parts).</summary>
    public int MaxFindingsPerRequest { get; set; } = 5000;

    /// <summary>Runs kept per source in its history; older ones are pruned. Default 100.</summary>
    public int RunsKept { get; set; } = 100;

    /// <summary>
    /// Whether a source may name a folder or file on the cloud's own machine (<c>file</c> kind, or a path). Default
    /// false: an API key would otherwise read the cloud host's disk. <c>leaknode dev</c> turns it on.
    /// </summary>
    public bool AllowLocalPaths { get; set; }

    /// <summary>Where the cloud keeps mirror clones of git sources between scans. Default <c>scans</c> under <c>DataDir</c>.</summary>
    public string? WorkDir { get; set; }
}
