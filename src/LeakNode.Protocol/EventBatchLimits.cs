namespace LeakNode.Protocol;

/// <summary>
/// What the cloud accepts on <c>ShipEvents</c>. Nodes size their batches by these numbers; the cloud refuses a
/// batch over <see cref="MaxEventsPerBatch"/> and skips an event whose fields break the limits below.
/// </summary>
public static class EventBatchLimits
{
    /// <summary>
    /// Events in one batch: the most a node may be configured to send (its <c>Events:BatchSize</c>). The cloud stores a
    /// batch in one transaction and acks it when that commits; 10,000 rows are one SQLite transaction of about a
    /// tenth of a second, so no ack waits long behind a large batch. Bytes are bounded apart from this: gRPC's 4 MB
    /// message limit on the cloud, and the node's own 1 MiB a batch.
    /// </summary>
    public const int MaxEventsPerBatch = 10_000;

    /// <summary>An event id: a UUIDv7 is 36 characters; room for other unique-id formats.</summary>
    public const int MaxEventIdLength = 64;

    /// <summary>A leak or token id, as long as a token id may be (<c>TokenDigest.MaxIdBytes</c>).</summary>
    public const int MaxIdLength = 255;

    /// <summary>A fingerprint (16 hex digits) or a masked preview (<c>TokenDigest.MaxPreviewBytes</c>).</summary>
    public const int MaxTokenTextLength = 64;

    /// <summary>An IPv6 address with a zone id is at most 45 + a few characters.</summary>
    public const int MaxClientIpLength = 64;

    /// <summary>An HTTP method: the registered ones are short; extensions rarely pass 20 characters.</summary>
    public const int MaxMethodLength = 32;

    /// <summary>Where the token was found, e.g. <c>header:Authorization</c> or <c>cookie:sid</c>.</summary>
    public const int MaxLocationLength = 256;

    /// <summary>A host name (DNS allows 253) and port. A longer one is cut, not refused: the event still counts.</summary>
    public const int MaxHostLength = 300;

    /// <summary>A request path and query. A longer one is cut to this, not refused: the event still counts.</summary>
    public const int MaxPathLength = 2_048;
}
