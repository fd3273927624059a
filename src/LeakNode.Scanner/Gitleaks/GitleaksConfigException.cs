namespace LeakNode.Scanner.Gitleaks;

/// <summary>A gitleaks config that cannot be loaded, with a message that names the file, the rule or list, and the problem.</summary>
public sealed class GitleaksConfigException : Exception
{
    public GitleaksConfigException(string message)
        : base(message)
    {
    }

    public GitleaksConfigException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public GitleaksConfigException()
    {
    }
}
