using System.CommandLine;
using LeakNode.Node;
using LeakNode.Node.Configuration;

namespace LeakNode.Cli;

/// <summary><c>leaknode node --config FILE</c>: an enforcement node, until Ctrl+C or SIGTERM.</summary>
internal static class NodeCommand
{
    public static Command Create()
    {
        var config = new Option<FileInfo>("--config", "-c")
        {
            Description = "The node's YAML configuration (see node.yaml.example). Any key can be overridden by an environment variable LEAKNODE_<Section>__<Key>.",
            Required = true,
        };
        var command = new Command("node", "Run an enforcement node: a reverse proxy that blocks requests carrying leaked tokens.") { config };
        command.SetAction((parse, cancellation) => RunAsync(parse.GetValue(config)!, parse.InvocationConfiguration.Error, cancellation));
        return command;
    }

    private static async Task<int> RunAsync(FileInfo config, TextWriter error, CancellationToken cancellation)
    {
        NodeApplication node;
        try
        {
            node = await NodeApplication.StartAsync(NodeConfigurationSources.Build(config.FullName), cancellationToken: cancellation);
        }
        catch (NodeStartupException startup)
        {
            await error.WriteLineAsync(startup.Message);
            return Commands.ErrorExitCode;
        }

        await Shutdown.WaitAsync(cancellation);
        await node.DisposeAsync();
        return 0;
    }
}
