using System.CommandLine;

namespace LeakNode.Cli;

/// <summary>The <c>leaknode</c> command tree. One method per command keeps each command's options beside its action.</summary>
internal static class Commands
{
    /// <summary>Exit code for "the command could not do its work" (bad arguments, missing parts).</summary>
    public const int ErrorExitCode = 2;

    public static IEnumerable<Command> All()
    {
        yield return Dev.DevCommand.Create();
        yield return CloudCommand.Create();
        yield return NodeCommand.Create();
        yield return Planned("scan", "Scan a folder, file, archive or git repository for leaked tokens.");
    }

    // The command names are part of the public interface (CONTRACT.md) and are reserved now so that
    // scripts see a clear message instead of "unknown command" while the part is being built.
    private static Command Planned(string name, string description)
    {
        var command = new Command(name, description + " (coming: not in this build yet)")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        command.SetAction(parseResult =>
        {
            parseResult.InvocationConfiguration.Error.WriteLine(
                $"leaknode {name}: coming — this build holds the token matcher only; the {name} command lands with its issue. See README.md.");
            return ErrorExitCode;
        });
        return command;
    }
}
