#!/usr/bin/env bash
# The production launch in three phases: checks and deploy (A), the gated canary ramp (B), the
# feature flags in the launch plan's order (C). The first failure stops it with the rollback
# command printed. See --help and docs/CLI.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SCRIPT_NAME=production-deploy.sh
# shellcheck source=scripts/lib/common.sh
source "$ROOT/scripts/lib/common.sh"
cd "$ROOT"

usage() {
  cat <<'EOF'
Usage: scripts/production-deploy.sh [options]

Phase A  npm test and npm run typecheck; ADMIN_TOKEN among the Worker's secrets (wrangler
         secret list); both origins' health URLs answer; wrangler deploy; the admin API answers.
Phase B  canary 10 % -> gate -> 50 % -> gate -> 100 % -> gate, then promote, through npx rollout.
         A gate waits --bake seconds, then reads `npx rollout status --json` and passes only on a
         `healthy` guard verdict given after the step began. It fails when the rollout is
         aborted or paused, the kill switch stops the canary, the verdict is `breach`, missing,
         stale or inconclusive (unless --allow-no-verdict), or (with --max-error-rate) the
         canary's error rate is above the limit.
Phase C  the feature flags, phase by phase (scripts/feature-flags.ts), with a gate after each.
The first failure stops the deploy, prints the rollback command and exits 1.

Options:
  --env NAME             wrangler environment (default: production)
  --url URL              the Worker's URL (default: $ROLLOUT_URL)
  --stable-health URL    the stable origin's health URL (default: $STABLE_HEALTH_URL)
  --canary-health URL    the canary origin's health URL (default: $CANARY_HEALTH_URL)
  --bake SECONDS         how long each step bakes before its gate (default: 900)
  --steps "10 50 100"    the canary steps: ascending percents ending at 100
  --max-error-rate PCT   a gate also fails when the canary's error rate is above PCT %
  --allow-no-verdict     let a gate pass without a fresh healthy verdict (no guard configured,
                         or too little traffic to judge); a warning is printed instead
  --versions             deploy with `wrangler versions upload` + `versions deploy` at 100 %
  --skip-tests           skip npm test and npm run typecheck
  --skip-flags           stop after phase B
  --dry-run              print every step; run nothing, change nothing
  -h, --help             this help

Environment: ROLLOUT_TOKEN (required), ROLLOUT_URL, ROLLOUT_ACTOR (default: production-deploy),
STABLE_HEALTH_URL, CANARY_HEALTH_URL.
Exit codes: 0 launched; 1 a check, step or gate failed (the rollback command is printed once
anything was deployed); 2 bad arguments.
EOF
}

ENV_NAME=production
URL=${ROLLOUT_URL:-}
STABLE_HEALTH=${STABLE_HEALTH_URL:-}
CANARY_HEALTH=${CANARY_HEALTH_URL:-}
BAKE=900
STEPS="10 50 100"
MAX_ERROR_RATE=""
USE_VERSIONS=0
SKIP_TESTS=0
SKIP_FLAGS=0
ALLOW_NO_VERDICT=0
DRY_RUN=0

while [[ $# -gt 0 ]]; do
  case "$1" in
    --env) need_value "$@" && ENV_NAME=$2 && shift 2 ;;
    --url) need_value "$@" && URL=$2 && shift 2 ;;
    --stable-health) need_value "$@" && STABLE_HEALTH=$2 && shift 2 ;;
    --canary-health) need_value "$@" && CANARY_HEALTH=$2 && shift 2 ;;
    --bake) need_value "$@" && BAKE=$2 && shift 2 ;;
    --steps) need_value "$@" && STEPS=$2 && shift 2 ;;
    --max-error-rate) need_value "$@" && MAX_ERROR_RATE=$2 && shift 2 ;;
    --versions) USE_VERSIONS=1 && shift ;;
    --skip-tests) SKIP_TESTS=1 && shift ;;
    --skip-flags) SKIP_FLAGS=1 && shift ;;
    --allow-no-verdict) ALLOW_NO_VERDICT=1 && shift ;;
    --dry-run) DRY_RUN=1 && shift ;;
    -h | --help) usage && exit 0 ;;
    *) die_usage "unknown argument: $1" ;;
  esac
done

validate_env_and_url
[[ -n $STABLE_HEALTH && -n $CANARY_HEALTH ]] ||
  die_usage "both origins' health URLs are needed: --stable-health and --canary-health (or STABLE_HEALTH_URL, CANARY_HEALTH_URL)"
[[ $STABLE_HEALTH =~ $URL_RE && $CANARY_HEALTH =~ $URL_RE ]] || die_usage "health URLs must be http(s) URLs"
[[ $BAKE =~ ^[0-9]{1,6}$ ]] || die_usage "--bake must be a whole number of seconds"
[[ -z $MAX_ERROR_RATE || ($MAX_ERROR_RATE =~ $PERCENT_RE && $(awk "BEGIN { print ($MAX_ERROR_RATE <= 100) }") == 1) ]] ||
  die_usage "--max-error-rate must be a percent from 0 to 100"
read -r -a STEP_LIST <<<"$STEPS"
[[ ${#STEP_LIST[@]} -ge 1 ]] || die_usage "--steps needs at least one percent"
previous=0
for pct in "${STEP_LIST[@]}"; do
  [[ $pct =~ $PERCENT_RE ]] || die_usage "--steps: $pct is not a percent (0-100, at most two decimals)"
  [[ $(awk "BEGIN { print ($pct > $previous && $pct <= 100) }") == 1 ]] ||
    die_usage "--steps must rise strictly, between 0 and 100 (got $STEPS)"
  previous=$pct
done
[[ $(awk "BEGIN { print ($previous == 100) }") == 1 ]] || die_usage "--steps must end at 100 (got $STEPS)"
[[ $DRY_RUN == 1 || -n ${ROLLOUT_TOKEN:-} ]] || die_usage "ROLLOUT_TOKEN is not set"

export ROLLOUT_URL=$URL ROLLOUT_ACTOR=${ROLLOUT_ACTOR:-production-deploy} ROLLOUT_ENV=$ENV_NAME
ENV_ARGS=(--env "$ENV_NAME")
DEPLOYED=0
PREVIOUS_VERSION=""

feature_flags() {
  if [[ -x $ROOT/node_modules/.bin/tsx ]]; then "$ROOT/node_modules/.bin/tsx" "$ROOT/scripts/feature-flags.ts" "$@"; else npx --no tsx "$ROOT/scripts/feature-flags.ts" "$@"; fi
}

phase() { printf '\n==> Phase %s\n' "$*"; }
step() { printf '  -> %s\n' "$*"; }

rollback_command() {
  local args=(scripts/rollback.sh --env "$ENV_NAME" --url "$URL")
  [[ -n $PREVIOUS_VERSION ]] && args+=(--version "$PREVIOUS_VERSION")
  shell_words "${args[@]}" --reason "production-deploy: $1"
}

# fail MESSAGE [SHORT]: SHORT (default MESSAGE) becomes the rollback reason; a gate passes a
# fixed one, so text read from KV never ends up in a command meant to be pasted.
fail() {
  printf '     ✘ %s\n' "$1" >&2
  if [[ $DEPLOYED == 1 ]]; then
    printf '\nDeploy stopped. Roll back now (KV abort, instant; then the Worker code):\n  %s\n' "$(rollback_command "${2:-$1}")" >&2
  else
    printf '\nDeploy stopped before anything was deployed. Fix the cause and run again.\n' >&2
  fi
  exit 1
}

# Reads `rollout status --json` on stdin; prints why the gate fails (exit 1) or what it saw.
GATE_CHECK='
const status = JSON.parse(require("fs").readFileSync(0, "utf8"));
const maxErrorRate = process.argv[1] === "" ? undefined : Number(process.argv[1]);
const stepStartedMs = Number(process.argv[2]);
const allowNoVerdict = process.argv[3] === "1";
const guard = status.guard && typeof status.guard === "object" ? status.guard : null;
const problems = [];
const warnings = [];
if (status.state === "aborted") problems.push("the rollout is aborted");
else if (!["ramping", "promoted"].includes(status.state)) problems.push(`the rollout is ${status.state}, not ramping`);
if (status.kill && status.kill.canary) problems.push("the kill switch stops the canary");
const fresh = guard && Date.parse(guard.at) >= stepStartedMs;
if (guard && guard.status === "breach") {
  const reasons = (Array.isArray(guard.reasons) ? guard.reasons : []).map((r) => (r && r.message) || JSON.stringify(r));
  problems.push(`guard verdict: breach${reasons.length ? ` (${reasons.join("; ")})` : ""}`);
} else if (!guard || !fresh || guard.status !== "healthy") {
  // A gate that passes on no data is no gate: it takes a healthy verdict judged on this step.
  const why = !guard ? "no guard verdict yet" : !fresh ? `the guard verdict (${guard.at}) predates this step` : `the guard verdict is ${guard.status}${guard.reason ? ` (${guard.reason})` : ""}`;
  (allowNoVerdict ? warnings : problems).push(why);
}
if (maxErrorRate !== undefined) {
  const canary = (guard && guard.numbers && guard.numbers.canary) || (guard && guard.canary) || {};
  if (typeof canary.errorRatePercent !== "number") problems.push("no canary error rate in the guard verdict to hold against --max-error-rate");
  else if (canary.errorRatePercent > maxErrorRate) problems.push(`canary error rate ${canary.errorRatePercent} % > ${maxErrorRate} %`);
}
if (problems.length) {
  console.log(problems.join("; "));
  process.exit(1);
}
const warning = warnings.length ? ` (warning: ${warnings.join("; ")}; passed with --allow-no-verdict)` : "";
console.log(`${status.state} at ${status.percent} %, guard ${guard ? guard.status : "has no verdict"}${warning}`);
'

gate() {
  local label=$1 status verdict started_ms=$STEP_STARTED_MS
  if [[ $DRY_RUN == 1 ]]; then
    printf '     would bake %s s, then gate %s on: npx rollout status --json\n' "$BAKE" "$label"
    return
  fi
  step "gate $label: baking $BAKE s"
  sleep "$BAKE"
  status=$(rollout status --json) || fail "gate $label: cannot read the rollout status" "gate $label failed"
  if verdict=$(node -e "$GATE_CHECK" "$MAX_ERROR_RATE" "$started_ms" "$ALLOW_NO_VERDICT" <<<"$status"); then
    ok "gate $label passed: $verdict"
  else
    fail "gate $label failed: $verdict" "gate $label failed"
  fi
}

[[ $DRY_RUN == 1 ]] && printf 'DRY RUN: nothing below is run, nothing changes.\n'
printf 'Launching %s (wrangler env %s); bake %s s per gate; steps %s %%.\n' "$URL" "$ENV_NAME" "$BAKE" "$STEPS"

phase "A: checks and deploy"
if [[ $SKIP_TESTS == 1 ]]; then
  step "tests and typecheck skipped (--skip-tests)"
elif [[ $DRY_RUN == 1 ]]; then
  step "tests and typecheck" && would npm test && would npm run typecheck
else
  step "npm test"
  npm test 2>&1 | tail -n 5 | indent || fail "npm test failed"
  step "npm run typecheck"
  npm run typecheck 2>&1 | tail -n 5 | indent || fail "npm run typecheck failed"
  ok "tests and typecheck passed"
fi

step "required secrets: ADMIN_TOKEN"
if [[ $DRY_RUN == 1 ]]; then
  would wrangler secret list "${ENV_ARGS[@]}"
else
  secrets=$(wrangler_cmd secret list "${ENV_ARGS[@]}") || fail "wrangler secret list failed"
  grep -Eq '"name"[[:space:]]*:[[:space:]]*"ADMIN_TOKEN"' <<<"$secrets" ||
    fail "ADMIN_TOKEN is not a secret of the Worker: wrangler secret put ADMIN_TOKEN --env $ENV_NAME"
  ok "ADMIN_TOKEN is set"
fi

for origin in stable canary; do
  if [[ $origin == stable ]]; then health_url=$STABLE_HEALTH; else health_url=$CANARY_HEALTH; fi
  step "$origin origin answers: $health_url"
  if [[ $DRY_RUN == 1 ]]; then
    would curl -fsS -o /dev/null --max-time 10 "$health_url"
  else
    curl -fsS -o /dev/null --max-time 10 "$health_url" 2>&1 | indent || fail "the $origin origin's health URL does not answer 2xx: $health_url"
    ok "$origin origin is up"
  fi
done

step "current Worker version (the rollback target)"
if [[ $DRY_RUN == 1 ]]; then
  would wrangler deployments status "${ENV_ARGS[@]}" --json
else
  if deployment=$(wrangler_cmd deployments status "${ENV_ARGS[@]}" --json 2>/dev/null); then
    PREVIOUS_VERSION=$(node -e '
      const d = JSON.parse(require("fs").readFileSync(0, "utf8"));
      const v = (d.versions || []).find((x) => x.percentage === 100);
      if (v && /^[0-9A-Za-z-]{1,64}$/.test(v.version_id)) console.log(v.version_id);
    ' <<<"$deployment" 2>/dev/null || true)
  fi
  if [[ -n $PREVIOUS_VERSION ]]; then ok "currently deployed: $PREVIOUS_VERSION"; else ok "no current version found (first deploy?)"; fi
fi

step "deploy the Worker"
if [[ $DRY_RUN == 1 && $USE_VERSIONS == 1 ]]; then
  would wrangler versions upload "${ENV_ARGS[@]}" && would wrangler versions deploy "<new version>@100" "${ENV_ARGS[@]}" -y
elif [[ $DRY_RUN == 1 ]]; then
  would wrangler deploy "${ENV_ARGS[@]}"
else
  DEPLOYED=1
  if [[ $USE_VERSIONS == 1 ]]; then
    output=$(wrangler_cmd versions upload "${ENV_ARGS[@]}" 2>&1) || { indent <<<"$output"; fail "wrangler versions upload failed"; }
    NEW_VERSION=$(sed -n 's/.*Worker Version ID:[[:space:]]*\([0-9A-Za-z-]*\).*/\1/p' <<<"$output" | tail -n 1)
    [[ -n $NEW_VERSION ]] || fail "no version id in the output of wrangler versions upload"
    output+=$'\n'$(wrangler_cmd versions deploy "$NEW_VERSION@100" "${ENV_ARGS[@]}" -y --message "production-deploy" 2>&1) ||
      { indent <<<"$output"; fail "wrangler versions deploy failed"; }
  else
    output=$(wrangler_cmd deploy "${ENV_ARGS[@]}" 2>&1) || { indent <<<"$output"; fail "wrangler deploy failed"; }
    NEW_VERSION=$(sed -n 's/.*Current Version ID:[[:space:]]*\([0-9A-Za-z-]*\).*/\1/p' <<<"$output" | tail -n 1)
  fi
  indent <<<"$output"
  ok "deployed version ${NEW_VERSION:-(unknown)}"
fi

step "the admin API answers"
if [[ $DRY_RUN == 1 ]]; then
  would npx rollout health
else
  for attempt in 1 2 3 4 5; do
    rollout health >/dev/null 2>&1 && break
    [[ $attempt == 5 ]] && fail "the admin API at $URL does not answer"
    sleep 2
  done
  ok "admin API is up"
fi

phase "B: canary ramp ($STEPS %)"
for pct in "${STEP_LIST[@]}"; do
  step "canary to $pct %"
  STEP_STARTED_MS=$(($(date +%s) * 1000))
  if [[ $DRY_RUN == 1 ]]; then
    would npx rollout set "$pct" --reason "production-deploy: step $pct %"
  else
    rollout set "$pct" --reason "production-deploy: step $pct %" 2>&1 | indent || fail "could not set the canary to $pct %"
  fi
  gate "after $pct %"
done
step "promote (everyone on the canary)"
if [[ $DRY_RUN == 1 ]]; then
  would npx rollout promote --reason "production-deploy: all steps passed"
else
  rollout promote --reason "production-deploy: all steps passed" 2>&1 | indent || fail "could not promote"
fi

if [[ $SKIP_FLAGS == 1 ]]; then
  phase "C: feature flags skipped (--skip-flags)"
else
  phase "C: feature flags"
  plan=$(feature_flags --list) || fail "cannot read the flag phases (scripts/feature-flags.ts --list)"
  indent <<<"$plan"
  phases=$(grep -c '^phase ' <<<"$plan")
  for n in $(seq 1 "$phases"); do
    step "flags phase $n"
    STEP_STARTED_MS=$(($(date +%s) * 1000))
    if [[ $DRY_RUN == 1 ]]; then
      feature_flags --phase "$n" --dry-run | indent
    else
      feature_flags --phase "$n" 2>&1 | indent || fail "flags phase $n failed"
    fi
    gate "after flags phase $n"
  done
fi

if [[ $DRY_RUN == 1 ]]; then
  printf '\nDry run done: nothing was run or changed.\n'
else
  printf '\nLaunched: the canary is promoted and every flag phase is on.\n'
  printf 'Finalize once the post-launch checks pass: scripts/post-launch-check.sh, then npx rollout finalize\n'
fi
