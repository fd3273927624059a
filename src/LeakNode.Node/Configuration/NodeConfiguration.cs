using Microsoft.Extensions.Configuration;

namespace LeakNode.Node.Configuration;

/// <summary>
/// Everything a node is configured with, from <c>node.yaml</c> and <c>LEAKNODE_</c> environment variables (see
/// CONTRACT.md and <c>node.yaml.example</c>), except the <c>ReverseProxy</c> section, which YARP reads itself.
/// </summary>
public sealed class NodeConfiguration
{
    public NodeOptions Node { get; set; } = new();

    public CloudOptions Cloud { get; set; } = new();

    public RulesOptions Rules { get; set; } = new();

    public ListenOptions Listen { get; set; } = new();

    public InspectionOptions Inspection { get; set; } = new();

    public NetworkOptions Network { get; set; } = new();

    public EventOptions Events { get; set; } = new();

    /// <summary>Where the node keeps its state: the deployment key (its own for a standalone node, the cloud's otherwise), the cloud's rules, and the event spool. Default <c>./.leaknode/node</c>.</summary>
    public string StateDir { get; set; } = "./.leaknode/node";

    /// <summary>The sections this class binds; the rest of the file belongs to YARP (<c>ReverseProxy</c>) and logging.</summary>
    internal static readonly string[] Sections = ["Node", "Cloud", "Rules", "Listen", "Inspection", "Network", "Events"];

    /// <summary>
    /// Binds the configuration and checks it. Returns the problems, every one of them, each naming its key; an
    /// empty list means the node can start.
    /// </summary>
    public static (NodeConfiguration Configuration, IReadOnlyList<string> Problems) Load(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var problems = new List<string>();
        var result = new NodeConfiguration();
        foreach (var section in Sections)
        {
            Bind(configuration.GetSection(section), section, result, problems);
        }
        if (configuration["StateDir"] is { } stateDir)
        {
            result.StateDir = stateDir;
        }

        problems.AddRange(NodeConfigurationValidator.Problems(result, configuration));
        return (result, problems);
    }

    private static void Bind(IConfigurationSection section, string name, NodeConfiguration target, List<string> problems)
    {
        object options = name switch
        {
            "Node" => target.Node,
            "Cloud" => target.Cloud,
            "Rules" => target.Rules,
            "Listen" => target.Listen,
            "Inspection" => target.Inspection,
            "Network" => target.Network,
            _ => target.Events,
        };
        var type = options.GetType();

        foreach (var child in section.GetChildren())
        {
            var property = type.GetProperty(child.Key, System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.IgnoreCase);
            if (property is null)
            {
                // A misspelt "MaxBodyByte" must not silently leave the default in force.
                problems.Add($"{child.Path}: unknown setting; {name} has {string.Join(", ", type.GetProperties().Select(p => p.Name))}");
                continue;
            }
            if (child.Value == "" && property.PropertyType != typeof(string))
            {
                continue;
            }
            try
            {
                var value = child.Get(property.PropertyType, o => o.ErrorOnUnknownConfiguration = true);
                if (value is not null)
                {
                    property.SetValue(options, value);
                }
            }
            catch (InvalidOperationException error)
            {
                problems.Add($"{child.Path}: {Explain(error)}");
            }
        }
    }

    private static string Explain(InvalidOperationException error)
    {
        var inner = error.InnerException?.Message;
        return inner is null ? error.Message : $"{error.Message.TrimEnd('.')}: {inner}";
    }
}
