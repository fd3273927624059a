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
        yield return ScanCommand.Create();
        yield return Inventory.InventoryCommand.Create();
    }
}
