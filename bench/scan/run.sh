#!/usr/bin/env bash
# Scanner throughput: `leaknode scan` over a git repository's full history, against the I/O floor (`git log -p`)
# and against secretlint, on the same data, in one run.
#
#   bench/scan/run.sh                 # build, generate (or reuse) the repository, measure 3 rounds, print the table
#   bench/scan/run.sh --runs 5        # more rounds (the median is reported)
#   bench/scan/run.sh --seed 2 --target-mb 300
#
# What it does, in order:
#   1. builds src/LeakNode.Cli in Release (the measured binary is bin/Release/net10.0/leaknode, not `dotnet run`);
#   2. generates a deterministic repository with bench/scan/make_repo.py (source-like files in seven languages,
#      tens of thousands of commits with edits, additions, renames, deletions, merged and unmerged branches, and
#      ten planted tokens of different kinds, some deleted later, one moved, one only on a branch), sized so that
#      `git log -p --all` prints at least 200 MB. It is cached under $LEAKNODE_BENCH_DIR keyed by the seed, the
#      size and the generator's hash, so reruns skip it (about 5 minutes the first time on 2 cores);
#   3. installs secretlint and its recommended preset into $LEAKNODE_BENCH_DIR/npm if they are not there;
#   4. checks correctness first (one untimed round that is also the warm-up): leaknode must find every planted token
#      and say rightly whether each is still at HEAD; secretlint's and the checkout scan's hits on planted tokens are
#      counted for the report;
#   5. measures, round-robin so that a change in the machine's load hits every side alike, each side --runs times:
#        (a) git log -p --all > /dev/null                          the floor: git reading and diffing every commit
#        (b) leaknode scan REPO --format json -o /dev/null         the full history (every blob of every ref)
#        (c) secretlint "**/*" in a checkout of HEAD               secretlint scans files only, no git history
#        (d) leaknode scan CHECKOUT --no-git ...                   the same files, like for like with (c)
#        (e) git -c core.deltaBaseCacheLimit=512m log -p --all     the floor given the delta cache leaknode gives its
#                                                                  cat-file (ScanLimits.GitDeltaBaseCacheBytes), for
#                                                                  a fair reading of (b) against (a)
#      and prints the median wall time, MB/s and the ratios. History MB/s use the bytes of `git log -p --all` for
#      both (a) and (b); checkout MB/s use the checkout's bytes for (c) and (d). MB = 10^6 bytes.
#
# Needs: dotnet, git, python3, node and npm (the npm registry). Environment:
#   LEAKNODE_BENCH_DIR  cache and scratch folder (default ${TMPDIR:-/tmp}/leaknode-scanbench)
set -euo pipefail

RUNS=3
SEED=1
TARGET_MB=240
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    --seed) SEED="$2"; shift 2 ;;
    --target-mb) TARGET_MB="$2"; shift 2 ;;
    -h|--help) sed -n '2,35p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BENCH_DIR="${LEAKNODE_BENCH_DIR:-${TMPDIR:-/tmp}/leaknode-scanbench}"
GENERATOR="$ROOT/bench/scan/make_repo.py"
KEY="seed$SEED-${TARGET_MB}mb-$(sha256sum "$GENERATOR" | cut -c1-8)"
REPO="$BENCH_DIR/repo-$KEY"
MANIFEST="$BENCH_DIR/repo-$KEY.json"
CHECKOUT="$BENCH_DIR/checkout-$KEY"
NPM="$BENCH_DIR/npm"
WORK="$BENCH_DIR/run-$(date -u +%Y%m%dT%H%M%SZ)"
LEAKNODE="$ROOT/src/LeakNode.Cli/bin/Release/net10.0/leaknode"
SECRETLINT="$NPM/node_modules/.bin/secretlint"
SECRETLINT_VERSION=13.0.6
PRESET_VERSION=13.0.7
mkdir -p "$BENCH_DIR" "$WORK"

say() { printf '\n== %s\n' "$*" >&2; }

say "building leaknode (Release)"
dotnet build "$ROOT/src/LeakNode.Cli" -c Release -nologo -v q >&2

if [[ ! -f "$MANIFEST" || ! -d "$REPO" ]]; then
  say "generating the repository ($KEY) in $REPO"
  rm -rf "$REPO" "$REPO.tmp" "$CHECKOUT"
  python3 "$GENERATOR" --seed "$SEED" --target-mb "$TARGET_MB" --repo "$REPO.tmp" --manifest "$MANIFEST.tmp"
  mv "$REPO.tmp" "$REPO"
  mv "$MANIFEST.tmp" "$MANIFEST"
fi
if [[ ! -d "$CHECKOUT" ]]; then
  mkdir -p "$CHECKOUT.tmp"
  git -C "$REPO" archive HEAD | tar -x -m -C "$CHECKOUT.tmp"
  mv "$CHECKOUT.tmp" "$CHECKOUT"
fi
if [[ ! -x "$SECRETLINT" || "$("$SECRETLINT" --version 2>/dev/null)" != "$SECRETLINT_VERSION" ]]; then
  say "installing secretlint $SECRETLINT_VERSION into $NPM"
  # 13.x declares node >= 22 and runs on node 20 (npm warns); 11.7.1, the last release that declares node 20,
  # was 12 times slower on the same checkout, which would flatter leaknode.
  rm -rf "$NPM"
  npm install --silent --no-audit --no-fund --prefix "$NPM" \
    "secretlint@$SECRETLINT_VERSION" "@secretlint/secretlint-rule-preset-recommend@$PRESET_VERSION" >&2
fi
RC="$BENCH_DIR/secretlintrc.json"
echo '{"rules":[{"id":"@secretlint/secretlint-rule-preset-recommend"}]}' > "$RC"

LOG_P_BYTES_FILE="$REPO.log-p-bytes"
if [[ ! -f "$LOG_P_BYTES_FILE" ]]; then
  git -C "$REPO" log -p --all | wc -c > "$LOG_P_BYTES_FILE"
fi
LOG_P_BYTES=$(cat "$LOG_P_BYTES_FILE")
CHECKOUT_BYTES=$(find "$CHECKOUT" -type f -printf '%s\n' | awk '{s+=$1} END{print s}')
COMMITS=$(git -C "$REPO" rev-list --all | wc -l)
if (( LOG_P_BYTES < 200000000 )); then
  echo "the repository's git log -p is only $LOG_P_BYTES bytes; raise --target-mb" >&2
  exit 1
fi

say "correctness and warm-up round"
set +e
"$LEAKNODE" scan "$REPO" --format json --no-redact -o "$WORK/leaknode-history.json" 2>/dev/null
"$LEAKNODE" scan "$CHECKOUT" --no-git --format json --no-redact -o "$WORK/leaknode-checkout.json" 2>/dev/null
(cd "$CHECKOUT" && "$SECRETLINT" "**/*" --secretlintrc "$RC" --format json > "$WORK/secretlint.json" 2>/dev/null)
git -C "$REPO" log -p --all > /dev/null
set -e
python3 - "$MANIFEST" "$WORK" <<'PY'
import json, sys
manifest = json.load(open(sys.argv[1]))["tokens"]
work = sys.argv[2]
history = json.load(open(work + "/leaknode-history.json"))
checkout = json.load(open(work + "/leaknode-checkout.json"))
secretlint = json.load(open(work + "/secretlint.json"))
failures = []
for t in manifest:
    hits = [f for f in history["findings"] if f.get("secret") == t["secret"]]
    if not hits:
        failures.append("leaknode did not find the planted %s (%s)" % (t["kind"], t["fate"]))
    elif any(f.get("atHead") != t["atHead"] for f in hits):
        failures.append("leaknode: %s (%s) atHead %s, expected %s" % (t["kind"], t["fate"], [f.get("atHead") for f in hits], t["atHead"]))
at_head = [t for t in manifest if t["atHead"]]
found_checkout = sum(any(f.get("secret") == t["secret"] for f in checkout["findings"]) for t in at_head)
# By file: each planted token has a file of its own, and secretlint 13.0.6 reports some positions off (its AWS
# secret key hit starts 24 characters before the key).
flagged = [r["sourceContent"] for r in secretlint if r["messages"]]
slices = [m for r in secretlint for m in r["messages"]]
found_secretlint = sum(any(t["secret"] in content for content in flagged) for t in at_head)
print("planted tokens: %d; leaknode history found %d of them (atHead right for all: %s)" % (
    len(manifest), sum(any(f.get("secret") == t["secret"] for f in history["findings"]) for t in manifest), not failures))
print("at HEAD: %d; leaknode --no-git found %d, secretlint found %d" % (len(at_head), found_checkout, found_secretlint))
print("leaknode history: %d findings in %d blobs (%.0f MB of blob content); secretlint: %d messages" % (
    len(history["findings"]), history["summary"]["documents"], history["summary"]["bytes"] / 1e6, len(slices)))
for f in failures:
    print("FAIL: " + f)
sys.exit(1 if failures else 0)
PY

# timed LABEL command...: appends "wall user sys" of one run to $WORK/LABEL.times.
timed() {
  local label="$1"; shift
  /usr/bin/time -f "%e %U %S" -o "$WORK/$label.last" "$@" > /dev/null 2>&1 || true
  # time writes "Command exited with non-zero status N" first when the command reports findings (exit 1).
  tail -n 1 "$WORK/$label.last" >> "$WORK/$label.times"
}

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
for ((round = 1; round <= RUNS; round++)); do
  say "round $round of $RUNS (load $(cut -d' ' -f1-3 /proc/loadavg))"
  timed gitlog git -C "$REPO" log -p --all
  timed gitlogcache git -C "$REPO" -c core.deltaBaseCacheLimit=512m log -p --all
  timed history "$LEAKNODE" scan "$REPO" --format json -o /dev/null
  timed secretlint bash -c 'cd "$1" && "$2" "**/*" --secretlintrc "$3"' _ "$CHECKOUT" "$SECRETLINT" "$RC"
  timed checkout "$LEAKNODE" scan "$CHECKOUT" --no-git --format json -o /dev/null
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$WORK" "$LOG_P_BYTES" "$CHECKOUT_BYTES" "$COMMITS" "$LOAD_START" "$LOAD_END" "$RUNS" <<'PY' | tee "$WORK/summary.md"
import statistics, sys
work, log_p, checkout, commits, load_start, load_end, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7]
def times(label):
    rows = [list(map(float, l.split())) for l in open("%s/%s.times" % (work, label)) if l.strip()]
    wall = statistics.median(r[0] for r in rows)
    cpu = statistics.median(r[1] + r[2] for r in rows)
    return wall, cpu, [r[0] for r in rows]
sides = [
    ("gitlog", "(a) git log -p --all > /dev/null", log_p),
    ("history", "(b) leaknode scan REPO (full history)", log_p),
    ("secretlint", "(c) secretlint, checkout of HEAD", checkout),
    ("checkout", "(d) leaknode scan --no-git, checkout of HEAD", checkout),
    ("gitlogcache", "(e) git log -p --all, 512 MiB delta cache", log_p),
]
t = {label: times(label) for label, _, _ in sides}
floor = t["gitlog"][0]
print("history: %.1f MB of git log -p --all, %s commits; checkout of HEAD: %.1f MB; median of %s runs; load %s -> %s" % (
    log_p / 1e6, commits, checkout / 1e6, runs, load_start, load_end))
print()
print("| side | median s | CPU s | MB/s | ÷ git log -p time | runs (s) |")
print("|---|---:|---:|---:|---:|---|")
for label, name, size in sides:
    wall, cpu, all_ = t[label]
    print("| %s | %.2f | %.2f | %.1f | %.2f× | %s |" % (name, wall, cpu, size / 1e6 / wall, wall / floor, ", ".join("%.2f" % w for w in all_)))
print()
print("leaknode history ÷ git log -p floor: %.2f× the time (target: ≤ 2×); ÷ the floor with the same delta cache: %.2f×" % (
    t["history"][0] / floor, t["history"][0] / t["gitlogcache"][0]))
print("leaknode checkout ÷ secretlint: %.2f× the time (secretlint %.1f× slower)" % (t["checkout"][0] / t["secretlint"][0], t["secretlint"][0] / t["checkout"][0]))
PY
echo "report: $WORK/summary.md" >&2
