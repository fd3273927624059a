namespace LeakNode.Scanner;

/// <summary>
/// The scan could not be done as asked: the target does not exist, cannot be read or cloned, or a rules or baseline
/// file is malformed. The message is written for the user and never holds a secret.
/// </summary>
public sealed class ScanException : Exception
{
    public ScanException(string message)
        : base(message)
    {
    }

    public ScanException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ScanException()
    {
    }
}
