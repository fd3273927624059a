namespace LeakNode.Cloud.Notifications;

/// <summary>
/// The <c>Notifications</c> section: how the delivery worker sends, retries and schedules. Every limit has a default
/// that suits one cloud talking to chat services and a mail relay; tests shorten the times to milliseconds.
/// </summary>
public sealed class NotificationOptions
{
    /// <summary>Runs the delivery worker. Default true; false keeps notifications queued (another replica may send them).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Tries per notification, the first included, before it is given up as failed. Default 8.</summary>
    public int MaxAttempts { get; set; } = 8;

    /// <summary>The wait before the second try; each further try waits twice as long, up to <see cref="MaxBackoff"/>. Default 10 s.</summary>
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The longest wait between two tries. Default 1 hour (8 tries then span about 21 minutes).</summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long one send (an HTTP call, an SMTP session) may take. Default 30 s.</summary>
    public TimeSpan SendTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a worker owns the notifications it claimed. A worker that dies while sending leaves them to be
    /// claimed again after this; it must exceed <see cref="SendTimeout"/>. Default 2 minutes.
    /// </summary>
    public TimeSpan ClaimLease { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How often the worker looks for due notifications when nothing woke it. Changes made by this cloud wake it at
    /// once; this bounds the delay for retries and for changes made by other replicas. Default 2 s.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Notifications one worker claims at a time (and sends in parallel). Default 16.</summary>
    public int BatchSize { get; set; } = 16;

    /// <summary>How long sent and failed notifications stay in the delivery log. Default 30 days.</summary>
    public TimeSpan DeliveryRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Channels the cloud keeps at most. Default 100.</summary>
    public int MaxChannels { get; set; } = 100;

    public DigestOptions Digest { get; set; } = new();
}

/// <summary>The <c>Notifications:Digest</c> section: the daily digest sent to channels that subscribe to <c>daily-digest</c>.</summary>
public sealed class DigestOptions
{
    /// <summary>The time of day the digest goes out, <c>HH:mm</c>. Default <c>08:00</c>.</summary>
    public string Time { get; set; } = "08:00";

    /// <summary>The time zone of <see cref="Time"/>, an IANA id such as <c>Europe/Berlin</c>. Default <c>UTC</c>.</summary>
    public string TimeZone { get; set; } = "UTC";

    /// <summary>Leaks each list of the digest names at most. Default 10.</summary>
    public int TopLeaks { get; set; } = 10;
}

/// <summary>Checks the <c>Notifications</c> section, every problem named by its key.</summary>
internal static class NotificationOptionsValidator
{
    public static IEnumerable<string> Problems(NotificationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.MaxAttempts is < 1 or > 100)
        {
            yield return $"Notifications:MaxAttempts: must be between 1 and 100; it is {options.MaxAttempts}";
        }
        if (options.BatchSize is < 1 or > 1000)
        {
            yield return $"Notifications:BatchSize: must be between 1 and 1000; it is {options.BatchSize}";
        }
        if (options.MaxChannels is < 1 or > 100_000)
        {
            yield return $"Notifications:MaxChannels: must be between 1 and 100000; it is {options.MaxChannels}";
        }
        foreach (var (key, value, min, max) in new (string, TimeSpan, TimeSpan, TimeSpan)[]
        {
            ("InitialBackoff", options.InitialBackoff, TimeSpan.FromMilliseconds(1), TimeSpan.FromDays(1)),
            ("MaxBackoff", options.MaxBackoff, TimeSpan.FromMilliseconds(1), TimeSpan.FromDays(7)),
            ("SendTimeout", options.SendTimeout, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(10)),
            ("ClaimLease", options.ClaimLease, TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1)),
            ("PollInterval", options.PollInterval, TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(10)),
            ("DeliveryRetention", options.DeliveryRetention, TimeSpan.FromHours(1), TimeSpan.FromDays(3650)),
        })
        {
            if (value < min || value > max)
            {
                yield return $"Notifications:{key}: must be between {min} and {max}; it is {value}";
            }
        }
        if (options.MaxBackoff < options.InitialBackoff)
        {
            yield return "Notifications:MaxBackoff: must not be shorter than Notifications:InitialBackoff";
        }
        if (options.ClaimLease <= options.SendTimeout)
        {
            yield return "Notifications:ClaimLease: must be longer than Notifications:SendTimeout, or a slow send would be claimed and sent twice";
        }
        if (DigestSchedule.ParseTime(options.Digest.Time) is null)
        {
            yield return $"Notifications:Digest:Time: '{options.Digest.Time}' is not a time of day (HH:mm, e.g. 08:00)";
        }
        if (DigestSchedule.FindZone(options.Digest.TimeZone) is null)
        {
            yield return $"Notifications:Digest:TimeZone: '{options.Digest.TimeZone}' is not a known time zone (an IANA id such as Europe/Berlin, or UTC)";
        }
        if (options.Digest.TopLeaks is < 1 or > 100)
        {
            yield return $"Notifications:Digest:TopLeaks: must be between 1 and 100; it is {options.Digest.TopLeaks}";
        }
    }
}
