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

Phase A  npm test and npm run typecheck; no REPLACE_WITH… placeholder left in either Worker's
         wrangler config for the environment; the production secrets: .env.production pushed
         with `wrangler secret bulk` to each Worker whose config declares them (names shown,
         never values), every required secret in the file or in that Worker's secret list;
         both origins' health URLs answer; the database migration (--migrate), then the old
         version's compatibility check (--check-old); wrangler deploy of the control Worker,
         then of the edge Worker; the admin API answers.
Phase B  canary 10 % -> gate -> 50 % -> gate -> 100 % -> gate, then promote, through npx rollout.
         A gate waits --bake seconds, then reads `npx rollout status --json` and passes only on a
         `healthy` guard verdict given after the step began, on the config version in force
         (a write after the guard's run needs the next run). It fails when the rollout is
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
  --migrate "CMD"        the database migration, run once in phase A before the deploy; it
                         must keep the schema readable and writable by the stable version
                         (expand/contract: docs/LAUNCH-RUNBOOK.md); a failure stops the launch
  --check-old "CMD"      after the migration, a command proving the stable version still works
                         against the migrated schema (e.g. its smoke test); a failure stops the
                         launch before any traffic moves
  --secrets-file FILE    the production secrets (default: .env.production; optional); names
                         are checked against .env.production.example
  --config FILE          the edge Worker's wrangler config (default: wrangler.toml)
  --control-config FILE  the control Worker's config (default: worker/control/wrangler.toml)
  --dry-run              run every read-only precondition check (token, wrangler config,
                         secrets, origins) and report each failure; print every other step;
                         change nothing
  -h, --help             this help

Environment: ROLLOUT_TOKEN (required), ROLLOUT_URL, ROLLOUT_ACTOR (default: production-deploy),
STABLE_HEALTH_URL, CANARY_HEALTH_URL, LAUNCH_STATE_DIR (where a migration is recorded for
rollback.sh; default: .wrangler/launch).
Exit codes: 0 launched (or, with --dry-run, every check passed); 1 a check, step or gate failed
(the rollback command is printed once anything was deployed); 2 bad arguments.
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
MIGRATE=""
CHECK_OLD=""
SECRETS_FILE=""
CONFIG_FILE=""
CONTROL_CONFIG_FILE=""

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
    --migrate) need_value "$@" && MIGRATE=$2 && shift 2 ;;
    --check-old) need_value "$@" && CHECK_OLD=$2 && shift 2 ;;
    --secrets-file) need_value "$@" && SECRETS_FILE=$2 && shift 2 ;;
    --config) need_value "$@" && CONFIG_FILE=$2 && shift 2 ;;
    --control-config) need_value "$@" && CONTROL_CONFIG_FILE=$2 && shift 2 ;;
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
[[ -n $CONFIG_FILE && ! -f $CONFIG_FILE ]] && die_usage "--config: no such file: $CONFIG_FILE"
[[ -n $CONTROL_CONFIG_FILE && ! -f $CONTROL_CONFIG_FILE ]] && die_usage "--control-config: no such file: $CONTROL_CONFIG_FILE"
[[ -n $SECRETS_FILE && ! -f $SECRETS_FILE ]] && die_usage "--secrets-file: no such file: $SECRETS_FILE"
[[ -z $CHECK_OLD || -n $MIGRATE ]] || die_usage "--check-old checks the stable version against a migration: it needs --migrate"
# A real run needs the token before anything starts; a dry run reports it with the other checks.
[[ $DRY_RUN == 1 || -n ${ROLLOUT_TOKEN:-} ]] || die_usage "ROLLOUT_TOKEN is not set"

export ROLLOUT_URL=$URL ROLLOUT_ACTOR=${ROLLOUT_ACTOR:-production-deploy} ROLLOUT_ENV=$ENV_NAME
ENV_ARGS=(--env "$ENV_NAME")
[[ -n $CONFIG_FILE ]] && ENV_ARGS+=(--config "$CONFIG_FILE")
WRANGLER_CONFIG=${CONFIG_FILE:-$ROOT/wrangler.toml}
# The control Worker: deployed first (the edge's service binding names it), rolled back alone.
CONTROL_CONFIG=${CONTROL_CONFIG_FILE:-$ROOT/worker/control/wrangler.toml}
CONTROL_ARGS=(--env "$ENV_NAME" --config "$CONTROL_CONFIG")
SECRETS_FILE=${SECRETS_FILE:-$ROOT/.env.production}
SECRETS_EXAMPLE=$ROOT/.env.production.example
LAUNCH_STATE_DIR=${LAUNCH_STATE_DIR:-$ROOT/.wrangler/launch}
DEPLOYED=0
MIGRATED=0
PREVIOUS_VERSION=""
PREVIOUS_CONTROL_VERSION=""
# A dry run collects every failed precondition instead of stopping at the first.
CHECK_FAILURES=()

feature_flags() {
  if [[ -x $ROOT/node_modules/.bin/tsx ]]; then "$ROOT/node_modules/.bin/tsx" "$ROOT/scripts/feature-flags.ts" "$@"; else npx --no tsx "$ROOT/scripts/feature-flags.ts" "$@"; fi
}

phase() { printf '\n==> Phase %s\n' "$*"; }

# declared_secrets CONFIG: the names in the config's top-level [secrets] required, space-separated.
declared_secrets() {
  node --input-type=module -e '
    import { readFileSync } from "node:fs";
    import { parse } from "smol-toml";
    console.log((parse(readFileSync(process.argv[1], "utf8")).secrets?.required ?? []).join(" "));
  ' "$1"
}

# current_version WRANGLER_ARGS…: the version at 100 % of the Worker's deployment, or nothing.
current_version() {
  local deployment
  deployment=$(wrangler_cmd deployments status "$@" --json 2>/dev/null) || return 0
  node -e '
    const d = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const v = (d.versions || []).find((x) => x.percentage === 100);
    if (v && /^[0-9A-Za-z-]{1,64}$/.test(v.version_id)) console.log(v.version_id);
  ' <<<"$deployment" 2>/dev/null || true
}
step() { printf '  -> %s\n' "$*"; }

rollback_command() {
  local args=(scripts/rollback.sh --env "$ENV_NAME" --url "$URL")
  [[ -n $PREVIOUS_VERSION ]] && args+=(--version "$PREVIOUS_VERSION")
  [[ $MIGRATED == 1 ]] && args+=(--migration-applied)
  shell_words "${args[@]}" --reason "production-deploy: $1"
}

# fail MESSAGE [SHORT]: SHORT (default MESSAGE) becomes the rollback reason; a gate passes a
# fixed one, so text read from KV never ends up in a command meant to be pasted.
fail() {
  printf '     ✘ %s\n' "$1" >&2
  if [[ $DEPLOYED == 1 ]]; then
    printf '\nDeploy stopped. Roll back now (the kill switch stops the canary, then the edge Worker goes back\nto its previous version; bounds: docs/KILL-SWITCH.md):\n  %s\n' "$(rollback_command "${2:-$1}")" >&2
    [[ -n $PREVIOUS_CONTROL_VERSION ]] &&
      printf 'The control Worker was deployed too. Roll it back alone, only if it is at fault:\n  %s\n' \
        "$(shell_words scripts/rollback.sh --plane control --env "$ENV_NAME" --url "$URL" --version "$PREVIOUS_CONTROL_VERSION" --reason "production-deploy: control")" >&2
  else
    printf '\nDeploy stopped before anything was deployed and before any traffic moved. Fix the cause and run again.\n' >&2
  fi
  if [[ $MIGRATED == 1 ]]; then
    printf 'The database migration ran: rolling back does not undo it. Forward-fix or restore: docs/ROLLBACK-PROCEDURE.md (Database).\n' >&2
  fi
  exit 1
}

# check_failed MESSAGE: a failed precondition. A real run stops; a dry run notes it and goes on.
check_failed() {
  if [[ $DRY_RUN == 1 ]]; then
    printf '     ✘ %s\n' "$1"
    CHECK_FAILURES+=("$1")
  else
    fail "$1"
  fi
}

# Reads the secrets example (argv[1]) and the secrets file (argv[2], may be absent) and prints
# names only, one per line: `known NAME`, `required NAME`, `push NAME` (a value is set),
# `empty NAME`, `unknown NAME`, `bad LINE`. With argv[3] = "json" it prints instead the JSON
# object of the values to push, for `wrangler secret bulk` on stdin: values never reach argv,
# a file or the terminal.
SECRETS_READER='
const fs = require("fs");
const [examplePath, filePath, mode, only] = process.argv.slice(1);
const keep = only === undefined ? () => true : (name) => only.split(" ").includes(name);
const NAME = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;
const known = [];
const required = new Set();
let nextRequired = false;
for (const line of fs.readFileSync(examplePath, "utf8").split(/\r?\n/)) {
  if (/^#\s*\[required\]/.test(line)) nextRequired = true;
  const match = NAME.exec(line);
  if (match) {
    known.push(match[1]);
    if (nextRequired) required.add(match[1]);
    nextRequired = false;
  } else if (!line.startsWith("#")) nextRequired = false;
}
const values = {};
const out = [];
if (filePath && fs.existsSync(filePath)) {
  fs.readFileSync(filePath, "utf8").split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const match = NAME.exec(line.replace(/^export\s+/, ""));
    if (!match) return out.push(`bad ${index + 1}`);
    let value = match[2].trim();
    const quoted = /^(["\x27])(.*)\1$/.exec(value);
    if (quoted) value = quoted[2];
    else value = value.replace(/\s+#.*$/, "");
    if (!known.includes(match[1])) return out.push(`unknown ${match[1]}`);
    if (value === "") return out.push(`empty ${match[1]}`);
    if (keep(match[1])) values[match[1]] = value;
    out.push(`push ${match[1]}`);
  });
}
if (mode === "json") process.stdout.write(JSON.stringify(values));
else console.log([...known.map((n) => `known ${n}`), ...[...required].map((n) => `required ${n}`), ...out].join("\n"));
'

secrets_report() { node -e "$SECRETS_READER" "$SECRETS_EXAMPLE" "$SECRETS_FILE" 2>&1; }
names_of() { awk -v kind="$1" '$1 == kind { print $2 }' | paste -sd' ' -; }

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
// Recent is not enough: the verdict must judge the config in force now. A write after the guard
// ran (a flag, a kill, another step) makes it a verdict on a config visitors no longer get.
const current = guard && guard.configVersion === status.version;
if (guard && guard.status === "breach") {
  const reasons = (Array.isArray(guard.reasons) ? guard.reasons : []).map((r) => (r && r.message) || JSON.stringify(r));
  problems.push(`guard verdict: breach${reasons.length ? ` (${reasons.join("; ")})` : ""}`);
} else if (!guard || !fresh || !current || guard.status !== "healthy") {
  // A gate that passes on no data is no gate: it takes a healthy verdict judged on this step.
  const judged = guard && Number.isInteger(guard.configVersion) ? `config v${guard.configVersion}` : "an unrecorded config version";
  const why = !guard ? "no guard verdict yet" : !fresh ? `the guard verdict (${guard.at}) predates this step` : !current ? `the guard verdict was judged on ${judged}, not the current v${status.version}` : `the guard verdict is ${guard.status}${guard.reason ? ` (${guard.reason})` : ""}`;
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

[[ $DRY_RUN == 1 ]] && printf 'DRY RUN: the read-only checks run; nothing else runs and nothing changes.\n'
printf 'Launching %s (wrangler env %s); bake %s s per gate; steps %s %%.\n' "$URL" "$ENV_NAME" "$BAKE" "$STEPS"

phase "A: checks and deploy"

# --- detached edge (issue 25): kept apart from the phase's other checks on purpose ---
# rollback.sh --detach removed the edge's routes and recorded them; a deploy would put routes
# back (wrangler deploy applies wrangler.toml's) while the reason for detaching may still stand.
DETACHED_RECORD=$LAUNCH_STATE_DIR/$ENV_NAME.detached
if [[ -f $DETACHED_RECORD ]]; then
  printf 'production-deploy.sh: the edge Worker of env %s is detached (%s).\n' "$ENV_NAME" "$DETACHED_RECORD" >&2
  printf 'Re-attach it first, then deploy:\n  npx rollout detach --reattach --env %s --zone ZONE_ID --worker edge-rollout-%s --stable-origin STABLE_URL\n' "$ENV_NAME" "$ENV_NAME" >&2
  printf '(docs/ROLLBACK-PROCEDURE.md, "Detach").\n' >&2
  exit 1
fi
# --- end detached edge ---
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

if [[ $DRY_RUN == 1 ]]; then
  step "the admin token for npx rollout"
  if [[ -n ${ROLLOUT_TOKEN:-} ]]; then ok "ROLLOUT_TOKEN is set"; else check_failed "ROLLOUT_TOKEN is not set: the launch needs it for every npx rollout step"; fi
fi

for plane in edge control; do
  if [[ $plane == edge ]]; then config_file=$WRANGLER_CONFIG; else config_file=$CONTROL_CONFIG; fi
  step "$plane wrangler config: $(shell_words "${config_file#"$ROOT"/}") [env.$ENV_NAME]"
  # Placeholders in this environment's tables ([env.NAME], [[env.NAME.kv_namespaces]], …).
  placeholders=$(awk -v env="$ENV_NAME" '
    /^[[:space:]]*\[/ { header = $0; gsub(/[][[:space:]]/, "", header); inside = (header == "env." env || index(header, "env." env ".") == 1) }
    inside && /REPLACE_WITH/ && !/^[[:space:]]*#/ { printf "line %d: %s\n", NR, $0 }
  ' "$config_file")
  if [[ -n $placeholders ]]; then
    indent <<<"$placeholders"
    check_failed "the $plane wrangler config still has REPLACE_WITH… placeholders for env $ENV_NAME (create the namespace and put its id there: docs/LAUNCH-RUNBOOK.md)"
  else
    ok "no placeholder left for env $ENV_NAME"
  fi
done

step "production secrets: $(shell_words "${SECRETS_FILE#"$ROOT"/}") and wrangler secret list"
report=$(secrets_report) || { indent <<<"$report"; fail "cannot read $SECRETS_EXAMPLE"; }
required=$(names_of required <<<"$report")
to_push=$(names_of push <<<"$report")
[[ -n $(names_of bad <<<"$report") ]] && check_failed "$SECRETS_FILE: line(s) $(names_of bad <<<"$report") are not NAME=value"
[[ -n $(names_of unknown <<<"$report") ]] &&
  check_failed "$SECRETS_FILE names secrets the Worker does not read: $(names_of unknown <<<"$report") (see .env.production.example)"
[[ -n $(names_of empty <<<"$report") ]] && printf '     skipped (empty in the file): %s\n' "$(names_of empty <<<"$report")"
if [[ -f $SECRETS_FILE ]]; then
  printf '     in the file: %s\n' "${to_push:-(no value set)}"
else
  printf '     no secrets file: only the secrets already set count\n'
fi
# Each secret goes to the Worker(s) whose config declares it ([secrets] required at the top).
for plane in edge control; do
  if [[ $plane == edge ]]; then config_file=$WRANGLER_CONFIG; args=("${ENV_ARGS[@]}"); else config_file=$CONTROL_CONFIG; args=("${CONTROL_ARGS[@]}"); fi
  declared=$(declared_secrets "$config_file") || { check_failed "cannot read the $plane config's [secrets]"; continue; }
  if listed=$(wrangler_cmd secret list "${args[@]}"); then
    # wrangler prints the list as JSON, possibly after a banner line.
    existing=$(node -e '
      const text = require("fs").readFileSync(0, "utf8");
      const list = JSON.parse(text.slice(text.indexOf("[")));
      console.log(list.map((s) => s.name).join(" "));
    ' <<<"$listed" 2>/dev/null) || existing=""
    missing=""
    checked=""
    for name in $required; do
      [[ " $declared " == *" $name "* ]] || continue
      checked+=" $name"
      [[ " $to_push " == *" $name "* || " $existing " == *" $name "* ]] || missing+=" $name"
    done
    if [[ -n $missing ]]; then
      check_failed "required secret(s) of the $plane Worker missing from both $(shell_words "${SECRETS_FILE#"$ROOT"/}") and its wrangler secret list:$missing"
    else
      ok "every required secret of the $plane Worker is set or in the file:${checked:- (none)}"
    fi
  else
    check_failed "wrangler secret list of the $plane Worker failed (logged in? the Worker deployed once?)"
  fi
done

for origin in stable canary; do
  if [[ $origin == stable ]]; then health_url=$STABLE_HEALTH; else health_url=$CANARY_HEALTH; fi
  step "$origin origin answers: $health_url"
  if curl -fsS -o /dev/null --max-time 10 "$health_url" 2>&1 | indent; then
    ok "$origin origin is up"
  else
    check_failed "the $origin origin's health URL does not answer 2xx: $health_url"
  fi
done

step "current Worker versions (the rollback targets)"
if [[ $DRY_RUN == 1 ]]; then
  would wrangler deployments status "${ENV_ARGS[@]}" --json
  would wrangler deployments status "${CONTROL_ARGS[@]}" --json
else
  PREVIOUS_VERSION=$(current_version "${ENV_ARGS[@]}")
  PREVIOUS_CONTROL_VERSION=$(current_version "${CONTROL_ARGS[@]}")
  if [[ -n $PREVIOUS_VERSION ]]; then ok "edge currently deployed: $PREVIOUS_VERSION"; else ok "edge: no current version found (first deploy?)"; fi
  if [[ -n $PREVIOUS_CONTROL_VERSION ]]; then ok "control currently deployed: $PREVIOUS_CONTROL_VERSION"; else ok "control: no current version found (first deploy?)"; fi
fi

# Secrets last in the checks: pushing them deploys a new version, so every read-only check has
# passed and the rollback target is known first.
if [[ -n $to_push ]]; then
  step "push the production secrets"
  if [[ $DRY_RUN == 1 ]]; then
    printf '     would push with wrangler secret bulk (values never shown): %s\n' "$to_push"
  elif [[ ${#CHECK_FAILURES[@]} -eq 0 ]]; then
    # Control first, like the code: each Worker gets the secrets its config declares.
    for plane in control edge; do
      if [[ $plane == edge ]]; then config_file=$WRANGLER_CONFIG; args=("${ENV_ARGS[@]}"); else config_file=$CONTROL_CONFIG; args=("${CONTROL_ARGS[@]}"); fi
      declared=$(declared_secrets "$config_file")
      names=""
      for name in $to_push; do [[ " $declared " == *" $name "* ]] && names+=" $name"; done
      [[ -z $names ]] && continue
      printf '     pushing to the %s Worker with wrangler secret bulk (values never shown):%s\n' "$plane" "$names"
      # The JSON goes from node to wrangler through a pipe: no value in argv, a file or the output.
      pushed=$(node -e "$SECRETS_READER" "$SECRETS_EXAMPLE" "$SECRETS_FILE" json "$declared" |
        wrangler_cmd secret bulk "${args[@]}" 2>&1) || { { grep -v '=' <<<"$pushed" || true; } | indent; fail "wrangler secret bulk failed for the $plane Worker"; }
      # wrangler secret bulk deploys a new version at once: from here a failure needs the rollback.
      DEPLOYED=1
    done
    ok "secrets pushed: $to_push"
  fi
fi

if [[ -n $MIGRATE ]]; then
  step "database migration (once; the stable version must still read and write the schema)"
  if [[ $DRY_RUN == 1 ]]; then
    printf '     would run: %s\n' "$MIGRATE"
  else
    # Recorded before it runs: a migration that fails halfway may still have changed the schema.
    mkdir -p "$LAUNCH_STATE_DIR"
    printf 'migration started %s (production-deploy, env %s)\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$ENV_NAME" >"$LAUNCH_STATE_DIR/$ENV_NAME.migration"
    MIGRATED=1
    bash -c "$MIGRATE" 2>&1 | indent || fail "the migration failed: nothing was deployed and no traffic moved, but the schema may be partly changed"
    ok "migration applied"
  fi
fi
if [[ -n $CHECK_OLD ]]; then
  step "the stable version still works against the migrated schema"
  if [[ $DRY_RUN == 1 ]]; then
    printf '     would run: %s\n' "$CHECK_OLD"
  else
    bash -c "$CHECK_OLD" 2>&1 | indent || fail "the stable version fails against the migrated schema (--check-old): forward-fix the migration before any canary traffic"
    ok "the stable version works against the migrated schema"
  fi
fi

if [[ $DRY_RUN == 1 && ${#CHECK_FAILURES[@]} -gt 0 ]]; then
  printf '\n     (the real run would stop here: %s failed check(s) above)\n' "${#CHECK_FAILURES[@]}"
fi

# Control first: the edge's service binding must find its target. The control Worker holds the
# Durable Object class, so it is always a plain deploy (Cloudflare refuses a gradual deployment
# of a version that changes a class).
step "deploy the control Worker"
if [[ $DRY_RUN == 1 ]]; then
  would wrangler deploy "${CONTROL_ARGS[@]}"
else
  DEPLOYED=1
  output=$(wrangler_cmd deploy "${CONTROL_ARGS[@]}" 2>&1) || { indent <<<"$output"; fail "wrangler deploy of the control Worker failed"; }
  CONTROL_VERSION=$(sed -n 's/.*Current Version ID:[[:space:]]*\([0-9A-Za-z-]*\).*/\1/p' <<<"$output" | tail -n 1)
  indent <<<"$output"
  ok "control deployed version ${CONTROL_VERSION:-(unknown)}"
fi

step "deploy the edge Worker"
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
  ok "edge deployed version ${NEW_VERSION:-(unknown)}"
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
  phases=$(grep -c '^phase ' <<<"$plan" || true)
  for n in $(seq 1 "$phases"); do
    step "flags phase $n"
    STEP_STARTED_MS=$(($(date +%s) * 1000))
    if [[ $DRY_RUN == 1 ]]; then
      feature_flags --phase "$n" --dry-run | indent || check_failed "flags phase $n (dry run) failed"
    else
      feature_flags --phase "$n" 2>&1 | indent || fail "flags phase $n failed"
    fi
    gate "after flags phase $n"
  done
fi

if [[ $DRY_RUN == 1 && ${#CHECK_FAILURES[@]} -gt 0 ]]; then
  printf '\nDry run done: nothing was changed, but %s check(s) failed:\n' "${#CHECK_FAILURES[@]}" >&2
  printf '  ✘ %s\n' "${CHECK_FAILURES[@]}" >&2
  exit 1
elif [[ $DRY_RUN == 1 ]]; then
  printf '\nDry run done: every check passed; nothing was changed.\n'
else
  printf '\nLaunched: the canary is promoted and every flag phase is on.\n'
  printf 'Finalize once the post-launch checks pass: scripts/post-launch-check.sh, then npx rollout finalize\n'
fi
