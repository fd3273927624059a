using System.Net;
using LeakNode.Cloud.Tests.Support;
using LeakNode.Cloud.Users;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace LeakNode.Cloud.Tests.Auth;

/// <summary>Console users: the bootstrap admin, passwords checked by Identity over the cloud's own database, and the API untouched by cookies.</summary>
public sealed class ConsoleUsersTests
{
    private const string AdminKey = "lk_test_console_users_0001";

    [Fact]
    public async Task Bootstrap_NothingConfigured_GeneratesAnAdminOnceAndLogsItsPassword()
    {
        var settings = new Dictionary<string, string?> { ["Security:AdminKey"] = AdminKey };
        var folder = Directory.CreateTempSubdirectory("leaknode-users-").FullName;
        try
        {
            string password;
            await using (var cloud = await CloudHarness.StartAsync(settings, folder))
            {
                password = Assert.IsType<string>(cloud.Cloud.BootstrapAdminPassword);
                Assert.Equal(ConsoleAdmin.DefaultEmail, cloud.Cloud.BootstrapAdminEmail);
                Assert.Contains(cloud.Logs, line => line.Contains(password, StringComparison.Ordinal));
                Assert.True(await PasswordWorksAsync(cloud, ConsoleAdmin.DefaultEmail, password));
                Assert.False(await PasswordWorksAsync(cloud, ConsoleAdmin.DefaultEmail, password + "x"));
            }
            await using (var again = await CloudHarness.StartAsync(settings, folder))
            {
                Assert.Null(again.Cloud.BootstrapAdminPassword);
                Assert.True(await PasswordWorksAsync(again, ConsoleAdmin.DefaultEmail, password));
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Bootstrap_ConfiguredPassword_IsSetAtEveryStart()
    {
        var folder = Directory.CreateTempSubdirectory("leaknode-users-").FullName;
        try
        {
            var first = new Dictionary<string, string?> { ["Security:AdminEmail"] = "ops@example.test", ["Security:AdminPassword"] = "first-password-123", ["Security:AdminKey"] = AdminKey };
            await using (var cloud = await CloudHarness.StartAsync(first, folder))
            {
                Assert.Null(cloud.Cloud.BootstrapAdminPassword);
                Assert.True(await PasswordWorksAsync(cloud, "ops@example.test", "first-password-123"));
            }
            var second = new Dictionary<string, string?> { ["Security:AdminEmail"] = "ops@example.test", ["Security:AdminPassword"] = "second-password-456", ["Security:AdminKey"] = AdminKey };
            await using (var cloud = await CloudHarness.StartAsync(second, folder))
            {
                Assert.False(await PasswordWorksAsync(cloud, "ops@example.test", "first-password-123"));
                Assert.True(await PasswordWorksAsync(cloud, "ops@example.test", "second-password-456"));
                await using var scope = cloud.Cloud.Services.CreateAsyncScope();
                Assert.Single(await scope.ServiceProvider.GetRequiredService<ConsoleUsers>().ListAsync(CancellationToken.None));
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("Security:AdminPassword", "short", "Security:AdminPassword: must be 12 to 256 characters")]
    [InlineData("Security:AdminEmail", "not-an-email", "Security:AdminEmail: must be an email address")]
    [InlineData("Security:SessionLifetime", "00:00:05", "Security:SessionLifetime: must be between 1 minute and 30 days")]
    public async Task Start_BadConsoleSetting_NamesTheKey(string key, string value, string problem)
    {
        var error = await Assert.ThrowsAsync<CloudStartupException>(() => CloudHarness.StartAsync(new Dictionary<string, string?> { [key] = value }));
        Assert.Contains(error.Problems, p => p.StartsWith(problem, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Users_LastAdmin_CannotBeDemotedOrDeleted()
    {
        await using var cloud = await CloudHarness.StartAsync();
        await using var scope = cloud.Cloud.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<ConsoleUsers>();
        var admin = Assert.Single(await users.ListAsync(CancellationToken.None));

        Assert.NotNull(await users.SetRoleAsync(admin.Id, "analyst"));
        Assert.NotNull(await users.DeleteAsync(admin.Id));

        Assert.Empty(await users.CreateAsync("second@example.test", "another-password-1", "admin"));
        Assert.Equal("must be an email address (name@domain)", (await users.CreateAsync("nope", "another-password-1", "admin"))["email"]);
        Assert.Contains("email", (await users.CreateAsync("SECOND@example.test", "another-password-1", "analyst")).Keys);
        Assert.Null(await users.SetRoleAsync(admin.Id, "analyst"));
        Assert.Equal(2, (await users.ListAsync(CancellationToken.None)).Count);
    }

    [Fact]
    public async Task Console_SignedOut_RedirectsToSignIn_AndTheApiStillWantsAKey()
    {
        await using var cloud = await CloudHarness.StartAsync();
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = cloud.Cloud.HttpUrl };

        using var home = await client.GetAsync(new Uri("/", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Redirect, home.StatusCode);
        Assert.StartsWith("/signin", home.Headers.Location!.PathAndQuery, StringComparison.Ordinal);

        using var signIn = await client.GetAsync(new Uri("/signin", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, signIn.StatusCode);
        Assert.Contains("Sign in to the console", await signIn.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);

        using var api = await client.GetAsync(new Uri("/api/v1/leaks", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
    }

    [Fact]
    public async Task Session_ExpiredOrStampChangedOrUserDeleted_IsNoLongerCurrent()
    {
        await using var cloud = await CloudHarness.StartAsync(new Dictionary<string, string?> { ["Security:SessionLifetime"] = "00:10:00" });
        await using var scope = cloud.Cloud.Services.CreateAsyncScope();
        var services = scope.ServiceProvider;
        var users = services.GetRequiredService<UserManager<ConsoleUser>>();
        var options = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<IdentityOptions>>().Value;
        var factory = services.GetRequiredService<IUserClaimsPrincipalFactory<ConsoleUser>>();
        Assert.Empty(await services.GetRequiredService<ConsoleUsers>().CreateAsync("someone@example.test", "someone-password-1", "analyst"));
        var user = (await users.FindByEmailAsync("someone@example.test"))!;
        var principal = await factory.CreateAsync(user);
        Assert.True(principal.IsInRole("analyst"));

        Assert.True(await ConsoleAuthenticationState.IsCurrentAsync(principal, users, options, TimeProvider.System));
        Assert.False(await ConsoleAuthenticationState.IsCurrentAsync(principal, users, options, new Later(TimeSpan.FromMinutes(11))));

        await users.UpdateSecurityStampAsync(user);
        Assert.False(await ConsoleAuthenticationState.IsCurrentAsync(principal, users, options, TimeProvider.System));

        var fresh = await factory.CreateAsync(user);
        Assert.True(await ConsoleAuthenticationState.IsCurrentAsync(fresh, users, options, TimeProvider.System));
        await users.DeleteAsync(user);
        Assert.False(await ConsoleAuthenticationState.IsCurrentAsync(fresh, users, options, TimeProvider.System));
    }

    /// <summary>The clock some time from now.</summary>
    private sealed class Later(TimeSpan ahead) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + ahead;
    }

    private static async Task<bool> PasswordWorksAsync(CloudHarness cloud, string email, string password)
    {
        await using var scope = cloud.Cloud.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ConsoleUser>>();
        var user = await users.FindByEmailAsync(email);
        return user is not null && await users.CheckPasswordAsync(user, password);
    }
}
