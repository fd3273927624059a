// Plain YARP, no inspection: what the node is measured against in bench/load/run.sh.
// The routes and cluster are the node's (appsettings.json: every path to one destination), so the only
// difference between the two is the inspection. Run it as
//   dotnet PlainYarp.dll --urls http://127.0.0.1:8080 --upstream http://127.0.0.1:5000/
// `--upstream` (or the environment variable UPSTREAM, read by the default configuration sources) replaces the
// destination's address; any other key can be set the usual way, e.g. --ReverseProxy:Clusters:app:HttpRequest:Version=2.
// The content root is the app's folder, not the working directory, so appsettings.json is found wherever it
// is started from.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    ContentRootPath = AppContext.BaseDirectory,
});

var upstream = builder.Configuration["upstream"];
if (!string.IsNullOrEmpty(upstream))
{
    builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["ReverseProxy:Clusters:app:Destinations:d1:Address"] = upstream,
    });
}

builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"));

var app = builder.Build();
app.MapReverseProxy();
app.Run();
