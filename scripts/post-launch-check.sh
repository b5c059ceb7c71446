#!/usr/bin/env bash
# The daily post-launch check: a ✔/✘ checklist of the rollout's health, read through the admin
# API. Exits 0 only when every line is ✔. See --help and docs/CLI.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SCRIPT_NAME=post-launch-check.sh
# shellcheck source=scripts/lib/common.sh
source "$ROOT/scripts/lib/common.sh"
cd "$ROOT"

usage() {
  cat <<'EOF'
Usage: scripts/post-launch-check.sh [options]

Prints a checklist and exits 0 when every line passes, 1 otherwise:
  - the admin API's health endpoint answers
  - the rollout is not aborted
  - the canary percent is the expected one
  - the guard's verdict is healthy, recent (the guard runs every minute) and judged on the
    current config version
  - the kill switch is off
  - the audit log reads; its entries since --since are listed

Options:
  --url URL               the Worker's URL (default: $ROLLOUT_URL)
  --expect-percent N      the percent the canary should be at (default: 100, or 0 once finalized)
  --since SPAN            how far back to list audit entries: 30m, 24h, 7d (default: 24h)
  --max-verdict-age MIN   the oldest guard verdict accepted, in minutes (default: 15)
  --dry-run               print the checks; query nothing
  -h, --help              this help

Environment: ROLLOUT_TOKEN (required), ROLLOUT_URL.
Exit codes: 0 every check passed; 1 a check failed; 2 bad arguments.
EOF
}

URL=${ROLLOUT_URL:-}
EXPECT_PERCENT=""
SINCE=24h
MAX_VERDICT_AGE=15
DRY_RUN=0

while [[ $# -gt 0 ]]; do
  case "$1" in
    --url) need_value "$@" && URL=$2 && shift 2 ;;
    --expect-percent) need_value "$@" && EXPECT_PERCENT=$2 && shift 2 ;;
    --since) need_value "$@" && SINCE=$2 && shift 2 ;;
    --max-verdict-age) need_value "$@" && MAX_VERDICT_AGE=$2 && shift 2 ;;
    --dry-run) DRY_RUN=1 && shift ;;
    -h | --help) usage && exit 0 ;;
    *) die_usage "unknown argument: $1" ;;
  esac
done

[[ -n $URL ]] || die_usage "no Worker URL: pass --url or set ROLLOUT_URL"
[[ $URL =~ ^https?://[^[:space:]]+$ ]] || die_usage "--url must be an http(s) URL"
[[ -z $EXPECT_PERCENT || ($EXPECT_PERCENT =~ ^[0-9]{1,3}(\.[0-9]{1,2})?$ && $(awk "BEGIN { print ($EXPECT_PERCENT <= 100) }") == 1) ]] ||
  die_usage "--expect-percent must be a percent from 0 to 100 (at most two decimals)"
[[ $SINCE =~ ^[0-9]{1,5}[mhd]$ ]] || die_usage "--since must be a span like 30m, 24h or 7d"
[[ $MAX_VERDICT_AGE =~ ^[0-9]{1,5}$ ]] || die_usage "--max-verdict-age must be a whole number of minutes"
[[ $DRY_RUN == 1 || -n ${ROLLOUT_TOKEN:-} ]] || die_usage "ROLLOUT_TOKEN is not set"

export ROLLOUT_URL=$URL

FAILURES=0
pass() { printf '✔ %s\n' "$*"; }
fail() {
  printf '✘ %s\n' "$*"
  FAILURES=$((FAILURES + 1))
}

printf 'Post-launch check of %s at %s\n\n' "$URL" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"

if [[ $DRY_RUN == 1 ]]; then
  printf 'DRY RUN: nothing is queried. The checks and the commands behind them:\n'
  printf '  health endpoint answers                      npx rollout health\n'
  printf '  state not aborted; percent %s; guard verdict healthy, at most %s min old, on the current config version; kill switch off\n' \
    "${EXPECT_PERCENT:-100 (0 once finalized)}" "$MAX_VERDICT_AGE"
  printf '                                               npx rollout status --json\n'
  printf '  audit entries since %-24s npx rollout audit --since %s --limit 1000 --json\n' "$SINCE" "$SINCE"
  exit 0
fi

if output=$(rollout health 2>&1); then pass "health endpoint answers"; else fail "health endpoint: $output"; fi

# Reads `rollout status --json` on stdin and prints one PASS|… or FAIL|… line per check.
STATUS_CHECKS='
const s = JSON.parse(require("fs").readFileSync(0, "utf8"));
const [expectArg, maxAgeArg] = process.argv.slice(1);
const line = (ok, text) => console.log(`${ok ? "PASS" : "FAIL"}|${text}`);
line(s.state !== "aborted", `rollout state is ${s.state}${s.state === "aborted" ? "" : " (not aborted)"}`);
const expected = expectArg !== "" ? Number(expectArg) : s.state === "finalized" ? 0 : 100;
line(s.percent === expected, `canary percent is ${s.percent} % (expected ${expected} %)`);
const g = s.guard && typeof s.guard === "object" ? s.guard : null;
const ageMin = g && typeof g.at === "string" ? (Date.now() - Date.parse(g.at)) / 60000 : NaN;
// Once the canary is finalized (or no launch is live) the guard has nothing to judge.
if (["finalized", "idle"].includes(s.state)) line(true, `guard idle: no live canary (rollout ${s.state})`);
else if (!g) line(false, "guard verdict: none yet (is the cron trigger running?)");
else if (g.status !== "healthy") {
  const why = (Array.isArray(g.reasons) ? g.reasons.map((r) => (r && r.message) || JSON.stringify(r)) : [g.reason]).filter(Boolean);
  line(false, `guard verdict is ${g.status}${why.length ? `: ${why.join("; ")}` : ""}`);
} else if (!(ageMin <= Number(maxAgeArg))) line(false, `guard verdict is healthy but ${Number.isNaN(ageMin) ? "undated" : `${Math.round(ageMin)} min old`} (is the cron trigger running?)`);
// A recent verdict on an older config judged what visitors no longer get.
else if (g.configVersion !== s.version) line(false, `guard verdict is healthy but was judged on ${Number.isInteger(g.configVersion) ? `config v${g.configVersion}` : "an unrecorded config version"}, not the current v${s.version} (check again after the next guard run)`);
else line(true, `guard verdict is healthy (${Math.max(0, Math.round(ageMin))} min ago)`);
const k = s.kill || {};
const killed = [k.canary && "canary", k.allFlags && "every flag", ...(k.flags || []).map((f) => `flag ${f}`)].filter(Boolean);
line(killed.length === 0, killed.length ? `kill switch is ON: ${killed.join(", ")}` : "kill switch is off");
'
if status=$(rollout status --json 2>&1); then
  while IFS='|' read -r verdict text; do
    if [[ $verdict == PASS ]]; then pass "$text"; else fail "$text"; fi
  done < <(node -e "$STATUS_CHECKS" "$EXPECT_PERCENT" "$MAX_VERDICT_AGE" <<<"$status" || echo "FAIL|status unreadable")
else
  fail "rollout status unreadable: $status"
fi

# Lists the audit page (`rollout audit --json`) on stdin, one entry per line.
AUDIT_LIST='
const { entries } = JSON.parse(require("fs").readFileSync(0, "utf8"));
console.log(entries.length);
for (const e of entries) console.log(`    ${e.at}  ${e.actor}  ${e.action}  v${e.version}${e.reason ? `  "${e.reason}"` : ""}`);
'
if audit=$(rollout audit --since "$SINCE" --limit 1000 --json 2>&1) && listing=$(node -e "$AUDIT_LIST" <<<"$audit"); then
  pass "audit log: $(head -n 1 <<<"$listing") entries in the last $SINCE"
  tail -n +2 <<<"$listing"
else
  fail "audit log unreadable: $(head -n 1 <<<"$audit")"
fi

if [[ $FAILURES -eq 0 ]]; then
  printf '\nAll checks passed.\n'
else
  printf '\n%s check(s) failed.\n' "$FAILURES"
  exit 1
fi
