using System.Diagnostics.Metrics;

namespace LeakNode.Node.Diagnostics;

/// <summary>
/// The node's instruments, exported in Prometheus text on the admin listener's <c>/metrics</c>. The meter is
/// <c>LeakNode.Node</c> (Prometheus shows it as <c>otel_scope_name</c>); a second node in the same process (tests)
/// gets <c>LeakNode.Node.2</c> and so on, so that two nodes never count into each other's exporter.
/// </summary>
internal sealed class NodeMetrics : IDisposable
{
    public const string MeterPrefix = "LeakNode.Node";

    private static readonly HashSet<string> InUse = [];

    private readonly Meter _meter;

    public NodeMetrics(Func<long> ruleVersion, Func<long> tokens, Func<long> leaks, Func<long> eventsQueued)
    {
        lock (InUse)
        {
            var name = MeterPrefix;
            for (var n = 2; !InUse.Add(name); n++)
            {
                name = $"{MeterPrefix}.{n}";
            }
            MeterName = name;
        }
        _meter = new Meter(MeterName);
        RequestsInspected = _meter.CreateCounter<long>("leaknode.requests.inspected", description: "Requests inspected.");
        RequestsBlocked = _meter.CreateCounter<long>("leaknode.requests.blocked", description: "Requests refused because they carry a blocked leaked token, by where the token was found.");
        RequestsMonitored = _meter.CreateCounter<long>("leaknode.requests.monitored", description: "Requests forwarded although they carry a watched leaked token, by where it was found.");
        RequestsUninspected = _meter.CreateCounter<long>("leaknode.requests.uninspected", description: "Requests forwarded without inspection because no rule set was loaded yet (Node:BeforeRules: forward).");
        RequestsRefusedBeforeRules = _meter.CreateCounter<long>("leaknode.requests.refused_before_rules", description: "Requests refused with 503 because no rule set was loaded yet.");
        InspectionTime = _meter.CreateHistogram<double>(
            "leaknode.inspection.duration",
            unit: "s",
            description: "Time from the start of a request's inspection to the decision, reading the body included.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1] });
        BytesInspected = _meter.CreateCounter<long>("leaknode.inspection.bytes", unit: "By", description: "Bytes scanned, by part (target, headers, body, decoded).");
        BodiesTooLarge = _meter.CreateCounter<long>("leaknode.inspection.bodies_too_large", description: "Bodies over Inspection:MaxBodyBytes or Inspection:MaxDecodedBytes, by policy.");
        MalformedEncodings = _meter.CreateCounter<long>("leaknode.inspection.malformed", description: "Malformed encodings met (inspection fell back to the raw bytes), by encoding.");
        EventsDropped = _meter.CreateCounter<long>("leaknode.events.dropped", description: "Attack events dropped because the queue for the cloud was full.");
        SpoolDropped = _meter.CreateCounter<long>("leaknode.events.spool.dropped", description: "Attack events dropped from the disk spool (the oldest) because it was full (Events:SpoolMaxBytes).");
        EventsShipped = _meter.CreateCounter<long>("leaknode.events.shipped", description: "Attack events the cloud acknowledged.");
        RuleVersionsApplied = _meter.CreateCounter<long>("leaknode.sync.versions.applied", description: "Rule versions from the cloud built, persisted and put in force (acked), by kind (snapshot, delta).");
        RuleVersionsRefused = _meter.CreateCounter<long>("leaknode.sync.versions.refused", description: "Rule versions from the cloud refused (nacked); the last good rules stayed in force.");
        Reconnects = _meter.CreateCounter<long>("leaknode.sync.reconnects", description: "Connection attempts to the cloud after a failure, by stream (rules, events).");
        _meter.CreateObservableGauge("leaknode.events.spool.bytes", () => SpoolBytes?.Invoke() ?? 0, unit: "By", description: "Bytes of attack events spooled on disk for the cloud.");
        _meter.CreateObservableGauge("leaknode.sync.connected", () => CloudConnected?.Invoke() ?? 0, description: "1 while the rule stream to the cloud is open and has its key, else 0.");
        _meter.CreateObservableGauge("leaknode.rules.version", ruleVersion, description: "Version of the rule set in force.");
        _meter.CreateObservableGauge("leaknode.rules.tokens", tokens, description: "Leaked tokens watched.");
        _meter.CreateObservableGauge("leaknode.rules.leaks", leaks, description: "Leaks watched.");
        _meter.CreateObservableGauge("leaknode.events.queued", eventsQueued, description: "Attack events waiting for the cloud.");
    }

    public string MeterName { get; }

    public Counter<long> RequestsInspected { get; }

    public Counter<long> RequestsBlocked { get; }

    public Counter<long> RequestsMonitored { get; }

    public Counter<long> RequestsUninspected { get; }

    public Counter<long> RequestsRefusedBeforeRules { get; }

    public Histogram<double> InspectionTime { get; }

    public Counter<long> BytesInspected { get; }

    public Counter<long> BodiesTooLarge { get; }

    public Counter<long> MalformedEncodings { get; }

    public Counter<long> EventsDropped { get; }

    public Counter<long> SpoolDropped { get; }

    public Counter<long> EventsShipped { get; }

    public Counter<long> RuleVersionsApplied { get; }

    public Counter<long> RuleVersionsRefused { get; }

    public Counter<long> Reconnects { get; }

    /// <summary>Reads the spool's size for its gauge; set once the spool exists (nodes with a cloud).</summary>
    public Func<long>? SpoolBytes { get; set; }

    /// <summary>Reads the cloud connection for its gauge (1 connected, 0 not).</summary>
    public Func<long>? CloudConnected { get; set; }

    public void Dispose()
    {
        _meter.Dispose();
        lock (InUse)
        {
            InUse.Remove(MeterName);
        }
    }
}
