using System.CommandLine;
using LeakNode.Cli;

var root = new RootCommand("LeakNode: find leaked API tokens and block every request that carries one.");
foreach (var command in Commands.All())
{
    root.Subcommands.Add(command);
}

var parse = root.Parse(args);
// Bad arguments are an error like any other (exit 2, CONTRACT.md), not System.CommandLine's default 1, which
// `leaknode scan` uses for "leaks found".
if (parse.Errors.Count > 0 && parse.Action is not System.CommandLine.Help.HelpAction)
{
    foreach (var error in parse.Errors)
    {
        await Console.Error.WriteLineAsync(error.Message);
    }
    // The whole path of a subcommand (leaknode inventory digest), not only its last word.
    var names = new List<string>();
    for (var result = parse.CommandResult; result is not null && result.Command != root; result = result.Parent as System.CommandLine.Parsing.CommandResult)
    {
        names.Insert(0, result.Command.Name);
    }
    await Console.Error.WriteLineAsync($"See: {string.Join(' ', ["leaknode", .. names])} --help");
    return Commands.ErrorExitCode;
}
return await parse.InvokeAsync();
