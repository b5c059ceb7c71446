#!/usr/bin/env bash
# Rolls a launch back: the canary stops first, then the edge Worker's code goes back a version,
# then both are verified. With --plane control, the control Worker's code alone goes back. See
# --help and docs/ROLLBACK-PROCEDURE.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SCRIPT_NAME=rollback.sh
# shellcheck source=scripts/lib/common.sh
source "$ROOT/scripts/lib/common.sh"
cd "$ROOT"

usage() {
  cat <<'EOF'
Usage: scripts/rollback.sh [options]

Rolls back the edge Worker (the one in front of the app) by default:
Step 1  Stop the canary: `npx rollout abort` (it reaches every location within the bound of
        docs/KILL-SWITCH.md). When the admin API is down or failing, the kill switch in KV
        instead, keeping any flag kills already in force (KV's own, longer bound):
        wrangler kv key put --binding=ROLLOUT kill "canary ..." --remote --env <env>
Step 2  `wrangler rollback [version]` of the edge Worker: its code goes back to the previous
        version. This does NOT revert KV or the control plane: the config, the flags, the audit
        log and the kill switch stay as step 1 left them (lift the kill switch later with
        `npx rollout kill off`). The edge has no Durable Object, so this is never refused.
Step 3  Verify: `npx rollout status` shows the rollout aborted (or the canary killed), and fresh
        requests to the Worker answer `x-rollout-cohort: stable`. Retried until --verify-timeout.

With --plane control, the control Worker (admin API, cockpit, guard, the single writer) alone:
Step 2  `wrangler rollback [version] --config worker/control/wrangler.toml`: its code goes back.
        Visitors, the edge and the rollout's state (config, audit, kill) are untouched. Cloudflare
        refuses it across a Durable Object migration: then deploy a fix forward instead
        (docs/ROLLBACK-PROCEDURE.md).
Step 3  Verify: the admin API answers (`npx rollout health` and `npx rollout status`).

Options:
  --plane edge|control     which Worker's code goes back (default: edge)
  --env NAME               wrangler environment (default: production)
  --url URL                the Worker's URL (default: $ROLLOUT_URL)
  --version ID             the Worker version to roll back to (default: the previous one)
  --reason TEXT            why; kept in the audit log and the rollback message
  --skip-worker-rollback   steps 1 and 3 only (the Worker's own code is fine)
  --check-path PATH        the path requested in step 3 (default: /)
  --verify-timeout SECS    how long step 3 keeps trying (default: 120: a KV write takes up to
                           ~60 s to reach every location)
  --migration-applied      a database migration ran for this launch: print the database
                           reminder (also printed when production-deploy.sh recorded one)
  --clear-migration-record the schema question is settled (checked, forward-fixed or
                           restored): delete the record production-deploy.sh --migrate left
                           for --env, and exit; nothing is rolled back, no token needed
  --dry-run                check what the rollback needs (ROLLOUT_TOKEN, the admin API at
                           the URL, a wrangler login via `wrangler whoami`), print every
                           step; run nothing, change nothing; exit 1 when a check failed
  --detach                 instead of the steps above: take the edge Worker out of the request
                           path by removing its zone routes (the way out on a first deploy, when
                           there is no version to roll back to). Refused unless each route's
                           hostname has a proxied DNS record pointing at the stable origin's
                           host. Records the routes in LAUNCH_STATE_DIR/<env>.detached; deploys
                           refuse until `npx rollout detach --reattach …` puts them back. Runs
                           `npx rollout detach`; with --dry-run, names the routes and removes
                           nothing. Needs CLOUDFLARE_API_TOKEN (Workers Routes edit, DNS read).
  --zone ID                with --detach: the zone id (default: $CLOUDFLARE_ZONE_ID)
  --worker NAME            with --detach: the edge Worker's name (default: edge-rollout-<env>)
  --stable-origin URL      with --detach: the stable origin (default: $STABLE_ORIGIN)
  -h, --help               this help

This never touches the database: a schema migration is not rolled back. See
docs/ROLLBACK-PROCEDURE.md (Database) for forward-fix or restore.

The migration record (LAUNCH_STATE_DIR/<env>.migration) lasts until the release that carried
the migration is finalized: a run that finds a finalize in the audit log since the migration
started deletes it (the stable version is then the one built for the migrated schema). Until
then, or --clear-migration-record, every run prints the reminder.

Environment: ROLLOUT_TOKEN (required), ROLLOUT_URL, ROLLOUT_ACTOR (default: rollback.sh),
LAUNCH_STATE_DIR (where production-deploy.sh records a migration; default: .wrangler/launch).
Exit codes: 0 rolled back and verified; 1 a step or the verification failed; 2 bad arguments.
EOF
}

ENV_NAME=production
URL=${ROLLOUT_URL:-}
VERSION=""
REASON="rollback.sh"
SKIP_WORKER=0
PLANE=edge
CHECK_PATH=/
VERIFY_TIMEOUT=120
DRY_RUN=0
MIGRATION_APPLIED=0
CLEAR_MIGRATION_RECORD=0
DETACH=0
DETACH_ZONE=${CLOUDFLARE_ZONE_ID:-}
DETACH_WORKER=""
DETACH_STABLE=${STABLE_ORIGIN:-}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --env) need_value "$@" && ENV_NAME=$2 && shift 2 ;;
    --plane) need_value "$@" && PLANE=$2 && shift 2 ;;
    --url) need_value "$@" && URL=$2 && shift 2 ;;
    --version) need_value "$@" && VERSION=$2 && shift 2 ;;
    --reason) need_value "$@" && REASON=$2 && shift 2 ;;
    --skip-worker-rollback) SKIP_WORKER=1 && shift ;;
    --check-path) need_value "$@" && CHECK_PATH=$2 && shift 2 ;;
    --verify-timeout) need_value "$@" && VERIFY_TIMEOUT=$2 && shift 2 ;;
    --migration-applied) MIGRATION_APPLIED=1 && shift ;;
    --clear-migration-record) CLEAR_MIGRATION_RECORD=1 && shift ;;
    --dry-run) DRY_RUN=1 && shift ;;
    --detach) DETACH=1 && shift ;;
    --zone) need_value "$@" && DETACH_ZONE=$2 && shift 2 ;;
    --worker) need_value "$@" && DETACH_WORKER=$2 && shift 2 ;;
    --stable-origin) need_value "$@" && DETACH_STABLE=$2 && shift 2 ;;
    -h | --help) usage && exit 0 ;;
    *) die_usage "unknown argument: $1" ;;
  esac
done

MIGRATION_RECORD=${LAUNCH_STATE_DIR:-$ROOT/.wrangler/launch}/$ENV_NAME.migration
if [[ $CLEAR_MIGRATION_RECORD == 1 ]]; then
  [[ $ENV_NAME =~ ^[A-Za-z0-9_-]{1,64}$ ]] || die_usage "--env must be 1-64 chars of [A-Za-z0-9_-]"
  if [[ -f $MIGRATION_RECORD && $DRY_RUN == 1 ]]; then
    printf 'DRY RUN: would clear the migration record for env %s: %s\n' "$ENV_NAME" "$(head -n 1 "$MIGRATION_RECORD" | tr -cd '[:print:]')"
  elif [[ -f $MIGRATION_RECORD ]]; then
    printf 'Cleared the migration record for env %s: %s\n' "$ENV_NAME" "$(head -n 1 "$MIGRATION_RECORD" | tr -cd '[:print:]')"
    rm -f "$MIGRATION_RECORD"
  else
    printf 'No migration record for env %s (%s).\n' "$ENV_NAME" "$MIGRATION_RECORD"
  fi
  exit 0
fi

# --detach: the way out on a first deploy. Its logic (the DNS check, the API calls, the record)
# lives in cli/detach.ts; this block only passes the options on.
if [[ $DETACH == 1 ]]; then
  [[ $PLANE == edge ]] || die_usage "--detach takes the edge Worker out of the path; it has no --plane control"
  DETACH_ARGS=(detach --env "$ENV_NAME" --zone "$DETACH_ZONE" --worker "${DETACH_WORKER:-edge-rollout-$ENV_NAME}"
    --stable-origin "$DETACH_STABLE" --state-dir "${LAUNCH_STATE_DIR:-$ROOT/.wrangler/launch}")
  [[ $DRY_RUN == 1 ]] && DETACH_ARGS+=(--dry-run)
  exec node "$ROOT/bin/rollout.mjs" "${DETACH_ARGS[@]}"
fi

[[ $PLANE == edge || $PLANE == control ]] || die_usage "--plane must be edge or control"
validate_env_and_url
URL=${URL%/}
[[ -z $VERSION || $VERSION =~ ^[0-9A-Za-z-]{1,64}$ ]] || die_usage "--version must be a Worker version id"
[[ ${#REASON} -le 500 && $REASON != *$'\n'* ]] || die_usage "--reason must be one line of at most 500 chars"
[[ $CHECK_PATH =~ ^/[^[:space:]]*$ ]] || die_usage "--check-path must start with /"
[[ $VERIFY_TIMEOUT =~ ^[0-9]{1,4}$ ]] || die_usage "--verify-timeout must be a whole number of seconds"
[[ $DRY_RUN == 1 || -n ${ROLLOUT_TOKEN:-} ]] || die_usage "ROLLOUT_TOKEN is not set"

export ROLLOUT_URL=$URL ROLLOUT_ACTOR=${ROLLOUT_ACTOR:-rollback.sh} ROLLOUT_ENV=$ENV_NAME
ENV_ARGS=(--env "$ENV_NAME")
CONTROL_ARGS=(--env "$ENV_NAME" --config "$ROOT/worker/control/wrangler.toml")
FAILED=()

# The Worker goes back; the schema does not. Said at the start and again at the end.
database_reminder() {
  local recorded=""
  [[ -f $MIGRATION_RECORD ]] && recorded=" ($(head -n 1 "$MIGRATION_RECORD" | tr -cd '[:print:]'))"
  [[ $MIGRATION_APPLIED == 1 || -n $recorded ]] || return 0
  printf '\n!!  A database migration was recorded for this launch%s.\n' "$recorded"
  printf '!!  This rollback does NOT roll the schema back. The stable version runs against the\n'
  printf '!!  migrated schema: check it works; if not, forward-fix or restore from backup, as\n'
  printf '!!  docs/ROLLBACK-PROCEDURE.md (Database) decides.\n'
  [[ -n $recorded ]] || return 0
  printf '!!  The record stays until that release is finalized; once the schema is settled:\n'
  printf '!!    scripts/rollback.sh --env %s --clear-migration-record\n' "$ENV_NAME"
}

# Reads `rollout audit --json` on stdin: prints when the rollout was last finalized, if it was.
FINALIZED_AT='
const { entries } = JSON.parse(require("fs").readFileSync(0, "utf8"));
const finalize = (entries || []).find((e) => e && e.action === "finalize" && typeof e.at === "string");
if (finalize) console.log(finalize.at);
'

# The record outlives its launch until the release that carried the migration is finalized: then
# the stable version is the one built for the migrated schema, and the reminder is moot. Checked
# through the audit log since the migration started; anything unreadable keeps the record.
retire_migration_record() {
  [[ -f $MIGRATION_RECORD ]] || return 0
  local started audit finalized
  started=$(sed -n '1s/^migration started \([0-9T:Z-]*\) .*/\1/p' "$MIGRATION_RECORD")
  [[ $started =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]] || return 0
  audit=$(rollout audit --since "$started" --limit 1000 --json 2>/dev/null) || return 0
  finalized=$(node -e "$FINALIZED_AT" <<<"$audit" 2>/dev/null) || return 0
  [[ -n $finalized ]] || return 0
  rm -f "$MIGRATION_RECORD"
  printf 'The release that carried the database migration (started %s) was finalized at %s:\n' "$started" "$finalized"
  printf 'its record is cleared, and this rollback does not concern that schema change.\n'
}

step() { printf '\n==> %s\n' "$*"; }
bad() { printf '     ✘ %s\n' "$*"; }

# Reads `rollout status --json` on stdin: exit 0 (and says why) when no visitor is on the canary.
STOPPED_CHECK='
const s = JSON.parse(require("fs").readFileSync(0, "utf8"));
if (s.kill && s.kill.canary) console.log(`the kill switch stops the canary (state ${s.state})`);
else if (s.state === "aborted" || s.state === "idle" || s.percent === 0) console.log(`${s.state} at ${s.percent} %`);
else {
  console.log(`${s.state} at ${s.percent} %: the canary is still live`);
  process.exit(1);
}
'

kv_kill() {
  local current value token tokens=()
  # PUT replaces the value: keep the flag kills already in force next to `canary`.
  current=$(wrangler_cmd kv key get --binding=ROLLOUT kill --remote "${ENV_ARGS[@]}" 2>/dev/null | tail -n 1) || current=""
  read -r -a tokens <<<"${current//,/ }"
  value=canary
  for token in "${tokens[@]}"; do
    [[ $token =~ ^(flags|all|flag:[A-Za-z][A-Za-z0-9_.-]{0,63})$ ]] && value+=" $token"
  done
  if wrangler_cmd kv key put --binding=ROLLOUT kill "$value" --remote "${ENV_ARGS[@]}" 2>&1 | indent; then
    ok "kill switch set in KV: \"$value\" (reaches every location within ~60 s)"
  else
    bad "the KV kill switch could not be written either"
    FAILED+=("stop the canary")
  fi
}

[[ $DRY_RUN == 1 ]] && printf 'DRY RUN: nothing below is run, nothing changes.\n'
# A dry run checks what the real run needs, as the deploy's dry run does: the token, the admin
# API at the URL (without it the canary stops through KV and nothing can be verified), and a
# wrangler login (the Worker rollback and the KV fallback both need it). Read-only, all of them.
DRY_FAILURES=()
dry_check() {
  if [[ $1 == ok ]]; then ok "$2"; else bad "$2" && DRY_FAILURES+=("$2"); fi
}
dry_run_done() {
  if [[ ${#DRY_FAILURES[@]} -gt 0 ]]; then
    printf '\nDry run done: nothing was run or changed, but %s check(s) failed:\n' "${#DRY_FAILURES[@]}" >&2
    printf '  ✘ %s\n' "${DRY_FAILURES[@]}" >&2
    exit 1
  fi
  printf '\nDry run done: nothing was run or changed.\n'
  exit 0
}
if [[ $DRY_RUN == 1 ]]; then
  printf '\n==> What the rollback needs (read-only checks)\n'
  if [[ -n ${ROLLOUT_TOKEN:-} ]]; then dry_check ok "ROLLOUT_TOKEN is set"; else dry_check bad "ROLLOUT_TOKEN is not set: the real run refuses to start"; fi
  if rollout health >/dev/null 2>&1; then
    dry_check ok "the admin API answers at $URL"
  else
    dry_check bad "the admin API at $URL does not answer: the canary would stop through the KV kill switch, and nothing could be verified"
  fi
  if whoami=$(wrangler_cmd whoami 2>&1) && ! grep -qi 'not authenticated' <<<"$whoami"; then
    dry_check ok "wrangler is logged in (wrangler whoami)"
  else
    dry_check bad "wrangler is not logged in (wrangler whoami): wrangler rollback and the KV kill switch need it (wrangler login, or CLOUDFLARE_API_TOKEN)"
  fi
fi
if [[ $PLANE == control ]]; then
  printf 'Rolling back the control Worker of %s (wrangler env %s): %s\n' "$URL" "$ENV_NAME" "$REASON"
  printf 'Visitors, the edge Worker and the rollout state (config, flags, audit, kill) are not changed.\n'
  step "1/2 Roll back the control Worker's code (wrangler rollback --config worker/control/wrangler.toml)"
  ROLLBACK_ARGS=(rollback)
  [[ -n $VERSION ]] && ROLLBACK_ARGS+=("$VERSION")
  ROLLBACK_ARGS+=("${CONTROL_ARGS[@]}" --message "$REASON" -y)
  if [[ $DRY_RUN == 1 ]]; then
    would wrangler "${ROLLBACK_ARGS[@]}"
  elif output=$(wrangler_cmd "${ROLLBACK_ARGS[@]}" 2>&1); then
    indent <<<"$output"
    ok "control Worker rolled back to ${VERSION:-the previous version}"
  else
    indent <<<"$output"
    bad "wrangler rollback of the control Worker failed"
    if grep -qi 'migration' <<<"$output"; then
      printf '     Cloudflare refuses a rollback across a Durable Object migration: deploy a fix forward\n'
      printf '     (docs/ROLLBACK-PROCEDURE.md, "The control Worker").\n'
    fi
    exit 1
  fi
  step "2/2 Verify: the admin API answers"
  if [[ $DRY_RUN == 1 ]]; then
    would npx rollout health
    would npx rollout status
    dry_run_done
  fi
  deadline=$((SECONDS + VERIFY_TIMEOUT))
  until rollout health >/dev/null 2>&1 && status=$(rollout status 2>&1); do
    if ((SECONDS >= deadline)); then
      bad "the admin API at $URL does not answer"
      exit 1
    fi
    sleep 2
  done
  indent <<<"$status"
  ok "the admin API answers"
  printf '\nControl Worker rolled back and verified.\n'
  exit 0
fi
printf 'Rolling back %s (wrangler env %s): %s\n' "$URL" "$ENV_NAME" "$REASON"
[[ $DRY_RUN == 1 ]] || retire_migration_record
database_reminder

step "1/3 Stop the canary (abort through the admin API; the KV kill switch if that fails)"
if [[ $DRY_RUN == 1 ]]; then
  would npx rollout abort --reason "$REASON"
  printf '     if the admin API is down or failing:\n'
  would wrangler kv key put --binding=ROLLOUT kill "canary" --remote "${ENV_ARGS[@]}"
elif output=$(rollout abort --reason "$REASON" 2>&1); then
  indent <<<"$output"
  ok "aborted through the admin API"
else
  indent <<<"$output"
  # Refused (409: nothing live) or failed: the canary may already be stopped.
  if status=$(rollout status --json 2>/dev/null) && why=$(node -e "$STOPPED_CHECK" <<<"$status"); then
    ok "the canary is already stopped: $why"
  else
    printf '     the admin API cannot stop the canary: the kill switch in KV instead\n'
    kv_kill
  fi
fi

step "2/3 Roll back the edge Worker's code (wrangler rollback; this does NOT revert KV or the control plane)"
ROLLBACK_ARGS=(rollback)
[[ -n $VERSION ]] && ROLLBACK_ARGS+=("$VERSION")
ROLLBACK_ARGS+=("${ENV_ARGS[@]}" --message "$REASON" -y)
if [[ $SKIP_WORKER == 1 ]]; then
  printf '     skipped (--skip-worker-rollback)\n'
elif [[ $DRY_RUN == 1 ]]; then
  would wrangler "${ROLLBACK_ARGS[@]}"
elif wrangler_cmd "${ROLLBACK_ARGS[@]}" 2>&1 | indent; then
  ok "edge Worker rolled back to ${VERSION:-the previous version}"
else
  bad "wrangler rollback failed"
  FAILED+=("Worker rollback")
fi

step "3/3 Verify: the rollout is stopped and visitors get stable"
if [[ $DRY_RUN == 1 ]]; then
  would npx rollout status --json
  would curl -sS -D - -o /dev/null "$URL$CHECK_PATH"
  database_reminder
  dry_run_done
fi
deadline=$((SECONDS + VERIFY_TIMEOUT))
while :; do
  status_line="" cohort_line="" status_ok=0 cohort_ok=0
  if status=$(rollout status --json 2>&1) && status_line=$(node -e "$STOPPED_CHECK" <<<"$status"); then
    status_ok=1
  elif [[ -z $status_line ]]; then
    status_line="status unreadable: $(head -n 1 <<<"$status")"
  fi
  # Five fresh visitors (no cookie), so a sticky canary cookie cannot hide the answer.
  cohorts=""
  for _ in 1 2 3 4 5; do
    cohort=$(curl -sS -o /dev/null -D - --max-time 10 "$URL$CHECK_PATH" 2>/dev/null | tr -d '\r' |
      awk 'tolower($1) == "x-rollout-cohort:" { print $2 }') || cohort="(no answer)"
    cohorts+="$cohort"$'\n'
  done
  stable_count=$(grep -c '^stable$' <<<"$cohorts" || true)
  cohort_line="$stable_count of 5 fresh requests to $CHECK_PATH answered x-rollout-cohort: stable"
  [[ $stable_count == 5 ]] && cohort_ok=1
  if [[ $status_ok == 1 && $cohort_ok == 1 ]] || ((SECONDS >= deadline)); then break; fi
  remaining=$((deadline - SECONDS))
  sleep $((remaining < 5 ? (remaining > 1 ? remaining : 1) : 5))
done
if [[ $status_ok == 1 ]]; then ok "status: $status_line"; else bad "status: $status_line" && FAILED+=("verification"); fi
if [[ $cohort_ok == 1 ]]; then ok "$cohort_line"; else bad "$cohort_line" && FAILED+=("verification"); fi

database_reminder
if [[ ${#FAILED[@]} -eq 0 ]]; then
  printf '\nRolled back and verified. The kill switch or aborted state stays until you change it.\n'
else
  printf '\nRollback incomplete: %s failed. See docs/CLI.md (rollback.sh).\n' "$(printf '%s\n' "${FAILED[@]}" | sort -u | paste -sd, -)" >&2
  exit 1
fi
