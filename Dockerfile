# syntax=docker/dockerfile:1
# One image for every part: the `leaknode` command (node, cloud, dev).
#   docker build -t leaknode .
#   docker run --rm -p 8080:8080 -v "$PWD/node.yaml:/etc/leaknode/node.yaml:ro" leaknode node --config /etc/leaknode/node.yaml
#   docker run --rm -p 7070:7070 -p 7071:7071 -e LEAKNODE_Listen__Http=http://0.0.0.0:7070 \
#     -e LEAKNODE_Listen__Grpc=http://0.0.0.0:7071 leaknode cloud
# docs/deploy/ has a compose file for a local stack and Kubernetes examples.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore first, from the project files alone, so that a code change does not download packages again.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/LeakNode.Matching/LeakNode.Matching.csproj src/LeakNode.Matching/
COPY src/LeakNode.Hosting/LeakNode.Hosting.csproj src/LeakNode.Hosting/
COPY src/LeakNode.Node/LeakNode.Node.csproj src/LeakNode.Node/
COPY src/LeakNode.Protocol/LeakNode.Protocol.csproj src/LeakNode.Protocol/
COPY src/LeakNode.Cloud/LeakNode.Cloud.csproj src/LeakNode.Cloud/
COPY src/LeakNode.Scanner/LeakNode.Scanner.csproj src/LeakNode.Scanner/
COPY src/LeakNode.Cli/LeakNode.Cli.csproj src/LeakNode.Cli/
RUN dotnet restore src/LeakNode.Cli/LeakNode.Cli.csproj
COPY protos/ protos/
COPY src/ src/
RUN dotnet publish src/LeakNode.Cli/LeakNode.Cli.csproj -c Release --no-restore -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app .
# State lives outside the image, writable by the app user: a node's deployment key, rule cache and event spool;
# a cloud's SQLite database and generated master key (use PostgreSQL and Security:MasterKey in production).
# Each part reads only its own key of the two.
RUN mkdir -p /var/lib/leaknode && chown "$APP_UID" /var/lib/leaknode
ENV LEAKNODE_StateDir=/var/lib/leaknode/node LEAKNODE_DataDir=/var/lib/leaknode/cloud
VOLUME ["/var/lib/leaknode"]
# The .NET images' non-root user (uid 1654).
USER $APP_UID
EXPOSE 8080 9090 7070 7071
ENTRYPOINT ["dotnet", "/app/leaknode.dll"]
CMD ["--help"]
