namespace LeakNode.Scanner.Detection;

/// <summary>How bad a finding is by default, before the cloud scores it. Ordered: a larger value is worse.</summary>
public enum Severity
{
    Info = 0,
    Low = 1,
    Medium = 2,
    High = 3,

    /// <summary>A credential that grants access as found: a private key, a live payment key, an inventory hit.</summary>
    Critical = 4,
}
