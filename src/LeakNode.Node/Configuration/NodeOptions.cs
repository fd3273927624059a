namespace LeakNode.Node.Configuration;

/// <summary>The <c>Node</c> section: who the node is and what it does with a leaked token.</summary>
public sealed class NodeOptions
{
    /// <summary>The node's name in events and in the cloud. Default: the machine name.</summary>
    public string Name { get; set; } = Environment.MachineName;

    /// <summary><c>block</c> (default): refuse requests carrying a token of a leak whose virtual patch is applied. <c>monitor</c>: never block, only report.</summary>
    public NodeMode Mode { get; set; } = NodeMode.Block;

    /// <summary>
    /// What the node answers before any rule set is loaded (first start, cloud unreachable, no cache yet):
    /// <c>reject</c> (default) answers 503, so that a leaked token is never waved through unseen; <c>forward</c>
    /// proxies uninspected and counts it.
    /// </summary>
    public BeforeRulesPolicy BeforeRules { get; set; } = BeforeRulesPolicy.Reject;
}

public enum NodeMode
{
    Block,
    Monitor,
}

public enum BeforeRulesPolicy
{
    Reject,
    Forward,
}

/// <summary>
/// The <c>Cloud</c> section. Leave <c>GrpcUrl</c> (and <c>GrpcUrls</c>) out for a standalone node. A node with a
/// cloud takes its rules from it and keeps them in <c>StateDir</c>, so that it starts enforcing at once after a
/// restart without the cloud.
/// </summary>
public sealed class CloudOptions
{
    /// <summary>The cloud's gRPC URL (its <c>Listen:Grpc</c>): <c>http://</c> for clear-text HTTP/2, or <c>https://</c>. E.g. <c>http://127.0.0.1:7071</c>.</summary>
    public string? GrpcUrl { get; set; }

    /// <summary>
    /// More cloud replicas, tried in turn after <see cref="GrpcUrl"/> when a connection fails (every replica serves
    /// the same rules). Either key alone is enough. Default: none.
    /// </summary>
    public List<string> GrpcUrls { get; set; } = [];

    /// <summary>The node token from <c>POST /api/v1/nodes</c>; required with a cloud URL. Never logged. A re-issued token takes effect on restart.</summary>
    public string? Token { get; set; }

    /// <summary>The first wait before reconnecting after a failure; each failure doubles the ceiling, and the wait is drawn at random below it (full jitter). Default 1 s.</summary>
    public TimeSpan ReconnectInitialDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The ceiling of the reconnect wait; also the wait after the cloud refused the node token. Default 1 min.</summary>
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long opening a TCP (and TLS) connection to the cloud may take. Default 5 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How often an idle connection is checked with an HTTP/2 ping; a cloud that does not answer within the same
    /// time counts as gone, and the node reconnects. Default 20 s.
    /// </summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Every cloud URL configured, <see cref="GrpcUrl"/> first, each once.</summary>
    internal IReadOnlyList<string> Endpoints =>
        [.. new[] { GrpcUrl }.Concat(GrpcUrls).Where(u => !string.IsNullOrWhiteSpace(u)).Select(u => u!.Trim()).Distinct(StringComparer.OrdinalIgnoreCase)];

    /// <summary>True when the node connects to a cloud.</summary>
    internal bool Configured => Endpoints.Count > 0;
}

/// <summary>The <c>Rules</c> section: a local rule file, for standalone nodes.</summary>
public sealed class RulesOptions
{
    /// <summary>A YAML file <c>leaks: [{id, name, tokens: [..], action?}]</c>; reloaded when it changes. Tokens in it are blocked (action <c>block</c>) unless a leak says <c>monitor</c>.</summary>
    public string? File { get; set; }

    /// <summary>How long the file must be quiet after a change before it is reloaded (editors write in several steps). Default 300 ms.</summary>
    public TimeSpan ReloadDelay { get; set; } = TimeSpan.FromMilliseconds(300);
}

/// <summary>The <c>Listen</c> section: the proxy and admin listeners.</summary>
public sealed class ListenOptions
{
    /// <summary>The proxy listener. Default <c>http://0.0.0.0:8080</c>.</summary>
    public string Proxy { get; set; } = "http://0.0.0.0:8080";

    /// <summary>The admin listener (<c>/healthz</c>, <c>/readyz</c>, <c>/metrics</c>, <c>/status</c>). Default <c>http://127.0.0.1:9090</c>.</summary>
    public string Admin { get; set; } = "http://127.0.0.1:9090";

    /// <summary>
    /// HTTP versions of the proxy listener. Default: <c>Http1AndHttp2</c> on https (chosen per connection by ALPN),
    /// <c>Http1</c> on http. Clear-text HTTP/2 (gRPC clients with prior knowledge) needs <c>Http2</c>: Kestrel cannot
    /// offer both without TLS.
    /// </summary>
    public Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols? Protocols { get; set; }

    /// <summary>A PEM certificate for an <c>https://</c> proxy listener.</summary>
    public CertificateOptions Certificate { get; set; } = new();

    /// <summary>How long shutdown waits for requests in flight. Default 30 s.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);
}

public sealed class CertificateOptions
{
    /// <summary>The certificate (PEM).</summary>
    public string? Path { get; set; }

    /// <summary>Its private key (PEM), unless it is in <see cref="Path"/>.</summary>
    public string? KeyPath { get; set; }
}

/// <summary>The <c>Inspection</c> section: how much of a request is inspected, and what happens beyond that.</summary>
public sealed class InspectionOptions
{
    /// <summary>Body bytes held and inspected. Default 1 MiB.</summary>
    public long MaxBodyBytes { get; set; } = 1 << 20;

    /// <summary>
    /// A body larger than <see cref="MaxBodyBytes"/>: <c>reject</c> (default) answers 413; <c>prefix</c> inspects
    /// the first <see cref="MaxBodyBytes"/> and forwards the rest as it streams.
    /// </summary>
    public BodyTooLargePolicy BodyTooLarge { get; set; } = BodyTooLargePolicy.Reject;

    /// <summary>
    /// Most bytes a compressed body may inflate to. Default 8 MiB. Beyond it the body is treated as too large
    /// (see <see cref="BodyTooLarge"/>): what lies past the cap was not inspected.
    /// </summary>
    public long MaxDecodedBytes { get; set; } = 8 << 20;

    /// <summary>Most a compressed body may expand, as a multiple of its size. Default 100 (zip bombs expand by 1000 and more).</summary>
    public int MaxDecodedRatio { get; set; } = 100;
}

public enum BodyTooLargePolicy
{
    Reject,
    Prefix,
}

/// <summary>The <c>Network</c> section.</summary>
public sealed class NetworkOptions
{
    /// <summary>
    /// Proxies and load balancers (IP addresses or CIDR ranges) whose <c>X-Forwarded-For</c> is believed for the
    /// client address in events. Empty (default): the connection's address is the client's.
    /// </summary>
    public List<string> TrustedProxies { get; set; } = [];
}

/// <summary>The <c>Events</c> section: attack events waiting for the cloud.</summary>
public sealed class EventOptions
{
    /// <summary>Events held in memory for the cloud; past it the oldest are dropped and counted. Default 10,000.</summary>
    public int QueueCapacity { get; set; } = 10_000;

    /// <summary>Identical attempts (same leak, token, client, method, path, action) within this window become one event with a hit count. Default 1 s.</summary>
    public TimeSpan AggregationWindow { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Write each event to the log as one JSON line. Default true.</summary>
    public bool Log { get; set; } = true;

    /// <summary>
    /// Most bytes of events kept on disk (<c>StateDir/spool</c>) while the cloud is unreachable, and across a
    /// restart; when full, the oldest are dropped, counted, and reported to the cloud. Default 64 MiB.
    /// </summary>
    public long SpoolMaxBytes { get; set; } = 64L << 20;

    /// <summary>Most events in one batch to the cloud. Default 500.</summary>
    public int BatchSize { get; set; } = 500;

    /// <summary>How long the shipper waits for a batch to fill before sending what it has. Default 1 s.</summary>
    public TimeSpan BatchInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long the cloud may take to acknowledge a batch before the connection counts as broken (the batch is sent again later). Default 30 s.</summary>
    public TimeSpan AckTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
