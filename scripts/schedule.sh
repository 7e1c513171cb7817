#!/usr/bin/env bash
# schedule.sh: one scheduled run of start-compute or stop-compute, as cron runs it on the management
# instance. It invokes the function with the OCI CLI:
#
#   oci --auth instance_principal --read-timeout 330 fn function invoke --function-id <ocid> --file <response> --body '<json>'
#
# takes a lock so runs of one schedule never overlap, appends one timestamped JSON line per run to
# <log-dir>/<name>.log (rotated by size), and exits non-zero when the invoke fails or the function
# answers "ok": false. The body gains "schedule": "<name>" (unless it has one) so the function's
# metrics name the schedule. With a topic, a run that does not end in 0 is published to OCI
# Notifications (oci ons message publish); on a date of --skip-dates nothing is invoked.
#
# Usage:
#   schedule.sh --name <schedule> --function-id <ocid> --body '<json>' [options] [-- <extra oci args>]
#
# Options:
#   --name NAME          schedule name ([a-z0-9][a-z0-9-]*, max 63): names the log and the lock
#   --function-id OCID   the function to invoke (ocid1.fnfunc...)
#   --body JSON          the request body (a JSON object)
#   --log-dir DIR        where <name>.log, its rotations and <name>.lock live
#                        (default $SCHEDULE_LOG_DIR, else $HOME/.local/state/oci-compute-power)
#   --max-bytes N        rotate <name>.log once it reaches N bytes (default $SCHEDULE_LOG_MAX_BYTES or 1048576)
#   --keep N             rotated files kept: <name>.log.1 .. <name>.log.N (default $SCHEDULE_LOG_KEEP or 5)
#   --read-timeout N     the CLI's --read-timeout in seconds: how long it waits for the function's answer
#                        (default $SCHEDULE_READ_TIMEOUT or 330; the CLI's own default of 60 is shorter
#                        than a function may run, up to 300 s)
#   --timeout N          kill the CLI after N seconds, so a hung run cannot hold the lock forever
#                        (default $SCHEDULE_TIMEOUT or 900)
#   --topic-id OCID      publish to this ONS topic (ocid1.onstopic...) when a run does not end in 0
#                        (default $NOTIFY_TOPIC_ID; none: no notification)
#   --notify WHEN        failures (default, or $SCHEDULE_NOTIFY) | always (a digest of every run)
#   --skip-dates LIST    comma-separated YYYY-MM-DD dates (holidays) on which nothing is invoked; the date
#                        is today's in --time-zone
#   --time-zone TZ       the schedule's IANA time zone for --skip-dates (default $SCHEDULE_TIME_ZONE or UTC)
#   -- ARGS...           passed to the OCI CLI after the invoke arguments (e.g. --fn-invoke-type detached)
#   -h, --help           this text
#
# Environment:
#   OCI_BIN              the OCI CLI binary (default: oci)
#   OCI_CLI_AUTH_ARGS    global CLI arguments placed before "fn function invoke"; default
#                        "--auth instance_principal". Split on whitespace (no quoting), e.g. for a local
#                        run: OCI_CLI_AUTH_ARGS="--config-file /path/config --endpoint http://127.0.0.1:8080"
#                        (the publish to --topic-id uses the same arguments)
#   SCHEDULE_NOW         epoch seconds to take as "now" for --skip-dates (tests; default: the clock)
#
# Exit codes:
#   0  the function answered and its response does not say "ok": false, or today is in --skip-dates
#   2  usage or environment error (bad argument, missing tool, log directory not writable)
#   3  the invoke failed (OCI CLI exit code non-zero) or the response is not a JSON object
#   4  the function answered "ok": false (some instance failed or the request was refused)
#   75 another run of this schedule holds the lock: this run did nothing
#   A failed publish never changes the exit code.
#
# Log line (one JSON object per run, keys in this order):
#   {"ts","schedule","function_id","status","exit_code","oci_exit_code","duration_ms","response"?,"error"?,"skipped"?}
#   status: ok | function_failed | invoke_failed | bad_response | skipped_locked | skipped_holiday
#   ("skipped": "holiday" with skipped_holiday). A failed publish adds a line
#   {"ts","schedule","status":"notify_failed","topic_id","oci_exit_code","error"}.
#
# The notification: title "oci-compute-power: <name> <what happened>"; body the run's JSON line (the
# response's per-instance "results" left out) and, for ok: false, one JSON line per failed instance
# {"id","name","code","message"}, trimmed to ONS's 64 KB message limit with a count of what was left out.
set -euo pipefail

readonly EXIT_USAGE=2
readonly EXIT_INVOKE_FAILED=3
readonly EXIT_FUNCTION_FAILED=4
readonly EXIT_LOCKED=75
readonly MAX_ERROR_CHARS=2000
# ONS: "Message size limit per request: 64KB". Measured on the JSON the CLI sends (title and body,
# escaped), with room for the keys and quotes around them.
readonly ONS_MAX_BYTES=65536
readonly ONS_OVERHEAD_BYTES=256
readonly PUBLISH_TIMEOUT=60

prog="schedule.sh"

usage() {
  sed -n '2,/^set -euo pipefail$/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
}

fail_usage() {
  echo "$prog: $*" >&2
  echo "$prog: see '$prog --help'" >&2
  exit "$EXIT_USAGE"
}

require_value() {
  # $1 option, $2 number of remaining args (including the option)
  [ "$2" -ge 2 ] || fail_usage "$1 needs a value"
}

is_positive_int() {
  [[ "$1" =~ ^[1-9][0-9]*$ ]]
}

name=""
function_id=""
body=""
log_dir="${SCHEDULE_LOG_DIR:-${HOME:-/tmp}/.local/state/oci-compute-power}"
max_bytes="${SCHEDULE_LOG_MAX_BYTES:-1048576}"
keep="${SCHEDULE_LOG_KEEP:-5}"
read_timeout="${SCHEDULE_READ_TIMEOUT:-330}"
run_timeout="${SCHEDULE_TIMEOUT:-900}"
topic_id="${NOTIFY_TOPIC_ID:-}"
notify="${SCHEDULE_NOTIFY:-failures}"
skip_dates=""
time_zone="${SCHEDULE_TIME_ZONE:-UTC}"
extra_args=()

while [ "$#" -gt 0 ]; do
  case "$1" in
    -h | --help)
      usage
      exit 0
      ;;
    --name)
      require_value "$1" "$#"
      name="$2"
      shift 2
      ;;
    --function-id)
      require_value "$1" "$#"
      function_id="$2"
      shift 2
      ;;
    --body)
      require_value "$1" "$#"
      body="$2"
      shift 2
      ;;
    --log-dir)
      require_value "$1" "$#"
      log_dir="$2"
      shift 2
      ;;
    --max-bytes)
      require_value "$1" "$#"
      max_bytes="$2"
      shift 2
      ;;
    --keep)
      require_value "$1" "$#"
      keep="$2"
      shift 2
      ;;
    --read-timeout)
      require_value "$1" "$#"
      read_timeout="$2"
      shift 2
      ;;
    --timeout)
      require_value "$1" "$#"
      run_timeout="$2"
      shift 2
      ;;
    --topic-id)
      require_value "$1" "$#"
      topic_id="$2"
      shift 2
      ;;
    --notify)
      require_value "$1" "$#"
      notify="$2"
      shift 2
      ;;
    --skip-dates)
      require_value "$1" "$#"
      skip_dates="$2"
      shift 2
      ;;
    --time-zone)
      require_value "$1" "$#"
      time_zone="$2"
      shift 2
      ;;
    --)
      shift
      extra_args=("$@")
      break
      ;;
    *) fail_usage "unknown argument '$1'" ;;
  esac
done

[ -n "$name" ] || fail_usage "--name is required"
[[ "$name" =~ ^[a-z0-9][a-z0-9-]{0,62}$ ]] ||
  fail_usage "--name '$name' is invalid: use lowercase letters, digits and '-', starting with a letter or digit, at most 63 characters"
[ -n "$function_id" ] || fail_usage "--function-id is required"
[[ "$function_id" =~ ^ocid1\.fnfunc\.[A-Za-z0-9._-]+$ ]] ||
  fail_usage "--function-id '$function_id' is not a function OCID (expected ocid1.fnfunc....)"
[ -n "$body" ] || fail_usage "--body is required (a JSON object, e.g. '{\"instance_id\": \"ocid1.instance...\"}')"
is_positive_int "$max_bytes" || fail_usage "--max-bytes must be a positive integer, got '$max_bytes'"
is_positive_int "$keep" || fail_usage "--keep must be a positive integer, got '$keep'"
is_positive_int "$read_timeout" || fail_usage "--read-timeout must be a positive integer, got '$read_timeout'"
is_positive_int "$run_timeout" || fail_usage "--timeout must be a positive integer, got '$run_timeout'"

if [ -n "$topic_id" ] && ! [[ "$topic_id" =~ ^ocid1\.onstopic\.[A-Za-z0-9._-]+$ ]]; then
  fail_usage "--topic-id '$topic_id' is not a Notifications topic OCID (expected ocid1.onstopic....)"
fi
[ "$notify" = "failures" ] || [ "$notify" = "always" ] ||
  fail_usage "--notify must be 'failures' or 'always', got '$notify'"
[[ "$time_zone" =~ ^(UTC|[A-Za-z]+(/[A-Za-z0-9_+-]+)+)$ ]] ||
  fail_usage "--time-zone '$time_zone' must be an IANA name such as Europe/Paris, or UTC"
if [ "$time_zone" != "UTC" ] && [ -d /usr/share/zoneinfo ] && [ ! -f "/usr/share/zoneinfo/$time_zone" ]; then
  fail_usage "--time-zone '$time_zone' is not a time zone of this system (/usr/share/zoneinfo)"
fi
if [ -n "$skip_dates" ]; then
  IFS=',' read -r -a skip_list <<<"$skip_dates"
  for d in "${skip_list[@]}"; do
    [[ "$d" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]] && [ "$(date -u -d "$d" +%F 2>/dev/null)" = "$d" ] ||
      fail_usage "--skip-dates: '$d' is not a date YYYY-MM-DD"
  done
fi
if [ -n "${SCHEDULE_NOW:-}" ] && ! [[ "$SCHEDULE_NOW" =~ ^[0-9]+$ ]]; then
  fail_usage "SCHEDULE_NOW must be epoch seconds, got '$SCHEDULE_NOW'"
fi

command -v timeout >/dev/null 2>&1 || fail_usage "timeout (GNU coreutils) is required"
command -v flock >/dev/null 2>&1 || fail_usage "flock (util-linux) is required"
command -v jq >/dev/null 2>&1 || fail_usage "jq is required (Oracle Linux: dnf install -y jq; Debian: apt-get install -y jq)"
oci_bin="${OCI_BIN:-oci}"
command -v "$oci_bin" >/dev/null 2>&1 ||
  fail_usage "OCI CLI '$oci_bin' not found: install it (pip install oci-cli) or set OCI_BIN to its path"

printf '%s' "$body" | jq -e 'type == "object"' >/dev/null 2>&1 || fail_usage "--body must be a JSON object"
# Send the body compact, as one argument, naming its schedule for the function's metrics.
body="$(printf '%s' "$body" | jq -c --arg s "$name" 'if has("schedule") then . else . + {schedule: $s} end')"

auth_args=()
if [ -n "${OCI_CLI_AUTH_ARGS+set}" ]; then
  read -r -a auth_args <<<"$OCI_CLI_AUTH_ARGS" || true
else
  auth_args=(--auth instance_principal)
fi

mkdir -p "$log_dir" 2>/dev/null || fail_usage "cannot create log directory '$log_dir'"
[ -w "$log_dir" ] || fail_usage "log directory '$log_dir' is not writable"
log_file="$log_dir/$name.log"
lock_file="$log_dir/$name.lock"

now_iso() { date -u +%Y-%m-%dT%H:%M:%S.%3NZ; }
now_ms() { date +%s%3N; }

started_iso="$(now_iso)"
started_ms="$(now_ms)"
last_line=""

# write_log status exit_code oci_exit_code [response_file] [error_text]
write_log() {
  local status="$1" code="$2" oci_code="$3" response_file="${4:-}" error_text="${5:-}"
  local duration=$(($(now_ms) - started_ms))
  # The response is read from its file (--slurpfile), never passed as an argument: a response for
  # a thousand instances is larger than one command-line argument may be.
  local response_source="/dev/null" line
  if [ -n "$response_file" ] && [ -s "$response_file" ] && jq -e . "$response_file" >/dev/null 2>&1; then
    response_source="$response_file"
  fi
  line="$(jq -cn \
    --arg ts "$started_iso" \
    --arg schedule "$name" \
    --arg function_id "$function_id" \
    --arg status "$status" \
    --argjson exit_code "$code" \
    --argjson oci_exit_code "$oci_code" \
    --argjson duration_ms "$duration" \
    --slurpfile response "$response_source" \
    --arg error "$error_text" \
    '{ts: $ts, schedule: $schedule, function_id: $function_id, status: $status, exit_code: $exit_code,
      oci_exit_code: $oci_exit_code, duration_ms: $duration_ms}
     + (if ($response | length) == 0 then {} else {response: $response[0]} end)
     + (if $error == "" then {} else {error: $error} end)
     + (if $status == "skipped_holiday" then {skipped: "holiday"} else {} end)')"
  printf '%s\n' "$line" >>"$log_file"
  last_line="$line"
}

# Rotate <name>.log -> .1 -> .2 ... keeping $keep files. Called with the lock held.
rotate_log() {
  [ -f "$log_file" ] || return 0
  local size
  size="$(wc -c <"$log_file")"
  [ "$size" -ge "$max_bytes" ] || return 0
  rm -f "$log_file.$keep"
  local i
  for ((i = keep - 1; i >= 1; i--)); do
    if [ -f "$log_file.$i" ]; then
      mv -f "$log_file.$i" "$log_file.$((i + 1))"
    fi
  done
  mv -f "$log_file" "$log_file.1"
}

# The notification's title: the schedule and what happened, at most 255 characters.
notify_title() {
  local status="$1" code="$2" what
  case "$status" in
    ok) what="ok: $(printf '%s' "$last_line" | jq -r '.response.message // "done"')" ;;
    skipped_holiday) what="skipped: $today is a holiday (--skip-dates), nothing was invoked" ;;
    invoke_failed) what="FAILED: the function could not be invoked (exit $code)" ;;
    bad_response) what="FAILED: the function's answer was not a JSON object (exit $code)" ;;
    function_failed) what="FAILED: $(printf '%s' "$last_line" | jq -r '.response.message // .response.error.message // "ok is false"') (exit $code)" ;;
    skipped_locked) what="did not run: the previous run still holds the lock (exit $code)" ;;
    *) what="$status (exit $code)" ;;
  esac
  printf 'oci-compute-power: %s %s' "$name" "$what" | head -c 255
}

# The notification's body, from the run's JSON line on stdin; the title's size counts against the limit.
# shellcheck disable=SC2016 # $variables below are jq's, not the shell's
notify_body() {
  jq -r --argjson budget "$((ONS_MAX_BYTES - ONS_OVERHEAD_BYTES - $(printf '%s' "$1" | jq -Rs 'tojson | utf8bytelength')))" '
    # Bytes a line takes in the JSON the CLI sends: escaped, plus its escaped newline.
    def cost: tojson | utf8bytelength;
    (if (.response? | type) == "object" then .response |= del(.results) else . end | tojson) as $head
    | [ (.response.results? // [])[] | select(.outcome == "failed")
        | {id: .instance_id, name: (.display_name // null), code: (.error.code // null),
           message: ((.error.message // "") | .[0:1000])} | tojson ] as $failed
    | ($budget - 200 - ($head | cost)) as $room
    | (reduce $failed[] as $f ({shown: [], used: 0, full: false};
        if .full then . else ($f | cost) as $c
          | if .used + $c <= $room then .shown += [$f] | .used += $c else .full = true end end)) as $fit
    | ($failed | length) as $n | ($fit.shown | length) as $k
    | [$head]
      + (if $n == 0 then [] else ["", "Failed instances: \($n)"] + $fit.shown
          + (if $n > $k then ["... \($n - $k) more failed instances left out to fit the 64 KB message limit"] else [] end)
         end)
    | join("\n")'
}

# Publishes the run to the topic when it did not end in 0 (or always, with --notify always). A failed
# publish is reported on stderr and in the log; it never changes the run's exit code.
notify_run() {
  local status="$1" code="$2" title msg err pub_code=0
  [ -n "$topic_id" ] || return 0
  [ "$code" -ne 0 ] || [ "$notify" = "always" ] || return 0
  title="$(notify_title "$status" "$code")"
  msg="$(printf '%s' "$last_line" | notify_body "$title")" || msg="$last_line"
  err="$(mktemp "${TMPDIR:-/tmp}/schedule-$name-publish.XXXXXX")"
  timeout --kill-after=5 "$PUBLISH_TIMEOUT" \
    "$oci_bin" "${auth_args[@]}" ons message publish \
    --topic-id "$topic_id" --title "$title" --body "$msg" >/dev/null 2>"$err" || pub_code=$?
  if [ "$pub_code" -ne 0 ]; then
    local text
    text="$(tail -c "$MAX_ERROR_CHARS" "$err")"
    [ -n "$text" ] || text="OCI CLI exited with code $pub_code and no message"
    echo "$prog: publishing to topic $topic_id failed (OCI CLI exit code $pub_code): $text" >&2
    jq -cn --arg ts "$(now_iso)" --arg schedule "$name" --arg topic_id "$topic_id" \
      --argjson oci_exit_code "$pub_code" --arg error "$text" \
      '{ts: $ts, schedule: $schedule, status: "notify_failed", topic_id: $topic_id,
        oci_exit_code: $oci_exit_code, error: $error}' >>"$log_file" || true
  fi
  rm -f "$err"
}

# Ends the run: notify if asked, then exit with the run's code.
finish() {
  notify_run "$2" "$1" || true
  exit "$1"
}

today="$(TZ="$time_zone" date ${SCHEDULE_NOW:+-d "@$SCHEDULE_NOW"} +%F)"
if [ -n "$skip_dates" ] && [[ ",$skip_dates," == *",$today,"* ]]; then
  echo "$prog: $today ($time_zone) is in --skip-dates: schedule '$name' invoked nothing" >&2
  write_log skipped_holiday 0 null "" ""
  finish 0 skipped_holiday
fi

exec 8>>"$lock_file"
if ! flock -n 8; then
  message="schedule '$name' is already running (lock $lock_file is held): this run did nothing"
  echo "$prog: $message" >&2
  write_log skipped_locked "$EXIT_LOCKED" null "" "$message"
  finish "$EXIT_LOCKED" skipped_locked
fi

rotate_log

work_dir="$(mktemp -d "${TMPDIR:-/tmp}/schedule-$name.XXXXXX")"
trap 'rm -rf "$work_dir"' EXIT
response_file="$work_dir/response.json"
stderr_file="$work_dir/stderr.txt"

oci_code=0
timeout --kill-after=10 "$run_timeout" \
  "$oci_bin" "${auth_args[@]}" --read-timeout "$read_timeout" fn function invoke \
  --function-id "$function_id" \
  --file "$response_file" \
  --body "$body" \
  "${extra_args[@]}" >/dev/null 2>"$stderr_file" || oci_code=$?

if [ "$oci_code" -ne 0 ]; then
  error_text="$(tail -c "$MAX_ERROR_CHARS" "$stderr_file")"
  if [ "$oci_code" -eq 124 ] || [ "$oci_code" -eq 137 ]; then
    error_text="timed out after $run_timeout s (--timeout) waiting for the OCI CLI. ${error_text}"
  fi
  [ -n "$error_text" ] || error_text="OCI CLI exited with code $oci_code and no message"
  echo "$prog: invoke of $function_id failed (OCI CLI exit code $oci_code): $error_text" >&2
  write_log invoke_failed "$EXIT_INVOKE_FAILED" "$oci_code" "$response_file" "$error_text"
  finish "$EXIT_INVOKE_FAILED" invoke_failed
fi

if ! jq -e 'type == "object"' "$response_file" >/dev/null 2>&1; then
  raw="$(head -c "$MAX_ERROR_CHARS" "$response_file" 2>/dev/null || true)"
  message="the function's response is not a JSON object: ${raw:-<empty>}"
  echo "$prog: $message" >&2
  write_log bad_response "$EXIT_INVOKE_FAILED" "$oci_code" "" "$message"
  finish "$EXIT_INVOKE_FAILED" bad_response
fi

if [ "$(jq -r '.ok == false' "$response_file")" = "true" ]; then
  summary="$(jq -r '.message // .error.message // "ok is false"' "$response_file")"
  echo "$prog: the function answered ok=false: $summary" >&2
  write_log function_failed "$EXIT_FUNCTION_FAILED" "$oci_code" "$response_file"
  finish "$EXIT_FUNCTION_FAILED" function_failed
fi

write_log ok 0 "$oci_code" "$response_file"
finish 0 ok
