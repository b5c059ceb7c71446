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
         then of the edge Worker; the admin API answers. Then the launch config of the launch
         file (origins, salt, flags off, segments, business routes, thresholds): previewed,
         then written with If-Match on the version read (refused while a launch is live; left
         alone when already in force). Then QA: two override links are printed (canary, and
         back to stable) and the launch STOPS (exit 3) unless --qa-confirmed, or "yes" typed
         on a terminal. Run it again with --qa-confirmed once QA passed.
         The checks are `npx rollout preflight`, `secrets-bulk` and `launch-config`
         (docs/CLI.md).
Phase B  canary 10 % -> gate -> 50 % -> gate -> 100 % -> gate, then promote, through npx rollout.
         A gate waits --bake seconds, then reads `npx rollout status --json` and passes only on a
         `healthy` guard verdict given after the step began, on the config version in force
         (a write after the guard's run needs the next run). It fails when the rollout is
         aborted or paused, the kill switch stops the canary, the verdict is `breach`, missing,
         stale or inconclusive (unless --allow-no-verdict), or (with --max-error-rate) the
         canary's error rate is above the limit.
Phase C  the launch file's flag phases in order (scripts/feature-flags.ts), with a gate after
         each; a flag not in the config is an error ("did you mean …?"), never created.
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
  --launch-file FILE     the launch config and flag plan (default:
                         docs/examples/invoicing-launch.json)
  --qa-confirmed         QA on the canary passed: do not stop at the QA step
  --dry-run              run every read-only precondition check (token, wrangler config,
                         secrets, origins, the launch config's preview) and report each
                         failure; print every other step; change nothing
  -h, --help             this help

Environment: ROLLOUT_TOKEN (required), ROLLOUT_URL, ROLLOUT_ACTOR (default: production-deploy),
STABLE_HEALTH_URL, CANARY_HEALTH_URL, LAUNCH_STATE_DIR (where a migration is recorded for
rollback.sh; default: .wrangler/launch).
Exit codes: 0 launched (or, with --dry-run, every check passed); 1 a check, step or gate failed
(the rollback command is printed once anything was deployed); 2 bad arguments; 3 stopped at
QA, waiting for --qa-confirmed (nothing failed; no visitor is on the canary).
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
LAUNCH_FILE=""
QA_CONFIRMED=0

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
    --launch-file) need_value "$@" && LAUNCH_FILE=$2 && shift 2 ;;
    --qa-confirmed) QA_CONFIRMED=1 && shift ;;
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
[[ -n $LAUNCH_FILE && ! -f $LAUNCH_FILE ]] && die_usage "--launch-file: no such file: $LAUNCH_FILE"
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
# What `npx rollout preflight` and `secrets-bulk` read: the edge config is passed on only when
# given, as wrangler then reads its own default.
SECRETS_ARGS=(--env "$ENV_NAME" --control-config "$CONTROL_CONFIG" --secrets-file "$SECRETS_FILE")
[[ -n $CONFIG_FILE ]] && SECRETS_ARGS+=(--config "$CONFIG_FILE")
LAUNCH_FILE=${LAUNCH_FILE:-$ROOT/docs/examples/invoicing-launch.json}
LAUNCH_STATE_DIR=${LAUNCH_STATE_DIR:-$ROOT/.wrangler/launch}
DEPLOYED=0
MIGRATED=0
PREVIOUS_VERSION=""
PREVIOUS_CONTROL_VERSION=""
# A dry run collects every failed precondition instead of stopping at the first.
CHECK_FAILURES=()

feature_flags() {
  if [[ -x $ROOT/node_modules/.bin/tsx ]]; then "$ROOT/node_modules/.bin/tsx" "$ROOT/scripts/feature-flags.ts" --file "$LAUNCH_FILE" "$@"; else npx --no tsx "$ROOT/scripts/feature-flags.ts" --file "$LAUNCH_FILE" "$@"; fi
}

phase() { printf '\n==> Phase %s\n' "$*"; }

# current_version WRANGLER_ARGS…: the version at 100 % of the Worker's deployment, or nothing.
current_version() {
  local deployment
  deployment=$(wrangler_cmd deployments status "$@" --json 2>/dev/null) || return 0
  rollout current-version <<<"$deployment" 2>/dev/null || true
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

gate() {
  local label=$1 status verdict started_ms=$STEP_STARTED_MS
  if [[ $DRY_RUN == 1 ]]; then
    printf '     would bake %s s, then gate %s on: npx rollout status --json\n' "$BAKE" "$label"
    return
  fi
  step "gate $label: baking $BAKE s"
  sleep "$BAKE"
  status=$(rollout status --json) || fail "gate $label: cannot read the rollout status" "gate $label failed"
  local judge=(gate --step-started-ms "$started_ms")
  [[ -n $MAX_ERROR_RATE ]] && judge+=(--max-error-rate "$MAX_ERROR_RATE")
  [[ $ALLOW_NO_VERDICT == 1 ]] && judge+=(--allow-no-verdict)
  if verdict=$(rollout "${judge[@]}" <<<"$status"); then
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

# The launch file is read before anything moves: a typo in its flag plan stops the launch here,
# not in phase C hours later.
step "the launch file: $(shell_words "${LAUNCH_FILE#"$ROOT"/}")"
if plan_check=$(feature_flags --list 2>&1); then
  ok "$(grep -c '^phase ' <<<"$plan_check") flag phases; every flag they name is in the launch config"
else
  { grep -v '^usage:' <<<"$plan_check" || true; } | indent
  check_failed "the launch file is not a valid launch plan (above; docs/LAUNCH-RUNBOOK.md)"
fi

# The wrangler configs' placeholders and each Worker's required secrets: `npx rollout preflight`
# (cli/preflight.ts). Its ✘ lines are this script's failed checks, in its order.
preflight_status=0
preflight=$(rollout preflight "${SECRETS_ARGS[@]}" 2>&1) || preflight_status=$?
[[ $preflight_status -le 1 ]] || { indent <<<"$preflight"; fail "npx rollout preflight could not run"; }
while IFS= read -r line; do
  if [[ $line == '     ✘ '* ]]; then check_failed "${line#'     ✘ '}"; else printf '%s\n' "$line"; fi
done <<<"$preflight"
to_push=$(rollout secrets-bulk --names "${SECRETS_ARGS[@]}") || fail "cannot read the secrets file"

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
      if [[ $plane == edge ]]; then args=("${ENV_ARGS[@]}"); else args=("${CONTROL_ARGS[@]}"); fi
      names=$(rollout secrets-bulk --names --plane "$plane" "${SECRETS_ARGS[@]}") || fail "cannot read the secrets for the $plane Worker"
      [[ -z $names ]] && continue
      printf '     pushing to the %s Worker with wrangler secret bulk (values never shown): %s\n' "$plane" "$names"
      # The JSON goes from the CLI to wrangler through a pipe: no value in argv, a file or the output.
      pushed=$(rollout secrets-bulk --plane "$plane" "${SECRETS_ARGS[@]}" |
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

# The launch config from the reviewed launch file: previewed, then written with If-Match on the
# version just read (npx rollout launch-config). Refused while a launch is live; left alone when
# already in force, so a run after the QA stop changes nothing here.
step "the launch config: $(shell_words "${LAUNCH_FILE#"$ROOT"/}")"
if [[ $DRY_RUN == 1 ]]; then
  if [[ -z ${ROLLOUT_TOKEN:-} ]]; then
    printf '     cannot preview without ROLLOUT_TOKEN (reported above)\n'
  else
    preview_status=0
    preview=$(rollout launch-config --file "$LAUNCH_FILE" --dry-run 2>&1) || preview_status=$?
    indent <<<"$preview"
    # Unreachable (3): a first deploy has no Worker to ask yet. Anything else is a real problem.
    if [[ $preview_status == 3 ]]; then
      printf '     (no preview: the admin API is not reachable yet; the real run previews after the deploy)\n'
    elif [[ $preview_status != 0 ]]; then
      check_failed "the launch config cannot be written: $(head -n 1 <<<"$preview")"
    fi
  fi
else
  config_output=$(rollout launch-config --file "$LAUNCH_FILE" 2>&1) || { indent <<<"$config_output"; fail "the launch config was not written"; }
  printf '%s\n' "$config_output"
fi

# QA: the canary at 0 % is reached only through a signed override link. The launch waits for a
# person to say QA passed: --qa-confirmed, or "yes" on a terminal.
step "QA through an override link (the canary is at 0 %: only a link reaches it)"
if [[ $QA_CONFIRMED == 1 ]]; then
  ok "QA confirmed (--qa-confirmed)"
elif [[ $DRY_RUN == 1 ]]; then
  would npx rollout override-link canary --ttl 3600
  would npx rollout override-link stable --ttl 3600
  printf '     then the launch stops here until QA is confirmed (--qa-confirmed, or yes on a terminal)\n'
else
  canary_link=$(rollout override-link canary --ttl 3600 2>&1) || { indent <<<"$canary_link"; fail "cannot create the QA override link (is OVERRIDE_SECRET set?)"; }
  stable_link=$(rollout override-link stable --ttl 3600 2>&1) || { indent <<<"$stable_link"; fail "cannot create the override link back to stable"; }
  printf '     Open in a private window to see the canary, and click through the new features:\n       %s\n' "$canary_link"
  printf '     Back to stable (or close the private window):\n       %s\n' "$stable_link"
  if [[ -t 0 && -t 2 ]]; then
    read -r -p '     Did QA pass on the canary? Type yes to start the ramp: ' answer || answer=""
  else
    answer=""
  fi
  if [[ $answer == yes ]]; then
    ok "QA confirmed at the prompt"
  else
    printf '\nStopped at QA: nothing is wrong and no visitor is on the canary. Once QA passed, run the same\ncommand again with --qa-confirmed; phase A then finds everything in place and the ramp starts.\n'
    exit 3
  fi
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
