#!/usr/bin/env bash
# The test command (README: "Test it"). Installs what the tests need when it is missing, then runs every test
# of the solution. CI calls this script and nothing else (.ci/run).
set -euo pipefail
cd "$(dirname "$0")"

# Debian packages the tests start for real, so that a clean machine gets them from this one place:
# postgresql (the cloud's tests run on SQLite and again on a throwaway PostgreSQL cluster; two cloud replicas
# share it in the end-to-end tests) and chromium (the console's browser tests, tests/LeakNode.Console.Tests).
packages=(postgresql chromium)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "test.sh: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  else
    echo "test.sh: missing Debian packages: ${missing[*]} (run as root to install them, or install them yourself)" >&2
    exit 1
  fi
fi

if ! command -v dotnet >/dev/null; then
  echo "test.sh: the .NET 10 SDK is required (https://dot.net); 'dotnet' is not on PATH" >&2
  exit 1
fi
sdk_major=$(dotnet --version | cut -d. -f1)
if [ "$sdk_major" -lt 10 ]; then
  echo "test.sh: the .NET 10 SDK is required; found $(dotnet --version)" >&2
  exit 1
fi

# Microsoft's SARIF Multitool, from npm, checks the scanner's SARIF reports against the SARIF 2.1.0 schema and
# rules (tests/LeakNode.Scanner.Tests, SarifValidationTests). Kept in the user's cache, outside the repository.
if [ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] && command -v npm >/dev/null; then
  tools="${XDG_CACHE_HOME:-$HOME/.cache}/leaknode-test-tools"
  multitool="$tools/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"
  if [ ! -x "$multitool" ]; then
    echo "test.sh: installing the SARIF Multitool (npm @microsoft/sarif-multitool-linux@5.7.0)"
    npm install --silent --no-audit --no-fund --prefix "$tools" @microsoft/sarif-multitool-linux@5.7.0 >/dev/null
    chmod +x "$multitool"
  fi
  export LEAKNODE_SARIF_MULTITOOL="$multitool"
else
  echo "test.sh: no npm (or not x86-64 Linux): the SARIF schema check will not run"
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build LeakNode.sln -c Release -warnaserror

# A throwaway PostgreSQL cluster (tests/scripts/postgres.sh): the end-to-end replica test runs two clouds over it,
# and the cloud's tests run a second time on it, one database per test.
source tests/scripts/postgres.sh
postgres_start
export LEAKNODE_E2E_POSTGRES="$LEAKNODE_TEST_POSTGRES"
LEAKNODE_TEST_POSTGRES= dotnet test --solution LeakNode.sln -c Release --no-build "$@"
dotnet test --project tests/LeakNode.Cloud.Tests -c Release --no-build "$@"
