using System.Diagnostics;
using LeakNode.Matching;
using LeakNode.Node.Configuration;
using LeakNode.Node.Diagnostics;
using LeakNode.Node.Events;
using LeakNode.Node.Rules;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.ObjectPool;

namespace LeakNode.Node.Inspection;

/// <summary>
/// The node's inspection step, first in YARP's proxy pipeline (<c>MapReverseProxy(pipeline => …)</c>): it looks
/// for leaked tokens in the target and headers, then — unless that already decided — in the body as it arrives,
/// and either answers 403 (the upstream never sees the request) or lets YARP forward the same bytes.
/// Every detection becomes an attack event.
/// </summary>
internal sealed partial class InspectionMiddleware(
    RuleState rules,
    NodeConfiguration configuration,
    NodeMetrics metrics,
    EventAggregator events,
    ClientAddress clients,
    ObjectPool<InspectionContext> contexts,
    ILogger<InspectionMiddleware> logger)
{
    private readonly bool _blockMode = configuration.Node.Mode == NodeMode.Block;

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var matcher = rules.Current;
        if (matcher is null)
        {
            if (configuration.Node.BeforeRules == BeforeRulesPolicy.Forward)
            {
                metrics.RequestsUninspected.Add(1);
                await next(context);
                return;
            }
            metrics.RequestsRefusedBeforeRules.Add(1);
            Log.RefusedBeforeRules(logger);
            await Problems.NotReady(context);
            return;
        }

        var started = Stopwatch.GetTimestamp();
        metrics.RequestsInspected.Add(1);
        Detection[]? detected = null;
        var work = contexts.Get();
        try
        {
            // Target and headers first, before any body byte is read.
            var malformed = RequestParts.AddTarget(context, work.Block);
            malformed |= RequestParts.AddHeaders(context, work.Block);
            using (var scanner = matcher.RentScanner())
            {
                work.Block.Scan(scanner, work.Detections);
            }
            metrics.BytesInspected.Add(work.Block.Length, new KeyValuePair<string, object?>("part", "headers"));
            if (malformed)
            {
                work.Malformed = true;
                metrics.MalformedEncodings.Add(1, new KeyValuePair<string, object?>("encoding", "target-or-headers"));
            }

            if (Blocks(work.Detections))
            {
                await BlockAsync(context, matcher, work.Detections, started);
                return;
            }

            if (HasInspectableBody(context))
            {
                var limit = configuration.Inspection.MaxBodyBytes;
                if (context.Request.ContentLength > limit && configuration.Inspection.BodyTooLarge == BodyTooLargePolicy.Reject)
                {
                    metrics.BodiesTooLarge.Add(1, new KeyValuePair<string, object?>("policy", "reject"));
                    await TooLargeAsync(context, limit);
                    return;
                }

                var body = new BodyBuffer();
                context.Response.RegisterForDispose(body);
                var original = context.Request.Body;
                var outcome = await BodyInspector.InspectAsync(context, matcher, work, body, configuration.Inspection, metrics);
                if (outcome == BodyOutcome.TooLarge)
                {
                    await TooLargeAsync(context, limit);
                    return;
                }
                if (Blocks(work.Detections))
                {
                    await BlockAsync(context, matcher, work.Detections, started);
                    return;
                }
                context.Request.Body = new InspectedBodyStream(body.AsSequence(), outcome == BodyOutcome.Prefix ? original : null);
            }

            if (work.Detections.Count > 0)
            {
                detected = Copy(work.Detections);
            }
        }
        finally
        {
            contexts.Return(work);
        }

        metrics.InspectionTime.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
        await next(context);

        if (detected is not null)
        {
            foreach (var detection in detected)
            {
                metrics.RequestsMonitored.Add(1, new KeyValuePair<string, object?>("location", LocationKind(detection.Location)));
                Record(context, matcher, detection, AttackEvent.Monitored, context.Response.StatusCode);
            }
        }
    }

    private bool Blocks(Detections detections) => _blockMode && detections.AnyBlock();

    /// <summary>Requests whose body is inspected: any that can have one, except upgrades (WebSockets) and gRPC streams, which pass through after their headers.</summary>
    private static bool HasInspectableBody(HttpContext context)
    {
        if (context.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false })
        {
            return false;
        }
        if (context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true }
            || context.Features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true })
        {
            return false;
        }
        var type = context.Request.ContentType;
        return type is null || !type.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase);
    }

    private async Task BlockAsync(HttpContext context, TokenMatcher matcher, Detections detections, long started)
    {
        metrics.InspectionTime.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
        string? eventId = null;
        for (var i = 0; i < detections.Count; i++)
        {
            var detection = detections[i];
            metrics.RequestsBlocked.Add(1, new KeyValuePair<string, object?>("location", LocationKind(detection.Location)));
            eventId ??= Record(context, matcher, detection, AttackEvent.Blocked, StatusCodes.Status403Forbidden);
        }
        Log.Blocked(logger, eventId ?? "", detections.Count);
        DisableKeepAliveIfBodyUnread(context);
        await Problems.LeakedCredential(context, eventId);
    }

    private static Task TooLargeAsync(HttpContext context, long limit)
    {
        DisableKeepAliveIfBodyUnread(context);
        return Problems.BodyTooLarge(context, limit);
    }

    // An HTTP/1.1 connection whose request body was not read to the end cannot carry another request: say so
    // rather than let the server drain a body of any size.
    private static void DisableKeepAliveIfBodyUnread(HttpContext context)
    {
        if (HttpProtocol.IsHttp11(context.Request.Protocol) && context.Request.ContentLength is not 0)
        {
            context.Response.Headers.Connection = "close";
        }
    }

    private string Record(HttpContext context, TokenMatcher matcher, Detection detection, string action, int status)
    {
        var attempt = new AttackEvent(
            Guid.CreateVersion7().ToString(),
            AttackEvent.VirtualPatch,
            DateTimeOffset.UtcNow,
            configuration.Node.Name,
            matcher.GetLeakId(detection.Leak),
            matcher.GetTokenId(detection.Token),
            matcher.GetTokenFingerprint(detection.Token),
            matcher.GetTokenPreview(detection.Token),
            action,
            1,
            clients.Resolve(context),
            context.Request.Method,
            Redactor.Redact(matcher, context.Request.Host.Value ?? ""),
            Redactor.Redact(matcher, context.Request.PathBase.Add(context.Request.Path).Value ?? "/"),
            detection.Location,
            status);
        return events.Record(attempt);
    }

    private static Detection[] Copy(Detections detections)
    {
        var copy = new Detection[detections.Count];
        for (var i = 0; i < copy.Length; i++)
        {
            copy[i] = detections[i];
        }
        return copy;
    }

    /// <summary>The kind part of a location (<c>header</c>, <c>query</c>, <c>body:json</c>…), for metrics: names would make unbounded label sets.</summary>
    private static string LocationKind(string location)
    {
        if (location.StartsWith("body:", StringComparison.Ordinal))
        {
            var second = location.IndexOf(':', 5);
            return second < 0 ? location : location[..second];
        }
        var colon = location.IndexOf(':');
        return colon < 0 ? location : location[..colon];
    }

    private static partial class Log
    {
        [LoggerMessage(Diagnostics.EventIds.RequestBlocked, LogLevel.Information, "Request blocked: {Detections} leaked token(s), event {EventId}")]
        public static partial void Blocked(ILogger logger, string eventId, int detections);

        [LoggerMessage(Diagnostics.EventIds.RefusedBeforeRules, LogLevel.Warning, "Request refused with 503: no rule set loaded yet (Node:BeforeRules is reject)")]
        public static partial void RefusedBeforeRules(ILogger logger);
    }
}
