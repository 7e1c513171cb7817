#!/usr/bin/env bash
# crontab.sh: writes the management instance's crontab from a list of schedules. Each schedule gets a
# CRON_TZ= line (cronie, the cron of Oracle Linux, applies CRON_TZ per entry) and a line that runs
# schedule.sh with the function OCID and the request body.
#
# Terraform renders the same crontab in terraform/schedules.tf (local.crontab) and cloud-init installs
# that one; test/scripts checks that both give the same lines. Change them together.
#
# Usage:
#   crontab.sh --schedules FILE|- --start-function-id OCID --stop-function-id OCID [options]
#
# Options:
#   --schedules FILE       JSON array of {"name", "cron", "time_zone", "function": "start"|"stop", "body": {...},
#                          "topic_id"?, "notify"?, "skip_dates"?, "expected_gap_hours"?} ("-" reads standard input):
#                          topic_id (ocid1.onstopic...) and notify ("failures" | "always") become schedule.sh
#                          --topic-id/--notify; skip_dates (["YYYY-MM-DD", ...], in time_zone) becomes
#                          --time-zone/--skip-dates; expected_gap_hours is for Terraform's alarm only
#   --start-function-id    OCID of start-compute (ocid1.fnfunc...)
#   --stop-function-id     OCID of stop-compute (ocid1.fnfunc...)
#   --compartment-id OCID  added to a body as "compartment_id" when it names no target
#                          (instance_id, instance_ids or compartment_id); required if such a body exists
#   --schedule-script PATH schedule.sh on the management instance (default /opt/oci-compute-power/schedule.sh)
#   --log-dir DIR          schedule.sh --log-dir (default /var/log/oci-compute-power)
#   --oci-bin PATH         OCI_BIN for the cron jobs (default /opt/oci-cli/bin/oci)
#   -h, --help             this text
#
# Validation (exit 2 with a message naming the schedule and the field): names are unique,
# [a-z0-9][a-z0-9-]* up to 63 characters; cron expressions have 5 fields (minute hour day-of-month
# month day-of-week) of numbers, ranges, lists, steps and names within range; time zones look like
# Area/City or UTC; function is start or stop; body is a JSON object; topic_id is a topic OCID; notify
# is failures or always; skip_dates are real dates YYYY-MM-DD; expected_gap_hours is a whole number 0-71.
set -euo pipefail

readonly EXIT_USAGE=2
prog="crontab.sh"

usage() {
  sed -n '2,/^set -euo pipefail$/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
}

die() {
  echo "$prog: $*" >&2
  exit "$EXIT_USAGE"
}

require_value() {
  [ "$2" -ge 2 ] || die "$1 needs a value"
}

schedules_file=""
start_id=""
stop_id=""
compartment_id=""
schedule_script="/opt/oci-compute-power/schedule.sh"
log_dir="/var/log/oci-compute-power"
oci_bin="/opt/oci-cli/bin/oci"

while [ "$#" -gt 0 ]; do
  case "$1" in
    -h | --help)
      usage
      exit 0
      ;;
    --schedules)
      require_value "$1" "$#"
      schedules_file="$2"
      shift 2
      ;;
    --start-function-id)
      require_value "$1" "$#"
      start_id="$2"
      shift 2
      ;;
    --stop-function-id)
      require_value "$1" "$#"
      stop_id="$2"
      shift 2
      ;;
    --compartment-id)
      require_value "$1" "$#"
      compartment_id="$2"
      shift 2
      ;;
    --schedule-script)
      require_value "$1" "$#"
      schedule_script="$2"
      shift 2
      ;;
    --log-dir)
      require_value "$1" "$#"
      log_dir="$2"
      shift 2
      ;;
    --oci-bin)
      require_value "$1" "$#"
      oci_bin="$2"
      shift 2
      ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done

command -v jq >/dev/null 2>&1 || die "jq is required (Oracle Linux: dnf install -y jq; Debian: apt-get install -y jq)"
[ -n "$schedules_file" ] || die "--schedules is required (a JSON file, or - for standard input)"
[ -n "$start_id" ] || die "--start-function-id is required"
[ -n "$stop_id" ] || die "--stop-function-id is required"
for id in "$start_id" "$stop_id"; do
  [[ "$id" =~ ^ocid1\.fnfunc\.[A-Za-z0-9._-]+$ ]] || die "'$id' is not a function OCID (expected ocid1.fnfunc....)"
done
if [ -n "$compartment_id" ] && ! [[ "$compartment_id" =~ ^ocid1\.(compartment|tenancy)\.[A-Za-z0-9._-]+$ ]]; then
  die "--compartment-id '$compartment_id' is not a compartment or tenancy OCID"
fi
for path in "$schedule_script" "$log_dir" "$oci_bin"; do
  [[ "$path" =~ ^/[A-Za-z0-9._/-]+$ ]] || die "'$path' must be an absolute path of letters, digits, '.', '_', '-' and '/'"
done

if [ "$schedules_file" = "-" ]; then
  schedules="$(cat)"
else
  [ -r "$schedules_file" ] || die "cannot read schedules file '$schedules_file'"
  schedules="$(cat "$schedules_file")"
fi
printf '%s' "$schedules" | jq -e 'type == "array"' >/dev/null 2>&1 || die "the schedules must be a JSON array"

# One jq program validates every schedule and prints either "error<TAB>message" lines or the crontab.
# shellcheck disable=SC2016 # $variables below are jq's, not the shell's
program='
def field_ranges: [[0,59],[0,23],[1,31],[1,12],[0,7]];
def field_names: ["minute","hour","day-of-month","month","day-of-week"];
def month_names: {jan:1,feb:2,mar:3,apr:4,may:5,jun:6,jul:7,aug:8,sep:9,oct:10,nov:11,dec:12};
def dow_names: {sun:0,mon:1,tue:2,wed:3,thu:4,fri:5,sat:6};
def value($i): ascii_downcase as $v
  | if test("^[0-9]+$") then tonumber
    elif $i == 3 and (month_names | has($v)) then month_names[$v]
    elif $i == 4 and (dow_names | has($v)) then dow_names[$v]
    else null end;
# Empty when the field is valid, else a message.
def field_error($i):
  . as $f | field_ranges[$i] as $r | field_names[$i] as $n
  | [ split(",")[] as $item
      | ([ $item | capture("^(?<base>[^/]+)(/(?<step>[0-9]+))?$") ] | first) as $m
      | if $m == null then "\($n) field \"\($f)\": \"\($item)\" is not a number, range, list or step"
        elif $m.step != null and ($m.step | tonumber) < 1 then "\($n) field \"\($f)\": step must be at least 1"
        elif $m.base == "*" then empty
        else ($m.base | split("-")) as $ends
          | if ($ends | length) > 2 then "\($n) field \"\($f)\": \"\($m.base)\" is not a range"
            else [ $ends[] | value($i) ] as $vals
              | if any($vals[]; . == null) then "\($n) field \"\($f)\": \"\($m.base)\" is not a number\(if $i >= 3 then " or name" else "" end)"
                elif any($vals[]; . < $r[0] or . > $r[1]) then "\($n) field \"\($f)\": values must be \($r[0])-\($r[1])"
                elif ($vals | length) == 2 and $vals[0] > $vals[1] then "\($n) field \"\($f)\": range \"\($m.base)\" goes backwards"
                else empty end
            end
        end
    ] | first // empty;
def cron_error: [ scan("\\S+") ] as $fields
  | if ($fields | length) != 5 then "cron \"\(.)\" must have 5 fields (minute hour day-of-month month day-of-week), found \($fields | length)"
    else [ range(0; 5) as $i | $fields[$i] | field_error($i) ] | first // empty end;
# A real calendar date (2026-02-30 is not): parsed and printed back unchanged.
def is_date: type == "string" and test("^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
  and ((try (strptime("%Y-%m-%d") | mktime | strftime("%Y-%m-%d")) catch null) == .);
def schedule_errors($seen):
  (.name // "") as $name
  | (if ($name | type) != "string" or ($name | test("^[a-z0-9][a-z0-9-]{0,62}$") | not)
     then "name \"\($name)\" is invalid: use lowercase letters, digits and -, starting with a letter or digit, at most 63 characters"
     elif $seen[$name] then "name \"\($name)\" is used by more than one schedule" else empty end),
    (if (.cron | type) != "string" then "cron must be a string" else (.cron | cron_error) end),
    (if (.time_zone | type) != "string" or (.time_zone | test("^(UTC|[A-Za-z]+(/[A-Za-z0-9_+-]+)+)$") | not)
     then "time_zone \"\(.time_zone)\" must be an IANA name such as Europe/Paris, or UTC" else empty end),
    (if .function != "start" and .function != "stop" then "function \"\(.function)\" must be \"start\" or \"stop\"" else empty end),
    (if (.body | type) != "object" then "body must be a JSON object" else empty end),
    (if .topic_id == null or ((.topic_id | type) == "string" and (.topic_id | test("^ocid1\\.onstopic\\.[A-Za-z0-9._-]+$"))) then empty
     else "topic_id \"\(.topic_id)\" must be a Notifications topic OCID (ocid1.onstopic...)" end),
    (if .notify == null or .notify == "failures" or .notify == "always" then empty
     else "notify \"\(.notify)\" must be \"failures\" or \"always\"" end),
    (if .skip_dates == null then empty
     elif (.skip_dates | type) != "array" then "skip_dates must be a list of dates YYYY-MM-DD"
     else .skip_dates[] | select(is_date | not) | "skip_dates: \"\(.)\" is not a date YYYY-MM-DD" end),
    (if .expected_gap_hours == null then empty
     elif (.expected_gap_hours | type) == "number" and .expected_gap_hours == (.expected_gap_hours | floor)
          and .expected_gap_hours >= 0 and .expected_gap_hours <= 71 then empty
     else "expected_gap_hours \"\(.expected_gap_hours)\" must be a whole number of hours from 1 to 71, or 0 (no dead-man'"'"'s switch)" end);
def has_target: [ .instance_id, .instance_ids, .compartment_id ] | any(. != null);
# Like jsonencode in Terraform: keys sorted at every level, no spaces, <, > and & escaped.
def tf_json: walk(if type == "object" then to_entries | sort_by(.key) | from_entries else . end) | tojson
  | gsub("<"; "\\u003c") | gsub(">"; "\\u003e") | gsub("&"; "\\u0026");
# The schedule.sh options of the alerts and holidays, only when set: a schedule without them renders as before.
def notify_args:
  (if .topic_id != null then " --topic-id \(.topic_id)" else "" end)
  + (if .notify == "always" then " --notify always" else "" end)
  + (if (.skip_dates // []) | length > 0 then " --time-zone \(.time_zone) --skip-dates \(.skip_dates | join(","))" else "" end);
# For a single-quoted shell word on a cron line: a quote becomes quote-backslash-quote-quote, and
# % (a newline to cron) becomes \%.
def esc_shell: gsub("\u0027"; "\u0027\\\u0027\u0027") | gsub("%"; "\\%");

. as $all
| [ range(0; length) as $i | $all[$i] as $s
    | ([ $all[0:$i][] | .name ] | map({key: (. // "" | tostring), value: true}) | from_entries) as $seen
    | ($s | if type == "object" then schedule_errors($seen) else "must be an object" end)
    | "schedule \($i) (\($s.name? // "unnamed")): \(.)" ] as $errors
| if ($errors | length) > 0 then $errors[] | "error\t\(.)"
  elif any(.[]; (.body | with_entries(select(.value != null)) | has_target | not)) and $compartment == ""
  then "error\ta schedule body names no target (instance_id, instance_ids or compartment_id): pass --compartment-id"
  else
    "# oci-compute-power: generated from the schedules list (Terraform variable \"schedules\" or scripts/crontab.sh).",
    "# Installed for the opc user by cloud-init; edits are overwritten on the next apply.",
    "SHELL=/bin/bash",
    "PATH=/usr/local/bin:/usr/bin:/bin",
    "MAILTO=\"\"",
    "OCI_BIN=\($oci_bin)",
    ( .[]
      | (.body | with_entries(select(.value != null))) as $b
      | (if ($b | has_target) then $b else {compartment_id: $compartment} + $b end) as $body
      | ([ .cron | scan("\\S+") ] | join(" ")) as $cron
      | "",
        "# \(.name): \(.function)-compute at \u0027\($cron)\u0027 (\(.time_zone))",
        "CRON_TZ=\(.time_zone)",
        "\($cron) \($script) --name \(.name) --function-id \($ids[.function]) --body \u0027\($body | tf_json | esc_shell)\u0027 --log-dir \($log_dir)\(notify_args) 2>&1 | logger -t oci-compute-power"
    )
  end
'

output="$(printf '%s' "$schedules" | jq -r \
  --arg compartment "$compartment_id" \
  --arg script "$schedule_script" \
  --arg log_dir "$log_dir" \
  --arg oci_bin "$oci_bin" \
  --argjson ids "$(jq -cn --arg start "$start_id" --arg stop "$stop_id" '{start: $start, stop: $stop}')" \
  "$program")" || die "could not process the schedules (jq failed)"

if grep -q $'^error\t' <<<"$output"; then
  grep $'^error\t' <<<"$output" | cut -f2- | sed "s/^/$prog: /" >&2
  exit "$EXIT_USAGE"
fi

printf '%s\n' "$output"
