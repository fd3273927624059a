namespace LeakNode.Testing;

/// <summary>Files of the repository the tests run from (the example configuration must work as shipped).</summary>
public static class Repository
{
    public static string Root { get; } = Find();

    public static string File(string relative) => Path.Combine(Root, relative);

    private static string Find()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (System.IO.File.Exists(Path.Combine(folder.FullName, "LeakNode.sln")))
            {
                return folder.FullName;
            }
        }
        throw new InvalidOperationException("The tests do not run inside the repository: LeakNode.sln not found above " + AppContext.BaseDirectory);
    }
}
