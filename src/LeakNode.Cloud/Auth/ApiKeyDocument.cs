using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace LeakNode.Cloud.Auth;

/// <summary>Tells OpenAPI clients how to authenticate: one bearer scheme (the API key), required by every operation.</summary>
internal static class ApiKeyDocument
{
    public const string SchemeName = "apiKey";

    public static OpenApiOptions DescribeApiKey(this OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[SchemeName] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "An API key (POST /api/v1/api-keys; the first admin key is LEAKNODE_ADMIN_KEY or the one logged on first start). "
                    + "Role admin may change anything, analyst only read.",
            };
            document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(SchemeName, document)] = [] }];
            return Task.CompletedTask;
        });
        return options;
    }
}
