
namespace LeakNode.Cli;

/// <summary>The cloud's configuration: an optional YAML file, then <c>LEAKNODE_</c> environment variables over it (CONTRACT.md).</summary>
internal static class ConfigurationFiles
{
    public const string EnvironmentPrefix = "LEAKNODE_";

    /// <summary>Reads <paramref name="path"/> (YAML) when given, and the environment. Returns null and a message when the file is missing or bad.</summary>
    public static IConfiguration? Build(string? path, out string? problem)
    {
        problem = null;
        var builder = new ConfigurationBuilder();
        if (path is not null)
        {
            if (!File.Exists(path))
            {
                problem = $"--config: no file at '{path}'";
                return null;
            }
            builder.AddYamlFile(Path.GetFullPath(path), optional: false, reloadOnChange: false);
        }
        builder.AddEnvironmentVariables(EnvironmentPrefix);
        try
        {
            return builder.Build();
        }
        catch (Exception error) when (error is FormatException or InvalidDataException or YamlDotNet.Core.YamlException)
        {
            problem = $"--config: '{path}' is not a valid configuration file: {error.Message}";
            return null;
        }
    }
}
