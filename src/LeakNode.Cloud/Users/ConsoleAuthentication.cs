using System.Security.Claims;
using LeakNode.Cloud.Auth;
using LeakNode.Cloud.Configuration;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LeakNode.Cloud.Users;

/// <summary>
/// Console sign-in: ASP.NET Core Identity over <see cref="ConsoleUserStore"/>, an HttpOnly cookie for the console
/// pages, and the data-protection keys that sign the cookie kept (sealed) in the database so that every replica
/// reads the cookies of the others.
/// </summary>
/// <remarks>
/// The cookie is the default scheme, for the console. The REST API is not affected: its policies
/// (<see cref="AuthPolicies"/>) name the API-key scheme, and a policy that names schemes authenticates with those
/// alone, so a request to <c>/api/*</c> with a console cookie and no key is answered 401.
/// </remarks>
internal static class ConsoleAuthentication
{
    public const string SignInPath = "/signin";
    public const string SignOutPath = "/signout";
    public const string DeniedPath = "/denied";

    /// <summary>The claim that carries when the sign-in ends (Unix milliseconds), for the open console pages to check.</summary>
    public const string ExpiresClaim = "leaknode:session_expires";

    public static IServiceCollection AddConsoleAuthentication(this IServiceCollection services, CloudConfiguration settings)
    {
        services.AddDataProtection().SetApplicationName("leaknode-cloud");
        services.AddSingleton<DatabaseXmlRepository>();
        services.AddSingleton<IConfigureOptions<KeyManagementOptions>, DatabaseKeyManagement>();

        services.AddIdentityCore<ConsoleUser>(o =>
            {
                o.Password.RequiredLength = ConsoleUsers.MinPasswordLength;
                o.Password.RequireDigit = false;
                o.Password.RequireLowercase = false;
                o.Password.RequireUppercase = false;
                o.Password.RequireNonAlphanumeric = false;
                o.Password.RequiredUniqueChars = 1;
                o.User.RequireUniqueEmail = true;
                o.User.AllowedUserNameCharacters = "";
                o.Lockout.MaxFailedAccessAttempts = 5;
                o.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(5);
                o.Lockout.AllowedForNewUsers = true;
            })
            .AddUserStore<ConsoleUserStore>()
            .AddSignInManager()
            .AddClaimsPrincipalFactory<ConsoleClaimsFactory>();
        services.AddScoped(sp => (ConsoleUserStore)sp.GetRequiredService<IUserStore<ConsoleUser>>());
        services.AddScoped<ConsoleUsers>();
        services.TryAddScoped<ISecurityStampValidator, SecurityStampValidator<ConsoleUser>>();
        // A deleted user, or one whose role or password changed, is out at the next request after a minute at most.
        services.Configure<SecurityStampValidatorOptions>(o => o.ValidationInterval = TimeSpan.FromMinutes(1));

        services.AddAuthentication(o =>
            {
                o.DefaultScheme = IdentityConstants.ApplicationScheme;
                o.DefaultSignInScheme = IdentityConstants.ApplicationScheme;
            })
            .AddCookie(IdentityConstants.ApplicationScheme, o =>
            {
                o.Cookie.Name = "leaknode.session";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Strict;
                o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.LoginPath = SignInPath;
                o.LogoutPath = SignOutPath;
                o.AccessDeniedPath = DeniedPath;
                o.ExpireTimeSpan = settings.Security.SessionLifetime;
                // Not sliding: a session lasts Security:SessionLifetime from sign-in, whatever the activity.
                o.SlidingExpiration = false;
                o.Events.OnValidatePrincipal = SecurityStampValidator.ValidatePrincipalAsync;
            });
        services.AddCascadingAuthenticationState();
        services.AddScoped<AuthenticationStateProvider, ConsoleAuthenticationState>();
        services.AddAuthorizationBuilder()
            .AddPolicy(ConsolePolicies.Admin, p => p.AddAuthenticationSchemes(IdentityConstants.ApplicationScheme).RequireAuthenticatedUser().RequireRole(ApiRoles.Admin));
        return services;
    }
}

/// <summary>The console's policy names.</summary>
internal static class ConsolePolicies
{
    public const string Admin = "console-admin";
}

/// <summary>Adds the user's role and the session's end to the cookie's claims.</summary>
internal sealed class ConsoleClaimsFactory(UserManager<ConsoleUser> users, IOptions<IdentityOptions> options, CloudConfiguration settings, TimeProvider clock)
    : UserClaimsPrincipalFactory<ConsoleUser>(users, options)
{
    protected override async Task<ClaimsIdentity> GenerateClaimsAsync(ConsoleUser user)
    {
        var identity = await base.GenerateClaimsAsync(user);
        identity.AddClaim(new Claim(Options.ClaimsIdentity.RoleClaimType, user.Role));
        var expires = clock.GetUtcNow() + settings.Security.SessionLifetime;
        identity.AddClaim(new Claim(ConsoleAuthentication.ExpiresClaim, expires.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture)));
        return identity;
    }
}

/// <summary>
/// The signed-in user of an open console page (a Blazor circuit lives longer than the request that opened it). Every
/// 30 seconds it checks that the session has not expired and that the user's security stamp is unchanged (not
/// deleted, same role and password); when either fails, the page signs out and shows the sign-in link.
/// </summary>
internal sealed class ConsoleAuthenticationState(ILoggerFactory loggerFactory, IServiceScopeFactory scopes, IOptions<IdentityOptions> options, TimeProvider clock)
    : RevalidatingServerAuthenticationStateProvider(loggerFactory)
{
    protected override TimeSpan RevalidationInterval => TimeSpan.FromSeconds(30);

    protected override async Task<bool> ValidateAuthenticationStateAsync(AuthenticationState authenticationState, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await IsCurrentAsync(authenticationState.User, scope.ServiceProvider.GetRequiredService<UserManager<ConsoleUser>>(), options.Value, clock);
    }

    /// <summary>The session has not expired, and its user still exists with the same security stamp (role, password).</summary>
    internal static async Task<bool> IsCurrentAsync(ClaimsPrincipal principal, UserManager<ConsoleUser> users, IdentityOptions options, TimeProvider clock)
    {
        if (principal.FindFirst(ConsoleAuthentication.ExpiresClaim)?.Value is not { } expires
            || !long.TryParse(expires, System.Globalization.CultureInfo.InvariantCulture, out var expiresAt)
            || clock.GetUtcNow().ToUnixTimeMilliseconds() >= expiresAt)
        {
            return false;
        }
        var user = await users.GetUserAsync(principal);
        if (user is null)
        {
            return false;
        }
        var stamp = principal.FindFirstValue(options.ClaimsIdentity.SecurityStampClaimType);
        return stamp == await users.GetSecurityStampAsync(user);
    }
}
