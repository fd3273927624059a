#!/usr/bin/env bash
# Load benchmark of the node: the node with 10k and 100k leaked tokens against plain YARP, nginx, and nginx with
# ModSecurity v3 (@pmFromFile over the same tokens), all in front of the same upstream, on this machine.
#
#   bench/load/run.sh                    every default scenario: 14–17 minutes here (warm-up of at least 60 s for
#                                        .NET, longer until req/s is stable; 30 s a body; noisy runs repeated)
#   bench/load/run.sh --quick            5 s warm-up, 5 s measurement: to try the script (~3.5 minutes)
#   bench/load/run.sh --only yarp,node-100k   some scenarios (repeat --only or separate names with commas)
#   bench/load/run.sh --duration 20 --warmup 90   measurement and .NET warm-up, in seconds
#   bench/load/run.sh --nice -10         on a machine shared with other work (see --help)
#   bench/load/run.sh --list             the scenarios
#
# Placement (2 cores): the proxy under test alone on CPU 0 (taskset -c 0); wrk (-t1 -c32) and the upstream
# (nginx `return 200`, one worker) share CPU 1. Each scenario: start the proxy, check that a clean request is
# forwarded (200) and, for the node and ModSecurity, that a listed token in a header, the body or the query is
# blocked (403); warm up under load; measure a ~500 B and a 16 KiB JSON POST with `wrk --latency`; read the
# proxy's peak RSS (VmHWM). Progress goes to stderr; the Markdown report goes to stdout and to
# bench/load/results/load-<time>.md, with the CPU time other processes took on each core during each run (a noisy
# run is repeated, --retries). Installs wrk, nginx and the ModSecurity module when run as root.
# Every process it starts is stopped on exit, Ctrl+C or failure. Loopback only; ports are picked free.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

all_scenarios=(upstream yarp nginx modsec-10k modsec-100k node-10k node-100k node-1m-start modsec-1m-start)
default_scenarios=(upstream yarp nginx modsec-10k modsec-100k node-10k node-100k node-1m-start)
declare -A describe=(
  [upstream]="the upstream alone (wrk -> nginx return 200, no proxy): proves the upstream is not the bottleneck"
  [yarp]="plain YARP 2.3.0, no inspection (bench/load/PlainYarp)"
  [nginx]="nginx reverse proxy, keep-alive to the upstream"
  [modsec-10k]="nginx + ModSecurity v3, one @pmFromFile rule over 10k tokens"
  [modsec-100k]="nginx + ModSecurity v3, one @pmFromFile rule over 100k tokens"
  [node-10k]="the node, block mode, 10k tokens"
  [node-100k]="the node, block mode, 100k tokens"
  [node-1m-start]="the node with 1M tokens: seconds to /readyz 200 and RSS at ready (no load)"
  [modsec-1m-start]="nginx + ModSecurity with 1M tokens: seconds to first answer and RSS (not by default: ~3 min, ~14 GB here)"
)

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
  echo "Options: --quick  --only NAME[,NAME]  --duration SECONDS  --warmup SECONDS  --retries N (noisy runs, default 2)"
  echo "         --modsec-json (ModSecurity also parses JSON bodies into ARGS)  --keep (keep the temp dir)"
  echo "         --nice N (run the proxies, the upstream and wrk at niceness N, e.g. -10 on a machine shared with"
  echo "         other work: they then win the cores; the noise columns show whether it was needed)"
  echo "         --no-install  --list  --help"
}

invocation="bench/load/run.sh${*:+ $*}"
duration=30        # wrk measurement, each body size
warmup=60          # .NET proxies: tiered JIT kept YARP speeding up for ~40 s on one core
nginx_warmup=10    # nginx and ModSecurity: no JIT; enough to fill the connection pools
chunk_max=10       # warm-up is run in chunks of this many seconds, alternating the bodies, to show the curve
retries=2          # a measurement is repeated while another process took more than noise_limit % of CPU 0
noise_limit=10
keep=0
install=1
modsec_json=0
niceness=0
only=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) duration=5; warmup=5; nginx_warmup=2; retries=0 ;;
    --retries) shift; retries=${1:?--retries needs a count} ;;
    --retries=*) retries=${1#*=} ;;
    --only) shift; IFS=',' read -r -a names <<<"${1:?--only needs a scenario name}"; only+=("${names[@]}") ;;
    --only=*) IFS=',' read -r -a names <<<"${1#*=}"; only+=("${names[@]}") ;;
    --duration) shift; duration=${1:?--duration needs seconds} ;;
    --duration=*) duration=${1#*=} ;;
    --warmup) shift; warmup=${1:?--warmup needs seconds} ;;
    --warmup=*) warmup=${1#*=} ;;
    --keep) keep=1 ;;
    --modsec-json) modsec_json=1 ;;
    --nice) shift; niceness=${1:?--nice needs a niceness, e.g. -10} ;;
    --nice=*) niceness=${1#*=} ;;
    --no-install) install=0 ;;
    --list) for s in "${all_scenarios[@]}"; do printf '%-16s %s\n' "$s" "${describe[$s]}"; done; exit 0 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
for n in "$duration" "$warmup"; do
  [[ "$n" =~ ^[0-9]+$ && "$n" -ge 1 ]] || { echo "run.sh: durations are whole seconds >= 1, got '$n'" >&2; exit 2; }
done
[[ "$retries" =~ ^[0-9]+$ ]] || { echo "run.sh: --retries takes a count, got '$retries'" >&2; exit 2; }
[[ "$niceness" =~ ^-?[0-9]+$ ]] || { echo "run.sh: --nice takes a number, got '$niceness'" >&2; exit 2; }
# The prefixes that run the measured processes: pinned, at the chosen niceness. nice and taskset exec, so the pid
# of the background job is the server's own.
on_cpu0=(nice -n "$niceness" taskset -c 0)
on_cpu1=(nice -n "$niceness" taskset -c 1)
[ "$nginx_warmup" -le "$warmup" ] || nginx_warmup=$warmup
if [ ${#only[@]} -eq 0 ]; then
  selected=("${default_scenarios[@]}")
else
  selected=()
  for s in "${only[@]}"; do
    [ -n "${describe[$s]+x}" ] || { echo "run.sh: no scenario '$s'; --list shows them" >&2; exit 2; }
    selected+=("$s")
  done
fi
selected_has() { local s; for s in "${selected[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------------------------------------------------------
# Processes: every one started is remembered and stopped on exit, together with its children (nginx's workers).
pids=()
work=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  local pid
  for pid in "${pids[@]}"; do stop_tree "$pid"; done
  if [ -n "$work" ] && [ -d "$work" ]; then
    if [ "$keep" -eq 1 ]; then log "kept the work dir: $work"; else rm -rf "$work"; fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM

# stop_tree PID: TERM, up to 10 s, then KILL; children still there afterwards (nginx workers of a master that had
# to be killed) are killed too, if they are still the same programs.
stop_tree() {
  local pid=$1 child i children=()
  forget "$pid"
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  for child in $(pgrep -P "$pid" || true); do children+=("$child:$(cat "/proc/$child/comm" 2>/dev/null)"); done
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for child in "${children[@]}"; do
    if [ "$(cat "/proc/${child%%:*}/comm" 2>/dev/null)" = "${child#*:}" ]; then kill -KILL "${child%%:*}" 2>/dev/null || true; fi
  done
}
forget() { local p rest=(); for p in "${pids[@]}"; do [ "$p" = "$1" ] || rest+=("$p"); done; pids=("${rest[@]}"); }

# start LOGFILE CMD...: runs CMD (a program, not a shell function) in the background; sets $started to its pid.
start() {
  local logfile=$1; shift
  "$@" >"$logfile" 2>&1 &
  started=$!
  pids+=("$started")
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Waits until URL answers at all (any HTTP status), or the process dies, or TIMEOUT seconds pass.
wait_answer() {
  local url=$1 pid=$2 timeout=$3 i code
  for i in $(seq $((timeout * 10))); do
    kill -0 "$pid" 2>/dev/null || return 1
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)
    [ "$code" != "000" ] && return 0
    sleep 0.1
  done
  return 1
}

# ---------------------------------------------------------------------------------------------------------------
# Tools
need_packages=()
command -v wrk >/dev/null || need_packages+=(wrk)
command -v nginx >/dev/null || need_packages+=(nginx)
[ -e /usr/lib/nginx/modules/ngx_http_modsecurity_module.so ] || need_packages+=(libnginx-mod-http-modsecurity)
command -v curl >/dev/null || need_packages+=(curl)
command -v taskset >/dev/null || need_packages+=(util-linux)
command -v pgrep >/dev/null || need_packages+=(procps)
command -v python3 >/dev/null || need_packages+=(python3)
if [ ${#need_packages[@]} -gt 0 ]; then
  if [ "$install" -eq 1 ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    log "installing ${need_packages[*]}"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_packages[@]}" >&2
  else
    die "missing: ${need_packages[*]} (run as root to install them, or install them yourself)"
  fi
fi
command -v dotnet >/dev/null || die "the .NET 10 SDK is required; 'dotnet' is not on PATH"
[ "$(nproc)" -ge 2 ] || die "two CPUs are needed (proxy on CPU 0, wrk and upstream on CPU 1); nproc says $(nproc)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

work=$(mktemp -d "${TMPDIR:-/tmp}/leaknode-load.XXXXXX")
results_dir="$here/results"
mkdir -p "$results_dir"
stamp=$(date +%Y%m%d-%H%M%S)
report="$results_dir/load-$stamp.md"
clk_tck=$(getconf CLK_TCK)

est=0
for s in "${selected[@]}"; do
  case "$s" in
    upstream) est=$((est + 2 * duration + 5)) ;;
    yarp|node-10k|node-100k) est=$((est + warmup + 2 * duration + 10)) ;;
    nginx|modsec-10k) est=$((est + nginx_warmup + 2 * duration + 5)) ;;
    modsec-100k) est=$((est + nginx_warmup + 2 * duration + 15)) ;;
    node-1m-start) est=$((est + 30)) ;;
    modsec-1m-start) est=$((est + 180)) ;;
  esac
done
log "scenarios: ${selected[*]}; warm-up ${warmup} s (.NET) / ${nginx_warmup} s (nginx), ${duration} s a body; about $(( (est + 59) / 60 )) min plus builds"
log "work dir: $work"

# ---------------------------------------------------------------------------------------------------------------
# Builds
skipped=()
checks=()      # what was checked before measuring, for the report
gc_mode() { # what a published app's runtimeconfig.json asks for, unless DOTNET_gcServer overrides it
  case "${DOTNET_gcServer:-}" in
    1) echo "server (DOTNET_gcServer=1)" ;;
    0) echo "workstation (DOTNET_gcServer=0)" ;;
    *) if grep -q '"System.GC.Server": true' "$1" 2>/dev/null; then echo server; else echo workstation; fi ;;
  esac
}
yarp_gc="" node_gc=""
if selected_has yarp; then
  log "building bench/load/PlainYarp (dotnet publish -c Release)"
  dotnet publish "$here/PlainYarp/PlainYarp.csproj" -c Release -o "$work/bin/plainyarp" >"$work/build-plainyarp.log" 2>&1 \
    || { tail -n 30 "$work/build-plainyarp.log" >&2; die "PlainYarp did not build"; }
  yarp_gc=$(gc_mode "$work/bin/plainyarp/PlainYarp.runtimeconfig.json")
fi

node_ok=0
node_wanted=0
for s in node-10k node-100k node-1m-start; do selected_has "$s" && node_wanted=1; done
if [ "$node_wanted" -eq 1 ]; then
  log "building src/LeakNode.Cli (dotnet publish -c Release)"
  if dotnet publish "$repo/src/LeakNode.Cli" -c Release -o "$work/bin/node" >"$work/build-node.log" 2>&1; then
    # The node command exists once `leaknode node --help` stops saying "coming" (the placeholder's text).
    help=$(timeout 60 dotnet "$work/bin/node/leaknode.dll" node --help 2>&1) && rc=0 || rc=$?
    if [ "$rc" -ne 0 ] || grep -qi "coming" <<<"$help"; then
      skipped+=("node scenarios: \`leaknode node\` is not implemented in this build yet (\`node --help\` exit $rc: $(grep -i -m1 'coming\|error' <<<"$help" | sed 's/^ *//'))")
    else
      node_ok=1
      node_gc=$(gc_mode "$work/bin/node/leaknode.runtimeconfig.json")
    fi
  else
    tail -n 20 "$work/build-node.log" >&2
    skipped+=("node scenarios: src/LeakNode.Cli did not build (dotnet publish failed; last lines above)")
  fi
  [ "$node_ok" -eq 1 ] || log "SKIP ${skipped[-1]}"
fi

# ---------------------------------------------------------------------------------------------------------------
# Data
sizes="10000,100000"
{ { selected_has node-1m-start && [ "$node_ok" -eq 1 ]; } || selected_has modsec-1m-start; } && sizes="$sizes,1000000"
log "generating tokens ($sizes) and request bodies"
python3 "$here/gen_data.py" "$work/data" --sizes "$sizes" >&2
data="$work/data"
leaked=$(head -n1 "$data/leaked.txt")
bearer=$(head -n1 "$data/bearer.txt")

# ---------------------------------------------------------------------------------------------------------------
# The upstream: nginx `return 200` on CPU 1. `return` discards the request body (ngx_http_send_response reads and
# drops it), so keep-alive holds for POSTs; a body buffer of 1 MiB keeps 16 KiB bodies off temporary files.
nginx_common_http() {
  local dir=$1
  cat <<EOF
  access_log off;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  # Kestrel closes no keep-alive connection after N requests; nginx does after 1000 by default. Same for all.
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  client_max_body_size 8m;
  client_body_buffer_size 1m;
EOF
}

upstream_port=$(free_port)
updir="$work/upstream"
mkdir -p "$updir/tmp" "$updir/logs"
cat >"$updir/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $updir/nginx.pid;
error_log $updir/logs/error.log warn;
events { worker_connections 4096; }
http {
$(nginx_common_http "$updir")
  server {
    listen 127.0.0.1:$upstream_port backlog=4096;
    default_type application/json;
    location / { return 200 '{"ok":true}'; }
  }
}
EOF
start "$updir/logs/stdout.log" "${on_cpu1[@]}" nginx -p "$updir" -e "$updir/logs/error.log" -c "$updir/nginx.conf"
upstream_pid=$started
wait_answer "http://127.0.0.1:$upstream_port/" "$upstream_pid" 20 || { cat "$updir/logs/"* >&2; die "the upstream nginx did not start"; }
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
  --data-binary @"$data/body-16k.json" "http://127.0.0.1:$upstream_port/api/orders")
[ "$code" = 200 ] || die "the upstream answers $code to a 16 KiB POST"
# Two 16 KiB POSTs on one connection: the second must reuse it (0 new connections), i.e. the body was read.
reuse=$(curl -s -o /dev/null -o /dev/null -w '%{http_code}:%{num_connects} ' -X POST -H 'Content-Type: application/json' \
  --data-binary @"$data/body-16k.json" "http://127.0.0.1:$upstream_port/a" "http://127.0.0.1:$upstream_port/b")
[ "$reuse" = "200:1 200:0 " ] || die "the upstream does not keep a connection alive across POSTs (status:new connections: $reuse)"
log "upstream: nginx return 200 on 127.0.0.1:$upstream_port (CPU 1); two 16 KiB POSTs on one connection: $reuse"
checks+=("- upstream: two 16 KiB POSTs on one keep-alive connection -> ${reuse% } (status:new connections; want 200:1 200:0)")

# ---------------------------------------------------------------------------------------------------------------
# Measuring
rows=()        # scenario|body|req/s|p50|p99|rssMiB|note
conditions=()  # markdown rows: scenario, body, CPU shares (proxy, other on CPU 0, wrk + upstream, other on CPU 1), errors
warm_lines=()
starts=()      # markdown rows for start-up times

to_ms() { # wrk prints 420.00us, 1.37ms, 2.01s, 1.00m
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000; else if (u != "ms") n = -1
    printf "%.3f", n }'
}

pid_tree() { echo "$1"; pgrep -P "$1" || true; }
peak_rss_kb() { # the largest VmHWM of the process and its children (nginx: master and worker share pages)
  local max=0 p v
  for p in $(pid_tree "$1"); do
    v=$(awk '/^VmHWM:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
    [ "${v:-0}" -gt "$max" ] && max=$v
  done
  echo "$max"
}
now_rss_kb() {
  local max=0 p v
  for p in $(pid_tree "$1"); do
    v=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
    [ "${v:-0}" -gt "$max" ] && max=$v
  done
  echo "$max"
}
cpu_ticks() { # utime + stime of the process tree
  local sum=0 p t
  for p in $(pid_tree "$1"); do
    t=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2>/dev/null || echo 0)
    sum=$((sum + t))
  done
  echo "$sum"
}
cpu_line() { awk -v c="cpu$1" '$1 == c { busy = $2 + $3 + $4 + $7 + $8 + $9; print busy, busy + $5 + $6 }' /proc/stat; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (b > 0 ? 100 * a / b : 0) }'; }

# wrk_run SECONDS BODY URL OUT: the load generator on CPU 1, one thread, 32 connections.
# In the background with `wait`, so that a signal to this script is handled at once (not after the run).
wrk_run() {
  start "$4" "${on_cpu1[@]}" wrk -t1 -c32 -d"$1s" --timeout 10s --latency -s "$data/post-$2.lua" "$3"
  local w=$started
  wait "$w" || true
  forget "$w"
}
wrk_rps() { awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$1"; }

body_label() { [ "$1" = 500 ] && echo "500 B" || echo "16 KiB"; }

# warm NAME URL PID SECONDS: load in chunks, alternating the two bodies, for at least SECONDS and then on (up to
# twice as long) until each body's last two chunks are within 5 % of each other. On one core the tiered JIT does
# not improve code gradually: YARP here ran at ~4k req/s for 40 s, then jumped to ~11k within 10 s.
warm() {
  local name=$1 url=$2 pid=$3 total=$4 chunk n i body rps line="" stable="" prev500="" last500="" prev16="" last16=""
  [ "$total" -gt 0 ] || return 0
  chunk=$(( total / 2 < chunk_max ? total / 2 : chunk_max )); [ "$chunk" -ge 1 ] || chunk=1
  n=$(( (total + chunk - 1) / chunk )); [ $((n % 2)) -eq 0 ] || n=$((n + 1))
  log "$name: warming up ${total} s or more ($n+ chunks of ${chunk} s, bodies alternating)"
  for i in $(seq $((2 * n))); do
    body=$([ $((i % 2)) -eq 1 ] && echo 500 || echo 16k)
    wrk_run "$chunk" "$body" "$url" "$work/wrk-warm.txt"
    kill -0 "$pid" 2>/dev/null || return 1
    rps=$(wrk_rps "$work/wrk-warm.txt"); rps=${rps:-0}
    line="$line ${body}:${rps}"
    if [ "$body" = 500 ]; then prev500=$last500 last500=$rps; else prev16=$last16 last16=$rps; fi
    if [ "$i" -ge "$n" ] && [ $((i % 2)) -eq 0 ] && [ -n "$prev500" ] && [ -n "$prev16" ] \
      && within5 "$prev500" "$last500" && within5 "$prev16" "$last16"; then
      stable=1
      break
    fi
  done
  local verdict="stable"
  [ -n "$stable" ] || verdict="not stable within 5 % by the end"
  log "$name: warm-up req/s by chunk:$line — $verdict"
  warm_lines+=("- $name ($((i * chunk)) s in ${chunk} s chunks):$line — $verdict")
}
within5() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > 0 && (b - a) / a <= 0.05 && (a - b) / a <= 0.05) }'; }

# CPU time (ticks) of this shell's reaped children: read around a wrk run, it is wrk's own CPU time.
child_ticks() { awk '{ sub(/^.*\) /, ""); print $14 + $15 }' "/proc/$$/stat"; }

# one_run BODY URL PID OUT: one wrk run; sets r_rps r_p50 r_p99 (ms) r_non2xx r_sockerr and the CPU shares (%) during
# it: r_proxy (the proxy's own CPU time), r_ours1 (wrk's and the upstream's), r_cpu0 and r_cpu1 (each core busy),
# r_other0 and r_other1 (each core busy beyond our processes on it). Other tenants of this machine can run on
# either core whatever our affinities are; r_other0/1 are how they show.
one_run() {
  local body=$1 url=$2 pid=$3 out=$4 c0a c0b c1a c1b c0a2 c0b2 c1a2 c1b2 ta tb ua ub wa wb t0 t1 elapsed
  read -r c0a c0b < <(cpu_line 0); read -r c1a c1b < <(cpu_line 1)
  ta=$(cpu_ticks "$pid"); ua=$(cpu_ticks "$upstream_pid"); wa=$(child_ticks); t0=$(date +%s.%N)
  wrk_run "$duration" "$body" "$url" "$out"
  t1=$(date +%s.%N); wb=$(child_ticks); tb=$(cpu_ticks "$pid"); ub=$(cpu_ticks "$upstream_pid")
  read -r c0a2 c0b2 < <(cpu_line 0); read -r c1a2 c1b2 < <(cpu_line 1)
  r_rps=$(wrk_rps "$out")
  r_p50=$(awk '$1 == "50%" { print $2 }' "$out"); r_p99=$(awk '$1 == "99%" { print $2 }' "$out")
  [ -z "$r_p50" ] || r_p50=$(to_ms "$r_p50")
  [ -z "$r_p99" ] || r_p99=$(to_ms "$r_p99")
  r_non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out"); r_non2xx=${r_non2xx:-0}
  r_sockerr=$(awk '/Socket errors:/ { gsub(",", ""); print $4 + $6 + $8 + $10 }' "$out"); r_sockerr=${r_sockerr:-0}
  elapsed=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
  share() { awk -v t="$1" -v hz="$clk_tck" -v e="$elapsed" 'BEGIN { printf "%.0f", 100 * t / hz / e }'; }
  r_cpu0=$(pct $((c0a2 - c0a)) $((c0b2 - c0b))); r_cpu1=$(pct $((c1a2 - c1a)) $((c1b2 - c1b)))
  r_ours1=$(share $((ub - ua + wb - wa)))
  if [ "$pid" = "$upstream_pid" ]; then
    r_proxy=0  # no proxy: nothing of ours runs on CPU 0
  else
    r_proxy=$(share $((tb - ta)))
  fi
  r_other0=$(( r_cpu0 > r_proxy ? r_cpu0 - r_proxy : 0 ))
  r_other1=$(( r_cpu1 > r_ours1 ? r_cpu1 - r_ours1 : 0 ))
}

# measure NAME BODY URL PID: measures, again up to $retries times while another process took more than
# $noise_limit % of a core we use, keeps the quietest run, and records its row and conditions.
measure() {
  local name=$1 body=$2 url=$3 pid=$4 out="$work/wrk-$1-$2.txt" attempt best="" note="" rss noise b_noise=0
  local r_rps r_p50 r_p99 r_non2xx r_sockerr r_proxy r_ours1 r_cpu0 r_cpu1 r_other0 r_other1
  local b_rps b_p50 b_p99 b_non2xx b_sockerr b_proxy b_ours1 b_cpu0 b_other0 b_other1
  for attempt in $(seq $((retries + 1))); do
    log "$name: measuring $(body_label "$body") for ${duration} s$([ "$attempt" -eq 1 ] || echo " (again: a core was shared)")"
    one_run "$body" "$url" "$pid" "$out"
    if ! kill -0 "$pid" 2>/dev/null; then
      fail "$name" "the proxy died during the $(body_label "$body") run" "$body"
      return 1
    fi
    if [ -z "$r_rps" ] || [ -z "$r_p50" ] || [ -z "$r_p99" ]; then
      cat "$out" >&2; fail "$name" "wrk printed no result" "$body"; return 1
    fi
    # CPU 0 is not ours in the upstream-alone run, so what runs there disturbs nothing.
    noise=$(( r_other1 + (pid == upstream_pid ? 0 : r_other0) ))
    log "$name $(body_label "$body"): $r_rps req/s, p50 $r_p50 ms, p99 $r_p99 ms;" \
      "CPU 0 ${r_cpu0}% (proxy ${r_proxy}%, other ${r_other0}%), CPU 1 ${r_cpu1}% (wrk + upstream ${r_ours1}%, other ${r_other1}%)"
    if [ -z "$best" ] || [ "$noise" -lt "$b_noise" ]; then
      best=$attempt b_noise=$noise
      b_rps=$r_rps b_p50=$r_p50 b_p99=$r_p99 b_non2xx=$r_non2xx b_sockerr=$r_sockerr
      b_proxy=$r_proxy b_ours1=$r_ours1 b_cpu0=$r_cpu0 b_other0=$r_other0 b_other1=$r_other1
    fi
    [ "$noise" -gt "$noise_limit" ] || break
  done
  rss=$(( $(peak_rss_kb "$pid") / 1024 ))
  [ "$b_non2xx" -eq 0 ] || note="$note $b_non2xx non-2xx answers;"
  [ "$b_sockerr" -eq 0 ] || note="$note $b_sockerr socket errors;"
  [ "$b_noise" -le "$noise_limit" ] || note="$note noisy: other processes used ${b_other0}% of CPU 0 and ${b_other1}% of CPU 1;"
  [ "$b_ours1" -lt 90 ] || [ "$pid" = "$upstream_pid" ] \
    || note="$note wrk + upstream used ${b_ours1}% of CPU 1: the proxy may be faster than this;"
  [ "$pid" = "$upstream_pid" ] || [ "$b_cpu0" -ge 90 ] || note="$note CPU 0 only ${b_cpu0}% busy: the proxy was not the limit;"
  rows+=("$name|$body|$b_rps|$b_p50|$b_p99|$rss|${note# }")
  conditions+=("| $name | $(body_label "$body") | $b_proxy | $b_other0 | $b_ours1 | $b_other1 | $b_non2xx | $b_sockerr | $best of $attempt |")
  log "$name $(body_label "$body"): kept run $best: $b_rps req/s, p50 $b_p50 ms, p99 $b_p99 ms, peak RSS $rss MiB${note:+ —$note}"
}

post_code() { # post_code URL BODYFILE [extra curl args]
  local url=$1 file=$2; shift 2
  curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST -H 'Content-Type: application/json' "$@" \
    --data-binary @"$file" "$url" || echo 000
}

# check_traffic NAME URL EXPECT_BLOCK: a clean request of each size must be forwarded (200); with EXPECT_BLOCK a
# listed token in the Authorization header, in the JSON body, and in the query string must each get 403.
check_traffic() {
  local name=$1 url=$2 block=$3 code ok=0 line
  printf '{"note":"rotate me","apiKey":"%s","n":1}' "$leaked" >"$work/leaked-body.json"
  for body in 500 16k; do
    code=$(post_code "$url/api/orders" "$data/body-$body.json" -H "Authorization: Bearer $bearer")
    line="$name: clean $(body_label "$body") POST -> $code (want 200)"
    [ "$code" = 200 ] || ok=1
    log "$line"; checks+=("- $line")
  done
  if [ "$block" -eq 1 ]; then
    local what
    for what in header body query; do
      case $what in
        header) code=$(post_code "$url/api/orders" "$data/body-500.json" -H "Authorization: Bearer $leaked") ;;
        body) code=$(post_code "$url/api/orders" "$work/leaked-body.json" -H "Authorization: Bearer $bearer") ;;
        query) code=$(post_code "$url/api/orders?api_key=$leaked" "$data/body-500.json" -H "Authorization: Bearer $bearer") ;;
      esac
      line="$name: listed token in the $what -> $code (want 403)"
      [ "$code" = 403 ] || ok=1
      log "$line"; checks+=("- $line")
    done
  fi
  return $ok
}

# ---------------------------------------------------------------------------------------------------------------
# Proxies. Each starter sets proxy_pid, proxy_url, ready_seconds, or returns 1 with a reason in $why.
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; }

start_yarp() {
  local port t0; port=$(free_port); t0=$(date +%s.%N)
  start "$work/yarp.log" "${on_cpu0[@]}" dotnet "$work/bin/plainyarp/PlainYarp.dll" \
    --urls "http://127.0.0.1:$port" --upstream "http://127.0.0.1:$upstream_port/"
  proxy_pid=$started; proxy_url="http://127.0.0.1:$port"
  wait_answer "$proxy_url/" "$proxy_pid" 60 || { why="did not answer within 60 s; log: $(tail -n 5 "$work/yarp.log")"; return 1; }
  ready_seconds=$(since "$t0")
}

# start_nginx_proxy NAME TOKENS (0: no ModSecurity) TIMEOUT
start_nginx_proxy() {
  local name=$1 tokens=$2 timeout=$3 dir="$work/$1" port t0 modsec_http="" modsec_load=""
  port=$(free_port)
  mkdir -p "$dir/tmp" "$dir/logs"
  if [ "$tokens" -gt 0 ]; then
    modsec_load="load_module /usr/lib/nginx/modules/ngx_http_modsecurity_module.so;"
    modsec_http="modsecurity on;
    modsecurity_rules_file $dir/modsec.conf;"
    # ModSecurity v3, no CRS, the one rule. REQUEST_BODY holds the raw body whatever its type, so a JSON body is
    # searched without a body processor. --modsec-json adds the JSON processor line of modsecurity.conf-recommended
    # (Debian's /etc/nginx/modsecurity.conf), which also puts every JSON value into ARGS: a second pass over the
    # body that halved ModSecurity's 16 KiB throughput here. Response bodies are not inspected.
    cat >"$dir/modsec.conf" <<EOF
SecRuleEngine On
SecRequestBodyAccess On
SecRequestBodyLimit 1048576
SecRequestBodyNoFilesLimit 1048576
SecRequestBodyLimitAction Reject
SecResponseBodyAccess Off
SecTmpDir $dir/tmp
SecDataDir $dir/tmp
SecAuditEngine RelevantOnly
SecAuditLogRelevantStatus "^(?:5|4(?!04))"
SecAuditLogParts ABHZ
SecAuditLogType Serial
SecAuditLog $dir/logs/modsec_audit.log
$([ "$modsec_json" -eq 0 ] || echo 'SecRule REQUEST_HEADERS:Content-Type "^application/json" "id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"')
SecRule REQUEST_HEADERS|ARGS|REQUEST_BODY|REQUEST_URI "@pmFromFile $data/tokens-$tokens.txt" "id:1000,phase:2,deny,status:403,log,msg:'leaked token'"
EOF
  fi
  cat >"$dir/nginx.conf" <<EOF
$modsec_load
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 4096; }
http {
$(nginx_common_http "$dir")
  upstream app {
    server 127.0.0.1:$upstream_port;
    keepalive 64;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
  }
  server {
    listen 127.0.0.1:$port backlog=4096;
    $modsec_http
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
EOF
  t0=$(date +%s.%N)
  start "$dir/logs/stdout.log" "${on_cpu0[@]}" nginx -p "$dir" -e "$dir/logs/error.log" -c "$dir/nginx.conf"
  proxy_pid=$started; proxy_url="http://127.0.0.1:$port"
  wait_answer "$proxy_url/" "$proxy_pid" "$timeout" \
    || { why="did not answer within $timeout s; log: $(tail -n 5 "$dir/logs/error.log" "$dir/logs/stdout.log" 2>/dev/null)"; return 1; }
  ready_seconds=$(since "$t0")
}

# start_node NAME TOKENS TIMEOUT: ready when the admin listener's /readyz answers 200, polled every 100 ms.
start_node() {
  local name=$1 tokens=$2 timeout=$3 dir="$work/$1" port admin t0 i code
  port=$(free_port); admin=$(free_port)
  mkdir -p "$dir/state"
  cat >"$dir/node.yaml" <<EOF
Node: { Name: load, Mode: block }
Rules: { File: "$data/rules-$tokens.yaml" }
Listen: { Proxy: "http://127.0.0.1:$port", Admin: "http://127.0.0.1:$admin" }
Inspection: { MaxBodyBytes: 1048576, BodyTooLarge: reject, MaxDecodedBytes: 8388608 }
StateDir: "$dir/state"
# Per-request logging off, as for PlainYarp (its appsettings.json).
Logging: { LogLevel: { Default: Warning } }
ReverseProxy:
  Routes: { all: { ClusterId: app, Match: { Path: "{**catch-all}" } } }
  Clusters: { app: { Destinations: { d1: { Address: "http://127.0.0.1:$upstream_port/" } } } }
EOF
  t0=$(date +%s.%N)
  start "$dir/node.log" "${on_cpu0[@]}" dotnet "$work/bin/node/leaknode.dll" node --config "$dir/node.yaml"
  proxy_pid=$started; proxy_url="http://127.0.0.1:$port"; admin_url="http://127.0.0.1:$admin"
  for i in $(seq $((timeout * 10))); do
    if ! kill -0 "$proxy_pid" 2>/dev/null; then
      why="exited before ready: $(tail -n 5 "$dir/node.log")"; return 1
    fi
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$admin_url/readyz" || true)
    if [ "$code" = 200 ]; then
      ready_seconds=$(since "$t0")
      ready_rss_kb=$(now_rss_kb "$proxy_pid"); ready_hwm_kb=$(peak_rss_kb "$proxy_pid")
      wait_answer "$proxy_url/" "$proxy_pid" 10 || { why="/readyz is 200 but the proxy listener does not answer"; return 1; }
      return 0
    fi
    sleep 0.1
  done
  why="/readyz not 200 within $timeout s"
  return 1
}

stop_proxy() { [ -z "$proxy_pid" ] || stop_tree "$proxy_pid"; }

# fail NAME WHY [BODY]: a failed scenario's row (one line, no '|', so the table stays a table) and its log line.
fail() {
  local why; why=$(tr '\n|' ' /' <<<"$2" | tr -s ' ')
  rows+=("$1|${3:-500}|failed||||$why")
  log "$1: FAILED: $why"
}

# load_scenario NAME: start, check, warm up, measure both bodies, stop.
load_scenario() {
  local name=$1 block=0 warm_s=$warmup why="" proxy_pid="" proxy_url="" ready_seconds="" admin_url=""
  case "$name" in
    upstream) proxy_pid=$upstream_pid; proxy_url="http://127.0.0.1:$upstream_port"; warm_s=0 ;;
    yarp) start_yarp || { fail "$name" "$why"; stop_proxy; return 0; } ;;
    nginx) warm_s=$nginx_warmup; start_nginx_proxy "$name" 0 30 || { fail "$name" "$why"; stop_proxy; return 0; } ;;
    modsec-*) warm_s=$nginx_warmup; block=1
      start_nginx_proxy "$name" "$(tokens_of "$name")" 600 || { fail "$name" "$why"; stop_proxy; return 0; } ;;
    node-*) block=1
      start_node "$name" "$(tokens_of "$name")" 300 || { fail "$name" "$why"; stop_proxy; return 0; } ;;
  esac
  if [ "$name" != upstream ]; then
    log "$name: answering after ${ready_seconds} s; peak RSS so far $(( $(peak_rss_kb "$proxy_pid") / 1024 )) MiB"
    starts+=("| $name | $ready_seconds | $(( $(now_rss_kb "$proxy_pid") / 1024 )) | $(( $(peak_rss_kb "$proxy_pid") / 1024 )) |")
  fi
  if ! check_traffic "$name" "$proxy_url" "$block"; then
    fail "$name" "the forward/block check failed (see the checks below the table)"
    [ "$name" = upstream ] || stop_proxy
    return 0
  fi
  warm "$name" "$proxy_url/api/orders" "$proxy_pid" "$warm_s" || { fail "$name" "the proxy died during the warm-up"; stop_proxy; return 0; }
  measure "$name" 500 "$proxy_url/api/orders" "$proxy_pid" || true
  measure "$name" 16k "$proxy_url/api/orders" "$proxy_pid" || true
  [ "$name" = upstream ] || stop_proxy
}

tokens_of() { case "$1" in *-10k*) echo 10000 ;; *-100k*) echo 100000 ;; *-1m*) echo 1000000 ;; esac; }

# start_scenario NAME: start-up only; time to ready and RSS, then one block check.
start_scenario() {
  local name=$1 why="" proxy_pid="" proxy_url="" ready_seconds="" admin_url="" ready_rss_kb=0 ready_hwm_kb=0
  log "$name: starting (tokens: $(tokens_of "$name"))"
  case "$name" in
    node-1m-start) start_node "$name" 1000000 300 || { starts+=("| $name | failed: $why | | |"); log "$name: $why"; stop_proxy; return 0; } ;;
    modsec-1m-start)
      start_nginx_proxy "$name" 1000000 900 || { starts+=("| $name | failed: $why | | |"); log "$name: $why"; stop_proxy; return 0; }
      ready_rss_kb=$(now_rss_kb "$proxy_pid"); ready_hwm_kb=$(peak_rss_kb "$proxy_pid") ;;
  esac
  starts+=("| $name | $ready_seconds | $((ready_rss_kb / 1024)) | $((ready_hwm_kb / 1024)) |")
  log "$name: ready after $ready_seconds s; RSS $((ready_rss_kb / 1024)) MiB, peak $((ready_hwm_kb / 1024)) MiB"
  check_traffic "$name" "$proxy_url" 1 || true
  stop_proxy
}

for s in "${selected[@]}"; do
  case "$s" in
    node-*) [ "$node_ok" -eq 1 ] || { log "$s: skipped (the node is not runnable yet)"; continue; } ;;
  esac
  case "$s" in
    *-start) start_scenario "$s" ;;
    *) load_scenario "$s" ;;
  esac
done

# ---------------------------------------------------------------------------------------------------------------
# Report
label() {
  case "$1" in
    upstream) echo "upstream alone (no proxy)" ;;
    yarp) echo "plain YARP" ;;
    nginx) echo "nginx" ;;
    modsec-10k) echo "nginx + ModSecurity, 10k tokens" ;;
    modsec-100k) echo "nginx + ModSecurity, 100k tokens" ;;
    node-10k) echo "**node, 10k tokens**" ;;
    node-100k) echo "**node, 100k tokens**" ;;
    *) echo "$1" ;;
  esac
}
# noisy BODY SCENARIO...: " (noisy: a, b)" naming those of the scenarios whose run at BODY was noisy.
noisy() {
  local b=$1 n out=""; shift
  for n in "$@"; do case "$(field "$n" "$b" 5)" in *noisy*) out="$out${out:+, }$n" ;; esac; done
  [ -z "$out" ] || echo " (noisy run: $out)"
}
field() { # field SCENARIO BODY INDEX (1-based after scenario|body)
  local r
  for r in "${rows[@]}"; do
    IFS='|' read -r n b rest <<<"$r"
    if [ "$n" = "$1" ] && [ "$b" = "$2" ]; then cut -d'|' -f$(( $3 + 2 )) <<<"$r"; return 0; fi
  done
  return 0
}
num() { [[ "$1" =~ ^[0-9.]+$ ]]; }
fmt_int() { local n=$1 out=""; while [ ${#n} -gt 3 ]; do out=",${n: -3}$out"; n=${n:0:-3}; done; echo "$n$out"; }

{
  echo "# LeakNode load benchmark — $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo);" \
    "$(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r);" \
    ".NET $(dotnet --list-runtimes | awk '/Microsoft.AspNetCore.App/ { v = $2 } END { print v }');" \
    "$(nginx -v 2>&1 | sed 's/^nginx version: //'); libmodsecurity3 $(dpkg-query -W -f='${Version}' libmodsecurity3 2>/dev/null || echo '?');" \
    "$(wrk -v 2>&1 | head -n1 | awk '{ print $1, $2 }'). Command: \`$invocation\`."
  echo
  echo "Proxy on CPU 0 (taskset); wrk \`-t1 -c32 --latency\` and the upstream (nginx \`return 200\`) on CPU 1; loopback." \
    "POST \`application/json\` with a bearer token that is not leaked; bodies of $(wc -c <"$data/body-500.json") B and 16,384 B." \
    "Warm-up ${warmup} s (.NET) / ${nginx_warmup} s (nginx), then ${duration} s a body. Peak RSS is VmHWM since start." \
    "GC: PlainYarp ${yarp_gc:-–}, node ${node_gc:-–}.$([ "$niceness" -eq 0 ] || echo " Proxies, upstream and wrk at niceness $niceness.")" \
    "ModSecurity: no CRS, one \`@pmFromFile\` rule on \`REQUEST_HEADERS|ARGS|REQUEST_BODY|REQUEST_URI\`, phase 2$([ "$modsec_json" -eq 0 ] && echo ", no JSON body processor" || echo ", with the JSON body processor (--modsec-json)")."
  echo
  if [ "$warmup" -lt 60 ]; then
    echo "**A warm-up under 60 s leaves the .NET proxies on tier-0 code (they run 3–4× slower here for the first"
    echo "~40 s under load): these .NET numbers are for trying the script, not for comparing.**"
    echo
  fi
  [ ${#rows[@]} -eq 0 ] || {
    echo "| scenario | body | req/s | p50 ms | p99 ms | peak RSS MiB | ÷ plain YARP req/s | p99 − plain YARP |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|"
  }
  for r in "${rows[@]}"; do
    IFS='|' read -r n b rps p50 p99 rss note <<<"$r"
    ratio="–"; delta="–"
    yrps=$(field yarp "$b" 1); yp99=$(field yarp "$b" 3)
    if [ "$n" != yarp ] && [ "$n" != upstream ] && num "$rps" && num "${yrps:-x}"; then
      ratio=$(awk -v a="$rps" -v b="$yrps" 'BEGIN { printf "%.2f×", a / b }')
      delta=$(awk -v a="$p99" -v b="$yp99" 'BEGIN { printf "%+.2f ms", a - b }')
    fi
    if num "$rps"; then
      echo "| $(label "$n") | $(body_label "$b") | $(fmt_int "$rps") | $(printf '%.2f' "$p50") | $(printf '%.2f' "$p99") | $rss | $ratio | $delta |"
    else
      echo "| $(label "$n") | $(body_label "$b") | $rps | | | | | |"
    fi
  done
  notes=()
  for r in "${rows[@]}"; do
    IFS='|' read -r n b rps p50 p99 rss note <<<"$r"
    [ -z "$note" ] || notes+=("- $(label "$n"), $(body_label "$b"): $note")
  done
  for s in "${skipped[@]}"; do notes+=("- skipped: $s"); done
  if [ ${#notes[@]} -gt 0 ]; then echo; printf '%s\n' "${notes[@]}"; fi

  # Targets, where the numbers exist.
  targets=()
  for b in 500 16k; do
    nr=$(field node-100k "$b" 1); np=$(field node-100k "$b" 3)
    yr=$(field yarp "$b" 1); yp=$(field yarp "$b" 3)
    mr=$(field modsec-100k "$b" 1); gr=$(field nginx "$b" 1)
    num "${nr:-x}" || continue
    if num "${yr:-x}"; then
      targets+=("$(awk -v z="$(noisy "$b" node-100k yarp)" -v a="$nr" -v b="$yr" -v l="$(body_label "$b")" 'BEGIN { r = a / b; printf "| node 100k req/s ≥ 90%% of plain YARP, %s | %.0f%% | %s%s |", l, 100 * r, (r >= 0.9 ? "met" : "missed"), z }')")
      targets+=("$(awk -v z="$(noisy "$b" node-100k yarp)" -v a="$np" -v b="$yp" -v l="$(body_label "$b")" 'BEGIN { d = a - b; printf "| node 100k p99 ≤ plain YARP + 0.5 ms, %s | %+.2f ms | %s%s |", l, d, (d <= 0.5 ? "met" : "missed"), z }')")
    fi
    if num "${mr:-x}"; then
      want=$([ "$b" = 500 ] && echo 2 || echo 20)
      targets+=("$(awk -v z="$(noisy "$b" node-100k modsec-100k)" -v a="$nr" -v b="$mr" -v w="$want" -v l="$(body_label "$b")" 'BEGIN { r = a / b; printf "| node 100k ≥ %d× ModSecurity 100k, %s | %.1f× | %s%s |", w, l, r, (r >= w ? "met" : "missed"), z }')")
    fi
    if num "${gr:-x}"; then
      targets+=("$(awk -v z="$(noisy "$b" node-100k nginx)" -v a="$nr" -v b="$gr" -v l="$(body_label "$b")" 'BEGIN { printf "| node 100k against plain nginx, %s (no target) | %.0f%% of its req/s | %s |", l, 100 * a / b, z }')")
    fi
  done
  for r in "${starts[@]}"; do
    IFS='|' read -r _ n secs rss hwm _ <<<"$r"
    n=$(echo "$n" | xargs); secs=$(echo "$secs" | xargs); hwm=$(echo "$hwm" | xargs)
    if [ "$n" = node-1m-start ] && num "$secs"; then
      targets+=("$(awk -v s="$secs" -v m="$hwm" 'BEGIN { printf "| node 1M ready ≤ 10 s under 1 GB | %.1f s, peak %d MiB | %s |", s, m, (s <= 10 && m * 1048576 < 1e9 ? "met" : "missed") }')")
    fi
  done
  if [ ${#targets[@]} -gt 0 ]; then
    echo; echo "| target | measured | |"; echo "|---|---|---|"; printf '%s\n' "${targets[@]}"
  fi

  if [ ${#starts[@]} -gt 0 ]; then
    echo; echo "Start-up (seconds from spawn to the first answer; the node: to \`/readyz\` 200, polled every 100 ms):"
    echo; echo "| scenario | seconds to ready | RSS at ready MiB | peak RSS at ready MiB |"; echo "|---|---:|---:|---:|"
    printf '%s\n' "${starts[@]}"
  fi
  if [ ${#conditions[@]} -gt 0 ]; then
    echo; echo "Run conditions of each measurement, % of one core: the proxy's CPU time (CPU 0), wrk's and the" \
      "upstream's (CPU 1), and \"other\": time other processes took on that core (other tenants of the machine can run" \
      "there whatever our affinities are). The proxy near 100% means it was the limit; wrk + upstream near 100%" \
      "would mean they were. A run with more than ${noise_limit}% other in all was repeated (up to ${retries} times) and" \
      "the quietest kept."
    echo; echo "| scenario | body | proxy % | other on CPU 0 % | wrk + upstream % | other on CPU 1 % | non-2xx | socket errors | run kept |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
    printf '%s\n' "${conditions[@]}"
  fi
  if [ ${#warm_lines[@]} -gt 0 ]; then
    echo; echo "Warm-up, req/s of each chunk in order (body:req/s); at least the warm-up time, then on until each body's last two chunks agree within 5 %:"; echo; printf '%s\n' "${warm_lines[@]}"
  fi
  if [ ${#checks[@]} -gt 0 ]; then
    echo; echo "Checks before measuring:"; echo; printf '%s\n' "${checks[@]}"
  fi
} | tee "$report"
log "report written to ${report#"$repo"/}"
