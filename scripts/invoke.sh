#!/usr/bin/env bash
# invoke.sh: calls start-compute or stop-compute once, by hand, and prints the function's response.
#
# Usage:
#   invoke.sh [options] <start|stop> '<json body>'
#
#   invoke.sh stop '{"instance_id": "ocid1.instance.oc1..."}'
#   invoke.sh start '{"compartment_id": "ocid1.compartment.oc1...", "freeform_tags": {"power-schedule": "office-hours"}}'
#   echo '{"instance_ids": ["ocid1.instance.oc1..."]}' | invoke.sh stop -
#
# Two ways to call, chosen in this order:
#   1. OCI CLI, when the function's OCID is known (--function-id, or START_FUNCTION_ID / STOP_FUNCTION_ID):
#        oci [$OCI_CLI_AUTH_ARGS] fn function invoke --function-id <ocid> --file - --body '<json>'
#   2. Fn CLI, when an application is named (--app, or FN_APP), with the current Fn context:
#        fn invoke <app> start-compute|stop-compute --content-type application/json   (body on stdin)
#
# Options:
#   --function-id OCID   invoke this function with the OCI CLI
#   --app NAME           invoke <NAME>/start-compute or <NAME>/stop-compute with the Fn CLI
#   --via oci|fn         force one of the two ways
#   -h, --help           this text
#
# Environment:
#   START_FUNCTION_ID, STOP_FUNCTION_ID   function OCIDs (terraform output start_function_id / stop_function_id)
#   FN_APP                                Fn application name (terraform output application_name)
#   OCI_BIN (default oci), FN_BIN (default fn)
#   OCI_CLI_AUTH_ARGS   global OCI CLI arguments, split on whitespace (default none: your ~/.oci/config
#                       DEFAULT profile), e.g. "--profile prod" or "--auth security_token"
#
# Exit codes: 0 the function answered (and not "ok": false, when jq is there to check); 2 usage or a
# missing tool/setting; 3 the invoke failed; 4 the function answered "ok": false.
set -euo pipefail

readonly EXIT_USAGE=2
readonly EXIT_INVOKE_FAILED=3
readonly EXIT_FUNCTION_FAILED=4
prog="invoke.sh"

usage() {
  sed -n '2,/^set -euo pipefail$/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
}

fail_usage() {
  echo "$prog: $*" >&2
  echo "$prog: see '$prog --help'" >&2
  exit "$EXIT_USAGE"
}

require_value() {
  [ "$2" -ge 2 ] || fail_usage "$1 needs a value"
}

function_id=""
app="${FN_APP:-}"
via=""
positional=()

while [ "$#" -gt 0 ]; do
  case "$1" in
    -h | --help)
      usage
      exit 0
      ;;
    --function-id)
      require_value "$1" "$#"
      function_id="$2"
      shift 2
      ;;
    --app)
      require_value "$1" "$#"
      app="$2"
      shift 2
      ;;
    --via)
      require_value "$1" "$#"
      via="$2"
      shift 2
      ;;
    --)
      shift
      positional+=("$@")
      break
      ;;
    -?*) fail_usage "unknown option '$1'" ;;
    *)
      positional+=("$1")
      shift
      ;;
  esac
done

[ "${#positional[@]}" -eq 2 ] || fail_usage "expected <start|stop> '<json body>' (got ${#positional[@]} arguments)"
action="${positional[0]}"
body="${positional[1]}"
case "$action" in
  start) env_function_id="${START_FUNCTION_ID:-}" ;;
  stop) env_function_id="${STOP_FUNCTION_ID:-}" ;;
  *) fail_usage "first argument must be start or stop, got '$action'" ;;
esac
function_name="$action-compute"
[ -n "$function_id" ] || function_id="$env_function_id"

if [ "$body" = "-" ]; then
  body="$(cat)"
fi
[ -n "$body" ] || fail_usage "the body is empty: pass a JSON object such as '{\"instance_id\": \"ocid1.instance...\"}'"
have_jq=false
if command -v jq >/dev/null 2>&1; then
  have_jq=true
  printf '%s' "$body" | jq -e 'type == "object"' >/dev/null 2>&1 || fail_usage "the body must be a JSON object"
fi

if [ -z "$via" ]; then
  if [ -n "$function_id" ]; then
    via=oci
  elif [ -n "$app" ]; then
    via=fn
  else
    fail_usage "nothing to invoke: set ${action^^}_FUNCTION_ID (or --function-id) to use the OCI CLI, or FN_APP (or --app) to use the Fn CLI"
  fi
fi

response_file="$(mktemp "${TMPDIR:-/tmp}/invoke-$action.XXXXXX")"
trap 'rm -f "$response_file"' EXIT
code=0
case "$via" in
  oci)
    [ -n "$function_id" ] || fail_usage "--via oci needs --function-id or ${action^^}_FUNCTION_ID"
    [[ "$function_id" =~ ^ocid1\.fnfunc\.[A-Za-z0-9._-]+$ ]] ||
      fail_usage "'$function_id' is not a function OCID (expected ocid1.fnfunc....)"
    oci_bin="${OCI_BIN:-oci}"
    command -v "$oci_bin" >/dev/null 2>&1 ||
      fail_usage "OCI CLI '$oci_bin' not found: install it (pip install oci-cli, or scripts/setup-tools.sh oci-cli) or set OCI_BIN"
    auth_args=()
    read -r -a auth_args <<<"${OCI_CLI_AUTH_ARGS:-}" || true
    "$oci_bin" "${auth_args[@]}" fn function invoke --function-id "$function_id" --file - --body "$body" \
      >"$response_file" || code=$?
    ;;
  fn)
    [ -n "$app" ] || fail_usage "--via fn needs --app or FN_APP"
    fn_bin="${FN_BIN:-fn}"
    command -v "$fn_bin" >/dev/null 2>&1 ||
      fail_usage "Fn CLI '$fn_bin' not found: install it (https://github.com/fnproject/cli) or use the OCI CLI with ${action^^}_FUNCTION_ID"
    printf '%s' "$body" | "$fn_bin" invoke "$app" "$function_name" --content-type application/json \
      >"$response_file" || code=$?
    ;;
  *) fail_usage "--via must be oci or fn, got '$via'" ;;
esac

cat "$response_file"
# Responses end without a newline; keep the terminal tidy.
[ ! -s "$response_file" ] || [ "$(tail -c 1 "$response_file" | od -An -c | tr -d ' ')" = '\n' ] || echo

if [ "$code" -ne 0 ]; then
  echo "$prog: invoking $function_name via $via failed (exit code $code)" >&2
  exit "$EXIT_INVOKE_FAILED"
fi
if [ "$have_jq" = true ] && jq -e '.ok == false' "$response_file" >/dev/null 2>&1; then
  echo "$prog: $function_name answered \"ok\": false" >&2
  exit "$EXIT_FUNCTION_FAILED"
fi
