using Microsoft.Extensions.Configuration;

namespace LeakNode.Node.Configuration;

/// <summary>Where a node's configuration comes from: a YAML file, then <c>LEAKNODE_</c> environment variables over it (CONTRACT.md).</summary>
public static class NodeConfigurationSources
{
    /// <summary>The prefix of environment overrides: <c>LEAKNODE_Inspection__MaxBodyBytes=2097152</c>.</summary>
    public const string EnvironmentPrefix = "LEAKNODE_";

    /// <summary>Reads <paramref name="path"/> (YAML) and the environment.</summary>
    /// <exception cref="NodeStartupException">The file is missing or is not valid YAML.</exception>
    public static IConfiguration Build(string path)
    {
        if (!File.Exists(path))
        {
            throw new NodeStartupException([$"--config: no file at '{path}'"]);
        }
        try
        {
            return new ConfigurationBuilder()
                .AddYamlFile(Path.GetFullPath(path), optional: false, reloadOnChange: false)
                .AddEnvironmentVariables(EnvironmentPrefix)
                .Build();
        }
        catch (Exception error) when (error is FormatException or InvalidDataException or YamlDotNet.Core.YamlException)
        {
            throw new NodeStartupException([$"--config: '{path}' is not a valid configuration file: {error.Message}"]);
        }
    }
}
