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

        var hasCloud = !string.IsNullOrWhiteSpace(options.Cloud.GrpcUrl);
        var hasFile = !string.IsNullOrWhiteSpace(options.Rules.File);
        if (!hasCloud && !hasFile)
        {
            yield return "Rules:File / Cloud:GrpcUrl: neither is set, so the node would have no rules to enforce; set Rules:File for a standalone node, or Cloud:GrpcUrl and Cloud:Token";
        }
        if (hasCloud)
        {
            yield return "Cloud:GrpcUrl: this build of the node runs standalone only (the cloud connection arrives with the cloud); leave Cloud:GrpcUrl out and use Rules:File";
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
            yield return $"{key}: '{value}' has a path; a listener URL is scheme, host and port only";
        }
    }
}
