using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace LeakNode.Node.Configuration;

/// <summary>
/// Checks a node's configuration and reports every problem at once, each naming its key, as YARP's
/// ConfigValidator does: fixing one error at a time across restarts is how outages get longer.
/// </summary>
internal sealed class NodeConfigurationValidator : IValidateOptions<NodeConfiguration>
{
    /// <summary>The largest body the node holds: beyond 1 GiB a proxy should stream, not inspect.</summary>
    private const long MaxBodyLimit = 1L << 30;

    /// <summary>The smallest spool: a few full batches of typical events (about 300 bytes each).</summary>
    private const long MinSpoolBytes = 64L << 10;

    private const long MaxSpoolBytes = 64L << 30;

    /// <summary>
    /// The most events in one batch: a batch must stay under gRPC's 4 MB message limit, and an event with a long
    /// path runs to a few hundred bytes (the shipper also cuts batches at 1 MiB, whatever the count).
    /// </summary>
    private const int MaxBatchSize = 10_000;

    public ValidateOptionsResult Validate(string? name, NodeConfiguration options)
    {
        var problems = Problems(options, null).ToList();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    public static IEnumerable<string> Problems(NodeConfiguration options, IConfiguration? raw)
    {
        if (string.IsNullOrWhiteSpace(options.Node.Name) || options.Node.Name.Length > 128)
        {
            yield return "Node:Name: must be 1 to 128 characters";
        }

        var hasCloud = options.Cloud.Configured;
        var hasFile = !string.IsNullOrWhiteSpace(options.Rules.File);
        if (!hasCloud && !hasFile)
        {
            yield return "Rules:File / Cloud:GrpcUrl: neither is set, so the node would have no rules to enforce; set Rules:File for a standalone node, or Cloud:GrpcUrl and Cloud:Token";
        }
        if (hasCloud && hasFile)
        {
            // Two sources of truth for one rule set would need a merge whose result nobody sees whole; a node
            // enforces the cloud's rules, or a file's, and says which in /status.
            yield return "Rules:File / Cloud:GrpcUrl: both are set; a node takes its rules from the cloud or from a file, not both. Add the file's leaks in the cloud (POST /api/v1/leaks), or leave Cloud out for a standalone node";
        }
        foreach (var problem in CloudProblems(options.Cloud))
        {
            yield return problem;
        }
        if (hasFile && !File.Exists(options.Rules.File))
        {
            yield return $"Rules:File: no file at '{options.Rules.File}' (relative paths are from the working directory, {Environment.CurrentDirectory})";
        }
        if (options.Rules.ReloadDelay < TimeSpan.Zero || options.Rules.ReloadDelay > TimeSpan.FromMinutes(1))
        {
            yield return "Rules:ReloadDelay: must be between 0 and 1 minute";
        }

        foreach (var problem in CheckUrl("Listen:Proxy", options.Listen.Proxy, allowHttps: true))
        {
            yield return problem;
        }
        foreach (var problem in CheckUrl("Listen:Admin", options.Listen.Admin, allowHttps: false))
        {
            yield return problem;
        }
        if (Uri.TryCreate(options.Listen.Proxy, UriKind.Absolute, out var proxy) && Uri.TryCreate(options.Listen.Admin, UriKind.Absolute, out var admin)
            && proxy.Port != 0 && proxy.Port == admin.Port)
        {
            yield return $"Listen:Admin: port {admin.Port} is also Listen:Proxy's; they need separate ports";
        }
        if (proxy?.Scheme == Uri.UriSchemeHttps && string.IsNullOrWhiteSpace(options.Listen.Certificate.Path))
        {
            yield return "Listen:Certificate:Path: an https:// Listen:Proxy needs a certificate (PEM)";
        }
        if (!string.IsNullOrWhiteSpace(options.Listen.Certificate.Path) && !File.Exists(options.Listen.Certificate.Path))
        {
            yield return $"Listen:Certificate:Path: no file at '{options.Listen.Certificate.Path}'";
        }
        if (!string.IsNullOrWhiteSpace(options.Listen.Certificate.KeyPath) && !File.Exists(options.Listen.Certificate.KeyPath))
        {
            yield return $"Listen:Certificate:KeyPath: no file at '{options.Listen.Certificate.KeyPath}'";
        }
        if (options.Listen.ShutdownTimeout < TimeSpan.Zero || options.Listen.ShutdownTimeout > TimeSpan.FromMinutes(10))
        {
            yield return "Listen:ShutdownTimeout: must be between 0 and 10 minutes";
        }

        if (options.Inspection.MaxBodyBytes is <= 0 or > MaxBodyLimit)
        {
            yield return $"Inspection:MaxBodyBytes: must be between 1 and {MaxBodyLimit} (1 GiB); it is {options.Inspection.MaxBodyBytes}";
        }
        if (options.Inspection.MaxDecodedBytes is <= 0 or > 4 * MaxBodyLimit)
        {
            yield return $"Inspection:MaxDecodedBytes: must be between 1 and {4 * MaxBodyLimit} (4 GiB); it is {options.Inspection.MaxDecodedBytes}";
        }
        if (options.Inspection.MaxDecodedRatio < 1)
        {
            yield return $"Inspection:MaxDecodedRatio: must be at least 1; it is {options.Inspection.MaxDecodedRatio}";
        }

        for (var i = 0; i < options.Network.TrustedProxies.Count; i++)
        {
            var entry = options.Network.TrustedProxies[i];
            if (!IPAddress.TryParse(entry, out _) && !IPNetwork.TryParse(entry, out _))
            {
                yield return $"Network:TrustedProxies:{i}: '{entry}' is neither an IP address nor a CIDR range";
            }
        }

        if (options.Events.QueueCapacity is < 1 or > 10_000_000)
        {
            yield return $"Events:QueueCapacity: must be between 1 and 10,000,000; it is {options.Events.QueueCapacity}";
        }
        if (options.Events.AggregationWindow < TimeSpan.Zero || options.Events.AggregationWindow > TimeSpan.FromMinutes(1))
        {
            yield return "Events:AggregationWindow: must be between 0 and 1 minute";
        }

        if (options.Events.SpoolMaxBytes is < MinSpoolBytes or > MaxSpoolBytes)
        {
            yield return $"Events:SpoolMaxBytes: must be between {MinSpoolBytes} (64 KiB) and {MaxSpoolBytes} (64 GiB); it is {options.Events.SpoolMaxBytes}";
        }
        if (options.Events.BatchSize is < 1 or > MaxBatchSize)
        {
            yield return $"Events:BatchSize: must be between 1 and {MaxBatchSize}; it is {options.Events.BatchSize}";
        }
        if (options.Events.BatchInterval < TimeSpan.FromMilliseconds(10) || options.Events.BatchInterval > TimeSpan.FromMinutes(1))
        {
            yield return "Events:BatchInterval: must be between 10 ms and 1 minute";
        }
        if (options.Events.AckTimeout < TimeSpan.FromSeconds(1) || options.Events.AckTimeout > TimeSpan.FromMinutes(10))
        {
            yield return "Events:AckTimeout: must be between 1 second and 10 minutes";
        }

        if (string.IsNullOrWhiteSpace(options.StateDir))
        {
            yield return "StateDir: must name a directory";
        }

        if (raw is not null)
        {
            if (!raw.GetSection("ReverseProxy:Routes").GetChildren().Any())
            {
                yield return "ReverseProxy:Routes: no route, so the node would forward nothing (see node.yaml.example)";
            }
            if (!raw.GetSection("ReverseProxy:Clusters").GetChildren().Any())
            {
                yield return "ReverseProxy:Clusters: no cluster, so the node would have nowhere to forward (see node.yaml.example)";
            }
        }
    }

    private static IEnumerable<string> CloudProblems(CloudOptions cloud)
    {
        if (!cloud.Configured)
        {
            if (!string.IsNullOrWhiteSpace(cloud.Token))
            {
                yield return "Cloud:Token: set, but no Cloud:GrpcUrl says where the cloud is";
            }
            yield break;
        }
        if (!string.IsNullOrWhiteSpace(cloud.GrpcUrl))
        {
            foreach (var problem in CheckUrl("Cloud:GrpcUrl", cloud.GrpcUrl, allowHttps: true))
            {
                yield return problem;
            }
        }
        for (var i = 0; i < cloud.GrpcUrls.Count; i++)
        {
            foreach (var problem in CheckUrl($"Cloud:GrpcUrls:{i}", cloud.GrpcUrls[i], allowHttps: true))
            {
                yield return problem;
            }
        }
        if (string.IsNullOrWhiteSpace(cloud.Token))
        {
            // The token itself is never echoed, in this message or any other.
            yield return "Cloud:Token: required with Cloud:GrpcUrl; it is the node token from POST /api/v1/nodes (or LEAKNODE_Cloud__Token)";
        }
        else if (cloud.Token.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            yield return "Cloud:Token: contains white space or control characters; paste the token exactly as the cloud showed it";
        }
        if (cloud.ReconnectInitialDelay < TimeSpan.FromMilliseconds(10) || cloud.ReconnectInitialDelay > TimeSpan.FromMinutes(10))
        {
            yield return "Cloud:ReconnectInitialDelay: must be between 10 ms and 10 minutes";
        }
        if (cloud.ReconnectMaxDelay < cloud.ReconnectInitialDelay || cloud.ReconnectMaxDelay > TimeSpan.FromHours(1))
        {
            yield return "Cloud:ReconnectMaxDelay: must be at least Cloud:ReconnectInitialDelay and at most 1 hour";
        }
        if (cloud.ConnectTimeout < TimeSpan.FromMilliseconds(100) || cloud.ConnectTimeout > TimeSpan.FromMinutes(5))
        {
            yield return "Cloud:ConnectTimeout: must be between 100 ms and 5 minutes";
        }
        if (cloud.KeepAliveInterval < TimeSpan.FromSeconds(1) || cloud.KeepAliveInterval > TimeSpan.FromHours(1))
        {
            yield return "Cloud:KeepAliveInterval: must be between 1 second and 1 hour";
        }
    }

    private static IEnumerable<string> CheckUrl(string key, string value, bool allowHttps)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            yield return $"{key}: '{value}' is not an http:// or https:// URL";
            yield break;
        }
        if (uri.Scheme == Uri.UriSchemeHttps && !allowHttps)
        {
            yield return $"{key}: only http:// is supported here; keep it on loopback or a private network";
        }
        if (uri.AbsolutePath != "/")
        {
            yield return $"{key}: '{value}' has a path; a URL here is scheme, host and port only";
        }
    }
}
