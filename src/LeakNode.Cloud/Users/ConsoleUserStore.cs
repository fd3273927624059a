using Dapper;
using LeakNode.Cloud.Auth;
using LeakNode.Cloud.Storage;
using Microsoft.AspNetCore.Identity;

namespace LeakNode.Cloud.Users;

/// <summary>
/// ASP.NET Core Identity's user store over the cloud's own database (Dapper, portable SQL, migration 3).
/// </summary>
/// <remarks>
/// Why not the EF Core Identity context: the cloud has no EF Core anywhere (see <see cref="CloudDatabase"/>), and a
/// second data-access stack with its own migration history, its own SQLite/PostgreSQL providers and its own
/// connection handling would be more to keep working on both databases than these few statements. Identity needs
/// only the interfaces below; a user has one role, kept in a column, which <see cref="IUserRoleStore{TUser}"/> maps.
/// The email is the user name.
/// </remarks>
internal sealed class ConsoleUserStore(CloudDatabase database, TimeProvider clock) :
    IUserPasswordStore<ConsoleUser>, IUserEmailStore<ConsoleUser>, IUserRoleStore<ConsoleUser>, IUserSecurityStampStore<ConsoleUser>,
    IUserLockoutStore<ConsoleUser>
{
    private const string Columns = "id, email, email_normalized, password_hash, security_stamp, role, bootstrap, failed_count, lockout_end, created_at";

    public async Task<IdentityResult> CreateAsync(ConsoleUser user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (user.Id.Length == 0)
        {
            user.Id = Ids.New("usr_");
        }
        user.CreatedAt = Ids.Now(clock);
        await using var connection = await database.OpenAsync(cancellationToken);
        var inserted = await connection.ExecuteAsync(
            $"""
            INSERT INTO console_users ({Columns})
            VALUES (@Id, @Email, @EmailNormalized, @PasswordHash, @SecurityStamp, @Role, @bootstrap, @FailedCount, @LockoutEnd, @CreatedAt)
            ON CONFLICT (email_normalized) DO NOTHING
            """,
            new { user.Id, user.Email, user.EmailNormalized, user.PasswordHash, user.SecurityStamp, user.Role, bootstrap = user.Bootstrap ? 1 : 0, user.FailedCount, user.LockoutEnd, user.CreatedAt });
        return inserted == 1 ? IdentityResult.Success : IdentityResult.Failed(new IdentityErrorDescriber().DuplicateEmail(user.Email));
    }

    public async Task<IdentityResult> UpdateAsync(ConsoleUser user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(
            """
            UPDATE console_users SET email = @Email, email_normalized = @EmailNormalized, password_hash = @PasswordHash,
                security_stamp = @SecurityStamp, role = @Role, failed_count = @FailedCount, lockout_end = @LockoutEnd
            WHERE id = @Id
            """,
            new { user.Id, user.Email, user.EmailNormalized, user.PasswordHash, user.SecurityStamp, user.Role, user.FailedCount, user.LockoutEnd });
        return IdentityResult.Success;
    }

    public async Task<IdentityResult> DeleteAsync(ConsoleUser user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync("DELETE FROM console_users WHERE id = @Id", new { user.Id });
        return IdentityResult.Success;
    }

    public Task<ConsoleUser?> FindByIdAsync(string userId, CancellationToken cancellationToken) => FindAsync("id = @value", userId, cancellationToken);

    public Task<ConsoleUser?> FindByNameAsync(string normalizedUserName, CancellationToken cancellationToken) =>
        FindAsync("email_normalized = @value", normalizedUserName, cancellationToken);

    public Task<ConsoleUser?> FindByEmailAsync(string normalizedEmail, CancellationToken cancellationToken) =>
        FindAsync("email_normalized = @value", normalizedEmail, cancellationToken);

    /// <summary>Every user, by email, for the settings page.</summary>
    public async Task<IReadOnlyList<ConsoleUser>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return (await connection.QueryAsync<ConsoleUser>($"SELECT {Columns} FROM console_users ORDER BY email_normalized")).ToList();
    }

    public async Task<IList<ConsoleUser>> GetUsersInRoleAsync(string roleName, CancellationToken cancellationToken)
    {
        // Identity hands over the role normalised (upper case); the column holds the role's own name.
        var role = CheckRole(roleName);
        await using var connection = await database.OpenAsync(cancellationToken);
        return (await connection.QueryAsync<ConsoleUser>($"SELECT {Columns} FROM console_users WHERE role = @role", new { role })).ToList();
    }

    /// <summary>The bootstrap admin, if one was made.</summary>
    public Task<ConsoleUser?> FindBootstrapAsync(CancellationToken cancellationToken) => FindAsync("bootstrap = @value", 1, cancellationToken);

    public async Task<long> CountAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM console_users");
    }

    private async Task<ConsoleUser?> FindAsync(string where, object value, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<ConsoleUser>($"SELECT {Columns} FROM console_users WHERE {where}", new { value });
    }

    // ── The user's fields, as Identity reads and sets them (the changes are saved by UpdateAsync). ──

    public Task<string> GetUserIdAsync(ConsoleUser user, CancellationToken cancellationToken) => Task.FromResult(user.Id);

    public Task<string?> GetUserNameAsync(ConsoleUser user, CancellationToken cancellationToken) => Task.FromResult<string?>(user.Email);

    public Task SetUserNameAsync(ConsoleUser user, string? userName, CancellationToken cancellationToken) => SetEmailAsync(user, userName, cancellationToken);

    public Task<string?> GetNormalizedUserNameAsync(ConsoleUser user, CancellationToken cancellationToken) => Task.FromResult<string?>(user.EmailNormalized);

    public Task SetNormalizedUserNameAsync(ConsoleUser user, string? normalizedName, CancellationToken cancellationToken) =>
        SetNormalizedEmailAsync(user, normalizedName, cancellationToken);

    public Task SetPasswordHashAsync(ConsoleUser user, string? passwordHash, CancellationToken cancellationToken)
    {
        user.PasswordHash = passwordHash;
        return Task.CompletedTask;
    }

    public Task<string?> GetPasswordHashAsync(ConsoleUser user, CancellationToken cancellationToken) => Task.FromResult(user.PasswordHash);

    public Task<bool> HasPasswordAsync(ConsoleUser user, CancellationToken cancellationToken) => Task.FromResult(user.PasswordHash is not null);

    public Task SetEmailAsync(ConsoleUser user, string? email, CancellationToken cancellationToken)
    {
        user.Email = email ?? "";
        return Task.CompletedTask;
    }

    public Task<string?> GetEmailAsync(ConsoleUser user, CancellationToken cancellationToken) => Task.FromResult<string?>(user.Email);

    // Accounts are made by an admin, who vouches for the address: there is no mail round trip to confirm it.
    public Task<bool> GetEmailConfirmedAsync(ConsoleUser user, CancellationToken cancellationToken) => Task.FromResult(true);

    public Task SetEmailConfirmedAsync(ConsoleUser user, bool confirmed, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<string?> GetNormalizedEmailAsync(ConsoleUser user, CancellationToken cancellationToken) => Task.FromResult<string?>(user.EmailNormalized);

    public Task SetNormalizedEmailAsync(ConsoleUser user, string? normalizedEmail, CancellationToken cancellationToken)
    {
        user.EmailNormalized = normalizedEmail ?? "";
        return Task.CompletedTask;
    }

    public Task AddToRoleAsync(ConsoleUser user, string roleName, CancellationToken cancellationToken)
    {
        user.Role = CheckRole(roleName);
        return Task.CompletedTask;
    }

    public Task RemoveFromRoleAsync(ConsoleUser user, string roleName, CancellationToken cancellationToken)
    {
        // One role a user: removing it leaves the least one, which reads and changes nothing.
        if (string.Equals(user.Role, roleName, StringComparison.OrdinalIgnoreCase))
        {
            user.Role = ApiRoles.Analyst;
        }
        return Task.CompletedTask;
    }

    public Task<IList<string>> GetRolesAsync(ConsoleUser user, CancellationToken cancellationToken) => Task.FromResult<IList<string>>([user.Role]);

    public Task<bool> IsInRoleAsync(ConsoleUser user, string roleName, CancellationToken cancellationToken) =>
        Task.FromResult(string.Equals(user.Role, roleName, StringComparison.OrdinalIgnoreCase));

    public Task SetSecurityStampAsync(ConsoleUser user, string stamp, CancellationToken cancellationToken)
    {
        user.SecurityStamp = stamp;
        return Task.CompletedTask;
    }

    public Task<string?> GetSecurityStampAsync(ConsoleUser user, CancellationToken cancellationToken) => Task.FromResult<string?>(user.SecurityStamp);

    public Task<DateTimeOffset?> GetLockoutEndDateAsync(ConsoleUser user, CancellationToken cancellationToken) =>
        Task.FromResult(user.LockoutEnd is { } end ? Ids.Time(end) : (DateTimeOffset?)null);

    public Task SetLockoutEndDateAsync(ConsoleUser user, DateTimeOffset? lockoutEnd, CancellationToken cancellationToken)
    {
        user.LockoutEnd = lockoutEnd?.ToUnixTimeMilliseconds();
        return Task.CompletedTask;
    }

    public Task<int> IncrementAccessFailedCountAsync(ConsoleUser user, CancellationToken cancellationToken) => Task.FromResult(++user.FailedCount);

    public Task ResetAccessFailedCountAsync(ConsoleUser user, CancellationToken cancellationToken)
    {
        user.FailedCount = 0;
        return Task.CompletedTask;
    }

    public Task<int> GetAccessFailedCountAsync(ConsoleUser user, CancellationToken cancellationToken) => Task.FromResult(user.FailedCount);

    public Task<bool> GetLockoutEnabledAsync(ConsoleUser user, CancellationToken cancellationToken) => Task.FromResult(true);

    public Task SetLockoutEnabledAsync(ConsoleUser user, bool enabled, CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        // Nothing held: every call opens and closes its own pooled connection.
    }

    private static string CheckRole(string role) =>
        ApiRoles.All.FirstOrDefault(r => string.Equals(r, role, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentOutOfRangeException(nameof(role), role, $"a role is one of {string.Join(", ", ApiRoles.All)}");
}
