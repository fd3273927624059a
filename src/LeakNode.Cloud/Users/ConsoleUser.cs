namespace LeakNode.Cloud.Users;

/// <summary>
/// A person who signs in to the console: an email, a password hash and one role (<c>admin</c> or <c>analyst</c>,
/// the same two as API keys). A row of <c>console_users</c>, mapped by Dapper.
/// </summary>
public sealed class ConsoleUser
{
    public string Id { get; set; } = "";

    public string Email { get; set; } = "";

    /// <summary>The email as Identity normalises it (upper case): the unique key users are found by.</summary>
    public string EmailNormalized { get; set; } = "";

    public string? PasswordHash { get; set; }

    /// <summary>Changes whenever the password or role changes, which ends the user's other sessions.</summary>
    public string SecurityStamp { get; set; } = "";

    public string Role { get; set; } = "";

    /// <summary>The admin created at first start (or from <c>Security:AdminEmail</c>/<c>Security:AdminPassword</c>).</summary>
    public bool Bootstrap { get; set; }

    public int FailedCount { get; set; }

    /// <summary>Unix milliseconds until which sign-in is refused after too many wrong passwords; null when not locked.</summary>
    public long? LockoutEnd { get; set; }

    public long CreatedAt { get; set; }
}
