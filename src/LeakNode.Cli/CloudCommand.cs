using System.CommandLine;
using LeakNode.Cloud;

namespace LeakNode.Cli;

/// <summary><c>leaknode cloud [--config FILE]</c>: the control plane, until Ctrl+C or SIGTERM.</summary>
internal static class CloudCommand
{
    public static Command Create()
    {
        var config = new Option<FileInfo?>("--config", "-c")
        {
            Description = "The cloud's YAML configuration (optional: every key has a default). Any key can be overridden by an environment variable LEAKNODE_<Section>__<Key>.",
        };
        var command = new Command("cloud", "Run the control plane: leaks and their lifecycle, the REST API, rule streaming to nodes, event ingest.") { config };
        command.SetAction((parse, cancellation) => RunAsync(parse.GetValue(config), parse.InvocationConfiguration.Error, cancellation));
        return command;
    }

    private static async Task<int> RunAsync(FileInfo? config, TextWriter error, CancellationToken cancellation)
    {
        var configuration = ConfigurationFiles.Build(config?.FullName, out var problem);
        if (configuration is null)
        {
            await error.WriteLineAsync("The cloud cannot start:\n  - " + problem);
            return Commands.ErrorExitCode;
        }

        CloudApplication cloud;
        try
        {
            cloud = await CloudApplication.StartAsync(configuration, ct: cancellation);
        }
        catch (CloudStartupException startup)
        {
            await error.WriteLineAsync(startup.Message);
            return Commands.ErrorExitCode;
        }

        await Shutdown.WaitAsync(cancellation);
        await cloud.DisposeAsync();
        return 0;
    }
}
