# syntax=docker/dockerfile:1
# One image for every part: the `leaknode` command (node today; cloud and scanner as they land).
#   docker build -t leaknode .
#   docker run --rm -p 8080:8080 -v "$PWD/node.yaml:/etc/leaknode/node.yaml:ro" leaknode node --config /etc/leaknode/node.yaml

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore first, from the project files alone, so that a code change does not download packages again.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/LeakNode.Matching/LeakNode.Matching.csproj src/LeakNode.Matching/
COPY src/LeakNode.Node/LeakNode.Node.csproj src/LeakNode.Node/
COPY src/LeakNode.Cli/LeakNode.Cli.csproj src/LeakNode.Cli/
RUN dotnet restore src/LeakNode.Cli/LeakNode.Cli.csproj
COPY src/ src/
RUN dotnet publish src/LeakNode.Cli/LeakNode.Cli.csproj -c Release --no-restore -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app .
# State (the node key, later the rule cache and event spool) lives outside the image, writable by the app user.
RUN mkdir -p /var/lib/leaknode && chown "$APP_UID" /var/lib/leaknode
ENV LEAKNODE_StateDir=/var/lib/leaknode/node
VOLUME ["/var/lib/leaknode"]
# The .NET images' non-root user (uid 1654).
USER $APP_UID
EXPOSE 8080 9090
ENTRYPOINT ["dotnet", "/app/leaknode.dll"]
CMD ["--help"]
