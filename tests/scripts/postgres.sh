#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: initdb in a temporary folder, a free loopback port, trust auth on
# loopback only. Sourced by test.sh:
#
#   source tests/scripts/postgres.sh
#   postgres_start        # sets LEAKNODE_TEST_POSTGRES (an Npgsql connection string) or fails with why
#   ...                   # the cluster is stopped and removed on exit (trap)
#
# As root, the cluster runs as the `postgres` user the Debian package creates (initdb refuses to run as root).

postgres_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
  done
  command -v initdb >/dev/null && { dirname "$(command -v initdb)"; return 0; }
  return 1
}

postgres_free_port() {
  local port
  for _ in $(seq 1 100); do
    port=$((20000 + RANDOM % 40000))
    # Nothing answers a connection there: free (pg_ctl fails clearly if another process takes it meanwhile).
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return 0; }
  done
  return 1
}

postgres_stop() {
  if [ -n "${postgres_dir:-}" ] && [ -d "$postgres_dir" ]; then
    postgres_as "$postgres_binaries/pg_ctl" -D "$postgres_dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$postgres_dir"
  fi
}

postgres_as() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

postgres_start() {
  postgres_binaries=$(postgres_bin) || { echo "test.sh: PostgreSQL's initdb was not found (apt-get install postgresql)" >&2; return 1; }
  postgres_dir=$(mktemp -d /tmp/leaknode-pg.XXXXXX)
  trap postgres_stop EXIT
  [ "$(id -u)" -eq 0 ] && chown postgres: "$postgres_dir"
  local port
  port=$(postgres_free_port)
  postgres_as "$postgres_binaries/initdb" -D "$postgres_dir/data" -U postgres --auth=trust --encoding=UTF8 --no-sync >"$postgres_dir/initdb.log" 2>&1 \
    || { echo "test.sh: initdb failed:" >&2; cat "$postgres_dir/initdb.log" >&2; return 1; }
  # fsync off: a test cluster that is thrown away needs no durability, and the tests create and drop many databases.
  # LEAKNODE_PG_DURABLE=1 keeps PostgreSQL's defaults (fsync, synchronous_commit, full_page_writes on): what the
  # benchmarks measure on (bench/README.md).
  local durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  [ "${LEAKNODE_PG_DURABLE:-}" = "1" ] && durability=""
  postgres_as "$postgres_binaries/pg_ctl" -D "$postgres_dir/data" -l "$postgres_dir/server.log" -w -t 60 \
    -o "-p $port -c listen_addresses=127.0.0.1 -k $postgres_dir $durability -c max_connections=300" start >/dev/null \
    || { echo "test.sh: PostgreSQL did not start:" >&2; cat "$postgres_dir/server.log" >&2; return 1; }
  export LEAKNODE_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres"
  echo "test.sh: PostgreSQL $("$postgres_binaries/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (throwaway, $postgres_dir${durability:+, fsync off})"
}
