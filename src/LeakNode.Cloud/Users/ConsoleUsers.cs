using System.Security.Cryptography;
using LeakNode.Cloud.Auth;
using LeakNode.Cloud.Configuration;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Logging;

namespace LeakNode.Cloud.Users;

/// <summary>The console's bootstrap admin and password rules, for the cloud and for <c>leaknode dev</c>.</summary>
public static class ConsoleAdmin
{
    public const string DefaultEmail = "admin@leaknode.local";

    /// <summary>Length, not character classes, makes a password strong (NIST SP 800-63B); 12 is the floor.</summary>
    public const int MinPasswordLength = 12;

    /// <summary>A random password of 20 characters from an alphabet without look-alikes (about 115 bits).</summary>
    public static string GeneratePassword() =>
        RandomNumberGenerator.GetString("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789", 20);
}

/// <summary>What an admin does to console users, and the bootstrap admin; errors are named by field, as the API names them.</summary>
internal sealed partial class ConsoleUsers(UserManager<ConsoleUser> users, ConsoleUserStore store, ILogger<ConsoleUsers> logger)
{
    public const string DefaultAdminEmail = ConsoleAdmin.DefaultEmail;

    public const int MinPasswordLength = ConsoleAdmin.MinPasswordLength;

    public static bool IsEmail(string value)
    {
        var at = value.IndexOf('@', StringComparison.Ordinal);
        return value.Length <= 254 && at > 0 && at < value.Length - 1 && at == value.LastIndexOf('@') && !value.Any(char.IsWhiteSpace) && !value.Any(char.IsControl);
    }

    public Task<IReadOnlyList<ConsoleUser>> ListAsync(CancellationToken cancellationToken) => store.ListAsync(cancellationToken);

    /// <summary>Creates a user; returns the errors by field (<c>email</c>, <c>password</c>, <c>role</c>), empty on success.</summary>
    public async Task<Dictionary<string, string>> CreateAsync(string? email, string? password, string? role, bool bootstrap = false)
    {
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        email = email?.Trim() ?? "";
        if (!IsEmail(email))
        {
            errors["email"] = "must be an email address (name@domain)";
        }
        if (password is null || password.Length < MinPasswordLength || password.Length > 256)
        {
            errors["password"] = $"must be {MinPasswordLength} to 256 characters";
        }
        if (role is null || !ApiRoles.All.Contains(role))
        {
            errors["role"] = $"must be one of {string.Join(", ", ApiRoles.All)}";
        }
        if (errors.Count > 0)
        {
            return errors;
        }
        var user = new ConsoleUser { Email = email, Role = role!, Bootstrap = bootstrap };
        var result = await users.CreateAsync(user, password!);
        if (!result.Succeeded)
        {
            errors[result.Errors.Any(e => e.Code.Contains("Email", StringComparison.Ordinal) || e.Code.Contains("UserName", StringComparison.Ordinal)) ? "email" : "password"] =
                string.Join(" ", result.Errors.Select(e => e.Description));
            return errors;
        }
        Log.UserCreated(logger, user.Id, role!);
        return errors;
    }

    /// <summary>Changes a user's role; refused when it would leave no admin.</summary>
    public async Task<string?> SetRoleAsync(string id, string role)
    {
        var user = await users.FindByIdAsync(id);
        if (user is null)
        {
            return "this user no longer exists";
        }
        if (user.Role == ApiRoles.Admin && role != ApiRoles.Admin && await IsLastAdminAsync())
        {
            return "the last admin cannot lose the admin role: make another admin first";
        }
        await users.AddToRoleAsync(user, role);
        // A new stamp ends the user's sessions elsewhere at their next check, so the new role applies at once.
        await users.UpdateSecurityStampAsync(user);
        return null;
    }

    /// <summary>Deletes a user; refused for the last admin.</summary>
    public async Task<string?> DeleteAsync(string id)
    {
        var user = await users.FindByIdAsync(id);
        if (user is null)
        {
            return null;
        }
        if (user.Role == ApiRoles.Admin && await IsLastAdminAsync())
        {
            return "the last admin cannot be deleted: make another admin first";
        }
        await users.DeleteAsync(user);
        Log.UserDeleted(logger, id);
        return null;
    }

    private async Task<bool> IsLastAdminAsync() => (await users.GetUsersInRoleAsync(ApiRoles.Admin)).Count <= 1;

    /// <summary>
    /// Makes sure an admin can sign in. A configured password (<c>Security:AdminPassword</c>) is set on the bootstrap
    /// admin at every start, creating it when needed; without one, an admin with a generated password is created
    /// only while there is no user at all. Returns the generated password, or null.
    /// </summary>
    public async Task<string?> BootstrapAsync(SecurityOptions security)
    {
        var email = security.AdminEmail ?? DefaultAdminEmail;
        var existing = await store.FindBootstrapAsync(CancellationToken.None);
        if (security.AdminPassword is { } password)
        {
            if (existing is null)
            {
                var errors = await CreateAsync(email, password, ApiRoles.Admin, bootstrap: true);
                if (errors.Count > 0)
                {
                    throw new InvalidOperationException("the bootstrap admin user cannot be created: " + string.Join("; ", errors.Select(e => $"{e.Key} {e.Value}")));
                }
            }
            else
            {
                await users.SetEmailAsync(existing, email);
                await users.SetUserNameAsync(existing, email);
                existing.Role = ApiRoles.Admin;
                existing.LockoutEnd = null;
                existing.FailedCount = 0;
                await users.RemovePasswordAsync(existing);
                await users.AddPasswordAsync(existing, password);
            }
            Log.AdminUserConfigured(logger, email);
            return null;
        }
        if (existing is not null || await store.CountAsync(CancellationToken.None) > 0)
        {
            return null;
        }
        var generated = ConsoleAdmin.GeneratePassword();
        var problems = await CreateAsync(email, generated, ApiRoles.Admin, bootstrap: true);
        if (problems.Count > 0)
        {
            throw new InvalidOperationException("the bootstrap admin user cannot be created: " + string.Join("; ", problems.Select(e => $"{e.Key} {e.Value}")));
        }
        // Once, at Warning, like the admin API key: it is the only way into a new console.
        Log.AdminUserGenerated(logger, email, generated);
        return generated;
    }

    private static partial class Log
    {
        [LoggerMessage(Diagnostics.EventIds.AdminUserGenerated, LogLevel.Warning,
            "No console user existed, so an admin was created; sign in to the console as {Email} with the password {Password} (shown this once; set Security:AdminPassword to choose it)")]
        public static partial void AdminUserGenerated(ILogger logger, string email, string password);

        [LoggerMessage(Diagnostics.EventIds.AdminUserConfigured, LogLevel.Information, "The console's bootstrap admin is {Email} with the configured password (Security:AdminPassword)")]
        public static partial void AdminUserConfigured(ILogger logger, string email);

        [LoggerMessage(Diagnostics.EventIds.UserCreated, LogLevel.Information, "Console user {UserId} created with role {Role}")]
        public static partial void UserCreated(ILogger logger, string userId, string role);

        [LoggerMessage(Diagnostics.EventIds.UserDeleted, LogLevel.Information, "Console user {UserId} deleted")]
        public static partial void UserDeleted(ILogger logger, string userId);
    }
}
