using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LeakNode.Cloud.Auth;

/// <summary>The authorization policies: <see cref="Reader"/> on every API call, <see cref="Admin"/> on every write.</summary>
internal static class AuthPolicies
{
    public const string Scheme = "ApiKey";
    public const string Reader = "reader";
    public const string Admin = "admin";

    public static IServiceCollection AddApiKeyAuth(this IServiceCollection services)
    {
        // No default scheme: only endpoints whose policy names the scheme look at the Authorization header. gRPC
        // calls carry the node's token there, which is the node protocol's to check, not an API key.
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(Scheme, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(Reader, p => p.AddAuthenticationSchemes(Scheme).RequireAuthenticatedUser().RequireRole(ApiRoles.All))
            .AddPolicy(Admin, p => p.AddAuthenticationSchemes(Scheme).RequireAuthenticatedUser().RequireRole(ApiRoles.Admin));
        return services;
    }
}

/// <summary>The API key owner behind a request.</summary>
internal static class ApiKeyUser
{
    /// <summary>The key's name: the actor in leak history.</summary>
    public static string Name(ClaimsPrincipal user) => user.Identity?.Name ?? "unknown";
}

/// <summary>
/// <c>Authorization: Bearer &lt;api key&gt;</c>. Answers 401 and 403 as problem details like every other error of
/// the API, with <c>WWW-Authenticate: Bearer</c> on 401 (RFC 6750).
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory loggerFactory, UrlEncoder encoder, ApiKeyStore keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        // A node protocol call carries a node token, which NodeSyncService checks itself. The policies name this
        // scheme, but a lone registered scheme is also the default one, so UseAuthentication still runs it on every
        // gRPC call: looked up as an API key, a node token would cost a query and log a failure per node stream.
        if (header.Length == 0 || Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true)
        {
            return AuthenticateResult.NoResult();
        }
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.Fail("the Authorization header is not 'Bearer <api key>'");
        }
        var key = header["Bearer ".Length..].Trim();
        if (key.Length is 0 or > 512)
        {
            return AuthenticateResult.Fail("the API key is not valid");
        }
        var identity = await keys.AuthenticateAsync(key, Context.RequestAborted);
        if (identity is null)
        {
            return AuthenticateResult.Fail("the API key is not valid");
        }
        var claims = new ClaimsIdentity(
            [new Claim(ClaimTypes.NameIdentifier, identity.Id), new Claim(ClaimTypes.Name, identity.Name), new Claim(ClaimTypes.Role, identity.Role)],
            Scheme.Name, ClaimTypes.Name, ClaimTypes.Role);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(claims), Scheme.Name));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Bearer";
        var failure = (await HandleAuthenticateOnceSafeAsync()).Failure;
        await Results.Problem(
            failure is null ? "send 'Authorization: Bearer <api key>'" : failure.Message,
            statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized").ExecuteAsync(Context);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Results.Problem("this API key's role may not do this: changes, and secrets such as the inventory key, need an admin key", statusCode: StatusCodes.Status403Forbidden, title: "Forbidden")
            .ExecuteAsync(Context);
}
