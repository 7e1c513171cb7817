#!/usr/bin/env bash
# deploy.sh: builds the bundles (npm run build) and deploys start-compute and stop-compute with the
# Fn CLI to an application, at the version in package.json.
#
# Usage:
#   deploy.sh --app <application> [options]
#
# Options:
#   --app NAME       the Functions application (default $FN_APP; terraform output application_name)
#   --only FUNCTION  deploy only start-compute or stop-compute (also: start, stop)
#   --push-only      build and push the images but do not create or update the functions: the first
#                    step of a fresh Terraform install, which creates the functions from these images
#   --no-build       skip npm run build (use the bundles already in <function>/dist/)
#   --dry-run        print the commands instead of running them
#   -h, --help       this text
#
# Needs: npm, the Fn CLI (fn) with a context for OCI (fn use context <ctx>; its registry set to
# <region-key>.ocir.io/<namespace>/<repository prefix>, see docs), and docker, logged in to that
# registry (docker login <region-key>.ocir.io). FN_BIN and DOCKER_BIN override the binaries.
#
# Each function directory is copied to a temporary staging directory whose func.yaml carries the
# package.json version, then deployed with "fn deploy --app <app> --no-bump" from there: the images
# are tagged <registry>/<function>:<version> and no file in the working tree changes.
set -euo pipefail

readonly EXIT_USAGE=2
prog="deploy.sh"

usage() {
  sed -n '2,/^set -euo pipefail$/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
}

fail_usage() {
  echo "$prog: $*" >&2
  exit "$EXIT_USAGE"
}

require_value() {
  [ "$2" -ge 2 ] || fail_usage "$1 needs a value"
}

# DEPLOY_ROOT: the project root holding package.json and the function directories (tests point it at
# a fixture); default: the repository this script is in.
repo_root="${DEPLOY_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
app="${FN_APP:-}"
functions=(start-compute stop-compute)
push_only=false
build=true
dry_run=false

while [ "$#" -gt 0 ]; do
  case "$1" in
    -h | --help)
      usage
      exit 0
      ;;
    --app)
      require_value "$1" "$#"
      app="$2"
      shift 2
      ;;
    --only)
      require_value "$1" "$#"
      case "$2" in
        start | start-compute) functions=(start-compute) ;;
        stop | stop-compute) functions=(stop-compute) ;;
        *) fail_usage "--only must be start-compute or stop-compute, got '$2'" ;;
      esac
      shift 2
      ;;
    --push-only)
      push_only=true
      shift
      ;;
    --no-build)
      build=false
      shift
      ;;
    --dry-run)
      dry_run=true
      shift
      ;;
    *) fail_usage "unknown argument '$1' (see --help)" ;;
  esac
done

[ -n "$app" ] || [ "$push_only" = true ] ||
  fail_usage "no application: pass --app <name> or set FN_APP (terraform output application_name)"

fn_bin="${FN_BIN:-fn}"
docker_bin="${DOCKER_BIN:-docker}"
command -v node >/dev/null 2>&1 || fail_usage "node is required (Node.js 20+)"
command -v "$fn_bin" >/dev/null 2>&1 ||
  fail_usage "the Fn CLI ('$fn_bin') is not installed: see https://github.com/fnproject/cli (or set FN_BIN)"
if [ "$dry_run" = false ]; then
  command -v "$docker_bin" >/dev/null 2>&1 ||
    fail_usage "docker ('$docker_bin') is required by the Fn CLI to build the images (or set DOCKER_BIN)"
  "$fn_bin" inspect context >/dev/null 2>&1 ||
    fail_usage "the Fn CLI has no usable context: create one for OCI (fn create context ... && fn use context ...)"
fi

version="$(node -p 'require(process.argv[1]).version' "$repo_root/package.json")"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$ ]] ||
  fail_usage "package.json version '$version' is not a semantic version"

# run CMD...: run it, or print it with --dry-run
run() {
  if [ "$dry_run" = true ]; then
    printf '+'
    printf ' %q' "$@"
    printf '\n'
  else
    "$@"
  fi
}

if [ "$build" = true ]; then
  command -v npm >/dev/null 2>&1 || fail_usage "npm is required to build the bundles"
  (cd "$repo_root" && run npm run build)
fi

stage_root="$(mktemp -d "${TMPDIR:-/tmp}/deploy.XXXXXX")"
trap 'rm -rf "$stage_root"' EXIT

registry=""
if [ "$push_only" = true ]; then
  if [ "$dry_run" = true ]; then
    registry="<registry of the current fn context>"
  else
    registry="$("$fn_bin" inspect context 2>/dev/null | awk '$1 == "registry:" {print $2}')"
    [ -n "$registry" ] ||
      fail_usage "the current Fn context has no registry: fn update context registry <region-key>.ocir.io/<namespace>/<prefix>"
  fi
fi

for function in "${functions[@]}"; do
  source_dir="$repo_root/$function"
  [ -f "$source_dir/func.yaml" ] || fail_usage "$source_dir/func.yaml not found"
  [ -f "$source_dir/Dockerfile" ] || fail_usage "$source_dir/Dockerfile not found"
  if [ "$dry_run" = false ]; then
    [ -f "$source_dir/dist/func.js" ] || fail_usage "$source_dir/dist/func.js not found: run npm run build"
  fi
  stage="$stage_root/$function"
  mkdir -p "$stage"
  # Only what the image build needs: func.yaml, Dockerfile, the bundle.
  cp "$source_dir/func.yaml" "$source_dir/Dockerfile" "$stage/"
  if [ -d "$source_dir/dist" ]; then
    cp -R "$source_dir/dist" "$stage/dist"
  fi
  if grep -q '^version:' "$stage/func.yaml"; then
    sed -i "s/^version:.*/version: $version/" "$stage/func.yaml"
  else
    printf 'version: %s\n' "$version" >>"$stage/func.yaml"
  fi

  if [ "$push_only" = true ]; then
    echo "$prog: building and pushing $function:$version"
    (cd "$stage" && run "$fn_bin" build)
    run "$docker_bin" push "$registry/$function:$version"
  else
    echo "$prog: deploying $function:$version to application $app"
    (cd "$stage" && run "$fn_bin" deploy --app "$app" --no-bump)
  fi
done
echo "$prog: done ($version)"
