#!/usr/bin/env bash
# override.sh: sets, shows or clears the power override of one instance (its power-override freeform
# tag), with the real OCI CLI and your own credentials. start-compute and stop-compute read the tag.
#
# Usage:
#   override.sh keep-running-until <time> --instance-id <ocid> [options]   stop-compute leaves it running until then
#   override.sh keep-stopped-until <time> --instance-id <ocid> [options]   start-compute leaves it stopped until then
#   override.sh skip  --instance-id <ocid> [options]                       neither function touches it
#   override.sh clear --instance-id <ocid> [options]                       remove the override
#   override.sh show  --instance-id <ocid> [options]                       print the override
#
#   override.sh keep-running-until 22:00 --instance-id ocid1.instance.oc1...
#   override.sh keep-stopped-until "2026-12-24 08:00" --instance-id ocid1.instance.oc1... --profile prod
#
# <time>, in your local time zone (TZ) unless it carries an offset:
#   HH:MM            the next time the clock shows it (today, or tomorrow if already past)
#   YYYY-MM-DD HH:MM (or with T, or with :SS)
#   an RFC 3339 time with an offset or Z, e.g. 2026-12-01T22:00:00Z or 2026-12-01T23:00:00+01:00
# It is written as RFC 3339 with your offset, and must be in the future and at most --max-days ahead.
#
# The script reads the instance, merges the override into its existing freeform tags (every other
# tag is kept; defined tags are not touched) and writes them back with the etag it read
# (--if-match): if the instance changed in between, nothing is written and it says so (exit 4).
#
# Options:
#   --instance-id OCID   the instance (required)
#   --tag-key KEY        the override tag key (default: $OVERRIDE_TAG_KEY or power-override); must
#                        match the functions' OVERRIDE_TAG_KEY
#   --max-days N         refuse a time more than N days ahead (default: $OVERRIDE_MAX_DAYS or 31), as
#                        the functions do
#   --profile NAME, --auth TYPE, --config-file PATH, --endpoint URL, --region REGION
#                        passed to the oci CLI as they are
#   -h, --help           this text
#
# Environment:
#   OCI_BIN (default oci)  the OCI CLI
#   OCI_CLI_AUTH_ARGS      more global OCI CLI arguments, split on whitespace (as in invoke.sh)
#   TZ                     the time zone of <time> without an offset
# Needs: the OCI CLI, jq, GNU date (coreutils; gdate on macOS).
#
# Exit codes: 0 done (or nothing to do); 2 usage or a missing tool; 3 the OCI CLI failed (read or
# write; its message is shown); 4 the instance changed between read and write (nothing written).
set -euo pipefail

readonly EXIT_USAGE=2
readonly EXIT_OCI=3
readonly EXIT_CONFLICT=4
prog="override.sh"

usage() {
  sed -n '2,/^set -euo pipefail$/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
}

fail_usage() {
  echo "$prog: $*" >&2
  echo "$prog: see '$prog --help'" >&2
  exit "$EXIT_USAGE"
}

fail() {
  local code="$1"
  shift
  echo "$prog: $*" >&2
  exit "$code"
}

require_value() {
  [ "$2" -ge 2 ] || fail_usage "$1 needs a value"
}

command_name=""
time_spec=""
instance_id=""
tag_key="${OVERRIDE_TAG_KEY:-power-override}"
max_days="${OVERRIDE_MAX_DAYS:-31}"
oci_args=()
if [ -n "${OCI_CLI_AUTH_ARGS:-}" ]; then
  read -r -a oci_args <<<"$OCI_CLI_AUTH_ARGS"
fi

while [ "$#" -gt 0 ]; do
  case "$1" in
    -h | --help)
      usage
      exit 0
      ;;
    --instance-id)
      require_value "$1" "$#"
      instance_id="$2"
      shift 2
      ;;
    --tag-key)
      require_value "$1" "$#"
      tag_key="$2"
      shift 2
      ;;
    --max-days)
      require_value "$1" "$#"
      max_days="$2"
      shift 2
      ;;
    --profile | --auth | --config-file | --endpoint | --region)
      require_value "$1" "$#"
      oci_args+=("$1" "$2")
      shift 2
      ;;
    -*) fail_usage "unknown option $1" ;;
    *)
      if [ -z "$command_name" ]; then
        command_name="$1"
      elif [ -z "$time_spec" ]; then
        time_spec="$1"
      else
        fail_usage "unexpected argument $1"
      fi
      shift
      ;;
  esac
done

case "$command_name" in
  keep-running-until | keep-stopped-until)
    [ -n "$time_spec" ] || fail_usage "$command_name needs a time, e.g. $command_name 22:00"
    ;;
  skip | clear | show)
    [ -z "$time_spec" ] || fail_usage "$command_name takes no time (got '$time_spec')"
    ;;
  "") fail_usage "a command is required: keep-running-until, keep-stopped-until, skip, clear or show" ;;
  *) fail_usage "unknown command '$command_name': use keep-running-until, keep-stopped-until, skip, clear or show" ;;
esac

[ -n "$instance_id" ] || fail_usage "--instance-id is required"
[[ "$instance_id" =~ ^ocid1\.instance\.[a-z0-9-]+\.[a-z0-9-]*\.[A-Za-z0-9._-]+$ ]] ||
  fail_usage "--instance-id must be an instance OCID (ocid1.instance....), got '$instance_id'"
[[ "$tag_key" =~ ^[^[:space:].]{1,100}$ ]] ||
  fail_usage "--tag-key must be 1-100 characters without spaces or periods, got '$tag_key'"
[[ "$max_days" =~ ^[0-9]{1,3}$ ]] && [ "$max_days" -ge 1 ] && [ "$max_days" -le 366 ] ||
  fail_usage "--max-days must be a whole number from 1 to 366, got '$max_days'"

oci_bin="${OCI_BIN:-oci}"
command -v "$oci_bin" >/dev/null 2>&1 || fail_usage "the OCI CLI ($oci_bin) is not installed or not on PATH (set OCI_BIN)"
command -v jq >/dev/null 2>&1 || fail_usage "jq is required (Oracle Linux: dnf install -y jq; Debian: apt-get install -y jq; macOS: brew install jq)"
date_bin="date"
command -v gdate >/dev/null 2>&1 && date_bin=gdate
"$date_bin" --version >/dev/null 2>&1 || fail_usage "GNU date is required (coreutils; on macOS: brew install coreutils)"

# <time> -> RFC 3339 with the local offset; refuses anything but the documented forms.
to_rfc3339() {
  local spec="$1" date_part clock now at
  now="$("$date_bin" +%s)"
  if [[ "$spec" =~ ^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$ ]]; then
    date_part="$("$date_bin" +%Y-%m-%d)"
    at="$("$date_bin" -d "$date_part $spec" +%s 2>/dev/null)" || fail_usage "'$spec' is not a time of day"
    if [ "$at" -le "$now" ]; then
      date_part="$("$date_bin" -d "$date_part + 1 day" +%Y-%m-%d)"
      at="$("$date_bin" -d "$date_part $spec" +%s)"
    fi
  elif [[ "$spec" =~ ^([0-9]{4}-[0-9]{2}-[0-9]{2})[T\ ](([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?)$ ]]; then
    date_part="${BASH_REMATCH[1]}"
    clock="${BASH_REMATCH[2]}"
    at="$("$date_bin" -d "$date_part $clock" +%s 2>/dev/null)" || fail_usage "'$spec' is not a valid date and time"
    [ "$("$date_bin" -d "@$at" +%Y-%m-%d)" = "$date_part" ] || fail_usage "'$spec' is not a valid date and time"
  elif [[ "$spec" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$ ]]; then
    at="$("$date_bin" -d "$spec" +%s 2>/dev/null)" || fail_usage "'$spec' is not a valid RFC 3339 time"
  else
    fail_usage "'$spec' is not a time: use HH:MM, 'YYYY-MM-DD HH:MM' or an RFC 3339 time with an offset (2026-12-01T22:00:00Z)"
  fi
  [ "$at" -gt "$now" ] || fail_usage "'$spec' is not in the future ($("$date_bin" -d "@$at" +%Y-%m-%dT%H:%M:%S%:z))"
  [ "$at" -le $((now + max_days * 86400)) ] ||
    fail_usage "'$spec' is more than $max_days days ahead; the functions would refuse it (OVERRIDE_MAX_DAYS)"
  "$date_bin" -d "@$at" +%Y-%m-%dT%H:%M:%S%:z
}

value=""
case "$command_name" in
  keep-running-until | keep-stopped-until) value="$command_name=$(to_rfc3339 "$time_spec")" ;;
  skip) value="skip" ;;
esac

# Runs the OCI CLI; on failure says what failed and shows the CLI's own message.
oci_call() {
  local what="$1" err_file
  shift
  err_file="$(mktemp)"
  if "$oci_bin" "${oci_args[@]}" "$@" 2>"$err_file"; then
    rm -f "$err_file"
    return 0
  fi
  local err
  err="$(tail -c 2000 "$err_file")"
  rm -f "$err_file"
  if [[ "$err" == *NoEtagMatch* || "$err" == *'"status": 412'* ]]; then
    fail "$EXIT_CONFLICT" "instance $instance_id changed between read and write (etag mismatch): nothing was written; run the command again"
  fi
  fail "$EXIT_OCI" "$what failed: $err"
}

got="$(oci_call "reading instance $instance_id" compute instance get --instance-id "$instance_id")"
etag="$(printf '%s' "$got" | jq -r '.etag // empty')"
tags="$(printf '%s' "$got" | jq -c '.data["freeform-tags"] // {}')"
[ -n "$etag" ] || fail "$EXIT_OCI" "OCI answered instance $instance_id without an etag; refusing to write without one"
current="$(printf '%s' "$tags" | jq -r --arg k "$tag_key" '.[$k] // empty')"

# A tag that looks like the override key makes the functions refuse to act (InvalidOverride).
lookalikes="$(printf '%s' "$tags" | jq -r --arg k "$tag_key" '
  def skel: ascii_downcase | gsub("[^a-z0-9]"; "");
  keys[] | select(. != $k and skel == ($k | skel))')"
if [ -n "$lookalikes" ]; then
  while IFS= read -r key; do
    echo "$prog: warning: tag '$key' looks like the override key '$tag_key'; start-compute and stop-compute treat it as an invalid override (no action) while $tag_key is unset; remove it" >&2
  done <<<"$lookalikes"
fi

if [ "$command_name" = "show" ]; then
  if [ -n "$current" ]; then
    echo "$tag_key=$current"
  else
    echo "no override on $instance_id ($tag_key is not set)"
  fi
  exit 0
fi

if [ "$command_name" = "clear" ]; then
  if [ -z "$current" ] && [ "$(printf '%s' "$tags" | jq --arg k "$tag_key" 'has($k)')" = "false" ]; then
    echo "no override on $instance_id: nothing to clear"
    exit 0
  fi
  new_tags="$(printf '%s' "$tags" | jq -c --arg k "$tag_key" 'del(.[$k])')"
else
  if [ "$current" = "$value" ]; then
    echo "$tag_key=$value is already set on $instance_id"
    exit 0
  fi
  new_tags="$(printf '%s' "$tags" | jq -c --arg k "$tag_key" --arg v "$value" '. + {($k): $v}')"
fi

oci_call "writing the tags of instance $instance_id" compute instance update --instance-id "$instance_id" \
  --freeform-tags "$new_tags" --if-match "$etag" --force >/dev/null
kept="$(printf '%s' "$new_tags" | jq --arg k "$tag_key" 'del(.[$k]) | length')"
if [ "$command_name" = "clear" ]; then
  echo "cleared $tag_key on $instance_id (was $current; $kept other tags kept)"
else
  echo "set $tag_key=$value on $instance_id ($kept other tags kept)"
fi
