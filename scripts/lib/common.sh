# Shared by the launch scripts (sourced, never run). Each script sets SCRIPT_NAME and ROOT first.
# shellcheck shell=bash

PERCENT_RE='^[0-9]{1,3}(\.[0-9]{1,2})?$'
URL_RE='^https?://[^[:space:]]+$'

die_usage() {
  echo "error: $*" >&2
  echo "usage: scripts/$SCRIPT_NAME [options] (see --help)" >&2
  exit 2
}

# Called as `need_value "$@"` before reading $2, in the main shell so that die_usage exits it.
need_value() {
  [[ $# -ge 2 && -n "$2" && "$2" != --* ]] || die_usage "$1 needs a value"
}

rollout() { node "$ROOT/bin/rollout.mjs" "$@"; }
# A wrangler first on PATH wins (the script tests put a stub there); else the project's own.
wrangler_cmd() {
  if command -v wrangler >/dev/null 2>&1; then wrangler "$@"; else npx --no wrangler "$@"; fi
}

ok() { printf '     ✔ %s\n' "$*"; }
indent() { sed 's/^/       /'; }
# Words as a shell would need them typed: bare when safe, else in single quotes.
shell_words() {
  local word out=""
  for word in "$@"; do
    if [[ $word =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then
      out+=" $word"
    elif [[ $word != *"'"* ]]; then
      out+=" '$word'"
    else
      out+=" $(printf '%q' "$word")"
    fi
  done
  printf '%s' "${out# }"
}
would() { printf '     would run: %s\n' "$(shell_words "$@")"; }

# Checks the wrangler environment name and the Worker URL every script takes.
validate_env_and_url() {
  [[ $ENV_NAME =~ ^[A-Za-z0-9_-]{1,64}$ ]] || die_usage "--env must be 1-64 chars of [A-Za-z0-9_-]"
  [[ -n $URL ]] || die_usage "no Worker URL: pass --url or set ROLLOUT_URL"
  [[ $URL =~ $URL_RE ]] || die_usage "--url must be an http(s) URL"
}
