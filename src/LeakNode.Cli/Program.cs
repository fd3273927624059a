using System.CommandLine;
using LeakNode.Cli;

var root = new RootCommand("LeakNode: find leaked API tokens and block every request that carries one.");
foreach (var command in Commands.All())
{
    root.Subcommands.Add(command);
}

return await root.Parse(args).InvokeAsync();
