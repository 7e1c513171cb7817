#!/usr/bin/env bash
# deploy.sh: builds the two function images, pushes them to the registry Terraform created, and
# writes terraform/images.auto.tfvars.json, so that the next `terraform apply` creates the functions
# (first install) or moves them to the new images (a release). Safe to re-run.
#
# First install, with terraform/terraform.tfvars filled in and terraform init run:
#   terraform -chdir=terraform apply && scripts/deploy.sh && terraform -chdir=terraform apply
#
# Usage:
#   deploy.sh [options]                 images for Terraform (reads terraform output -json)
#   deploy.sh --app <application> ...   without Terraform: fn deploy to an existing application
#
# Options:
#   --print          print every command it would run, run none (it still reads terraform output)
#   --outputs FILE   a saved `terraform output -json` instead of running terraform (- for stdin)
#   --tag TAG        the image tag (default <package.json version>-<git short sha>)
#   --allow-dirty    build from uncommitted sources: the tag gets -dirty-<UTC time> (never reused)
#   --no-login       skip docker login (already logged in to the registry, or a credential helper)
#   --print-tfvars   print the images as tfvars JSON instead of writing images.auto.tfvars.json
#   --context NAME   the Fn context to create or update (default oci-compute-power)
#   --only FUNCTION  only start-compute or stop-compute (also: start, stop); the other keeps its image
#   --no-build       skip npm run build (use the bundles already in <function>/dist/)
#   --app NAME       fn deploy to this application instead (default $FN_APP): Terraform then no longer
#                    owns the images, so use it only without Terraform
#   --push-only      superseded by the default: build and push to the current Fn context's registry
#                    at the package.json version, nothing else
#   --dry-run        the same as --print
#   -h, --help       this text
#
# Needs: Node.js 20+ (npm), git (for the tag), terraform (unless --outputs), and two tools this
# project does not install: Docker (https://docs.docker.com/get-docker/) and the Fn CLI
# (https://github.com/fnproject/cli). DOCKER_BIN, FN_BIN, TERRAFORM_BIN override the binaries.
# Registry login: user name from OCIR_USERNAME (<namespace>/ is added when missing; federated users:
# oracleidentitycloudservice/<name>), auth token from OCIR_AUTH_TOKEN; each is prompted for when unset.
# The token goes to docker on standard input, never on a command line or in the output.
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
tf_dir="$repo_root/terraform"
app="${FN_APP:-}"
functions=(start-compute stop-compute)
push_only=false
build=true
print=false
outputs_file=""
tag=""
allow_dirty=false
login=true
print_tfvars=false
context="oci-compute-power"

while [ "$#" -gt 0 ]; do
  case "$1" in
    -h | --help)
      usage
      exit 0
      ;;
    --app | --only | --outputs | --tag | --context)
      require_value "$1" "$#"
      case "$1" in
        --app) app="$2" ;;
        --outputs) outputs_file="$2" ;;
        --tag) tag="$2" ;;
        --context) context="$2" ;;
        --only)
          case "$2" in
            start | start-compute) functions=(start-compute) ;;
            stop | stop-compute) functions=(stop-compute) ;;
            *) fail_usage "--only must be start-compute or stop-compute, got '$2'" ;;
          esac
          ;;
      esac
      shift 2
      ;;
    --push-only) push_only=true && shift ;;
    --no-build) build=false && shift ;;
    --print | --dry-run) print=true && shift ;;
    --allow-dirty) allow_dirty=true && shift ;;
    --no-login) login=false && shift ;;
    --print-tfvars) print_tfvars=true && shift ;;
    *) fail_usage "unknown argument '$1' (see --help)" ;;
  esac
done

[ -z "$tag" ] || [[ "$tag" =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$ ]] ||
  fail_usage "--tag must be 1-128 letters, digits, '.', '_' or '-' (a Docker tag), got '$tag'"
[[ "$context" =~ ^[A-Za-z0-9._-]+$ ]] || fail_usage "--context must be letters, digits, '.', '_' or '-', got '$context'"

fn_bin="${FN_BIN:-fn}"
docker_bin="${DOCKER_BIN:-docker}"
terraform_bin="${TERRAFORM_BIN:-terraform}"

# Docker and the Fn CLI are the user's to install: said up front, before anything runs.
check_tools() {
  command -v node >/dev/null 2>&1 || fail_usage "node is required (Node.js 20+)"
  [ "$print" = true ] && return 0
  command -v "$fn_bin" >/dev/null 2>&1 ||
    fail_usage "the Fn CLI ('$fn_bin') is not installed: see https://github.com/fnproject/cli (or set FN_BIN)"
  command -v "$docker_bin" >/dev/null 2>&1 ||
    fail_usage "docker ('$docker_bin') is not installed: it builds and pushes the images, see https://docs.docker.com/get-docker/ (or set DOCKER_BIN)"
}

# run CMD...: run it, or print it with --print
run() {
  if [ "$print" = true ]; then
    printf '+'
    printf ' %q' "$@"
    printf '\n'
  else
    "$@"
  fi
}

# note TEXT: a line of what happens and why (with --print too, as a comment)
note() {
  if [ "$print" = true ]; then echo "# $*"; else echo "$prog: $*"; fi
}

version="$(node -p 'require(process.argv[1]).version' "$repo_root/package.json" 2>/dev/null)" ||
  fail_usage "$repo_root/package.json is missing or not JSON"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$ ]] ||
  fail_usage "package.json version '$version' is not a semantic version"

# stage FUNCTION VERSION: copies what the image build needs (func.yaml with this version, Dockerfile,
# the bundle) to a staging directory and prints its path; no file in the working tree changes.
stage() {
  local function="$1" stage_version="$2" source_dir="$repo_root/$1" dir
  [ -f "$source_dir/func.yaml" ] || fail_usage "$source_dir/func.yaml not found"
  [ -f "$source_dir/Dockerfile" ] || fail_usage "$source_dir/Dockerfile not found"
  if [ "$print" = false ]; then
    [ -f "$source_dir/dist/func.js" ] || fail_usage "$source_dir/dist/func.js not found: run npm run build"
  fi
  dir="$stage_root/$function"
  mkdir -p "$dir"
  cp "$source_dir/func.yaml" "$source_dir/Dockerfile" "$dir/"
  if [ -d "$source_dir/dist" ]; then cp -R "$source_dir/dist" "$dir/dist"; fi
  if grep -q '^version:' "$dir/func.yaml"; then
    sed -i "s/^version:.*/version: $stage_version/" "$dir/func.yaml"
  else
    printf 'version: %s\n' "$stage_version" >>"$dir/func.yaml"
  fi
  printf '%s\n' "$dir"
}

run_build() {
  [ "$build" = true ] || return 0
  command -v npm >/dev/null 2>&1 || fail_usage "npm is required to build the bundles"
  (cd "$repo_root" && run npm run build)
}

# The former ways, kept working: fn deploy to an application, or --push-only to the context registry.
legacy_deploy() {
  check_tools
  if [ "$print" = false ]; then
    "$fn_bin" inspect context >/dev/null 2>&1 ||
      fail_usage "the Fn CLI has no usable context: create one for OCI (fn create context ... && fn use context ...)"
  fi
  run_build
  local registry="<registry of the current fn context>" function dir
  if [ "$push_only" = true ] && [ "$print" = false ]; then
    registry="$("$fn_bin" inspect context 2>/dev/null | awk '$1 == "registry:" {print $2}')"
    [ -n "$registry" ] ||
      fail_usage "the current Fn context has no registry: fn update context registry <region-key>.ocir.io/<namespace>/<prefix>"
  fi
  for function in "${functions[@]}"; do
    dir="$(stage "$function" "$version")"
    if [ "$push_only" = true ]; then
      echo "$prog: building and pushing $function:$version"
      (cd "$dir" && run "$fn_bin" build)
      run "$docker_bin" push "$registry/$function:$version"
    else
      echo "$prog: deploying $function:$version to application $app"
      (cd "$dir" && run "$fn_bin" deploy --app "$app" --no-bump)
    fi
  done
  echo "$prog: done ($version)"
}

# read_outputs: the `deploy` output of terraform output -json, as "key<TAB>value" lines (images as
# image.<function>), checked and named when something is missing.
read_outputs() {
  local json
  if [ -n "$outputs_file" ]; then
    if [ "$outputs_file" = - ]; then json="$(cat)"; else
      [ -r "$outputs_file" ] || fail_usage "--outputs: cannot read '$outputs_file'"
      json="$(cat "$outputs_file")"
    fi
  else
    command -v "$terraform_bin" >/dev/null 2>&1 ||
      fail_usage "terraform ('$terraform_bin') is not installed: it reads the outputs of the first apply (or pass --outputs FILE)"
    json="$("$terraform_bin" -chdir="$tf_dir" output -json)" ||
      fail_usage "terraform -chdir=$tf_dir output -json failed: run terraform init and terraform apply there first"
  fi
  # shellcheck disable=SC2016 # JavaScript, not shell: ${...} is a JS template
  printf '%s' "$json" | node -e '
    let text = "";
    process.stdin.on("data", (c) => (text += c)).on("end", () => {
      let outputs;
      try { outputs = JSON.parse(text); } catch { fail("is not JSON"); }
      const d = outputs?.deploy?.value;
      if (d === undefined || d === null || typeof d !== "object") fail("has no \"deploy\" output: run terraform apply in terraform/ first (the first of the three commands)");
      const keys = ["region", "compartment_id", "functions_api_url", "ocir_host", "namespace", "registry", "application_name"];
      for (const k of keys) if (typeof d[k] !== "string" || !/^[A-Za-z0-9._:\/@-]+$/.test(d[k])) fail(`deploy.${k} must be a non-empty string without spaces, got ${JSON.stringify(d[k])}`);
      for (const k of keys) console.log(`${k}\t${d[k]}`);
      if (d.oci_config_file_profile !== undefined && d.oci_config_file_profile !== null) console.log(`profile\t${d.oci_config_file_profile}`);
      for (const [name, image] of Object.entries(d.images ?? {})) console.log(`image.${name}\t${image ?? ""}`);
    });
    function fail(m) { console.error(`terraform output ${m}`); process.exit(2); }
  ' || exit "$EXIT_USAGE"
}

# image_tag: --tag, or <version>-<git short sha> of the sources that go into the images (refused when
# they have uncommitted changes, unless --allow-dirty: then a timestamp keeps the tag unique).
image_tag() {
  if [ -n "$tag" ]; then printf '%s\n' "$tag" && return 0; fi
  command -v git >/dev/null 2>&1 || fail_usage "git is required to tag the images (or pass --tag TAG)"
  local sha dirty
  sha="$(git -C "$repo_root" rev-parse --short=7 HEAD 2>/dev/null)" ||
    fail_usage "$repo_root is not a git checkout with a commit: pass --tag TAG"
  dirty="$(git -C "$repo_root" status --porcelain -- src start-compute stop-compute types package.json package-lock.json tsconfig.json scripts/build.ts 2>/dev/null)"
  if [ -z "$dirty" ]; then printf '%s-%s\n' "$version" "$sha" && return 0; fi
  [ "$allow_dirty" = true ] ||
    fail_usage "the function sources have uncommitted changes (git status: $(printf '%s' "$dirty" | head -3 | tr '\n' ' ')): commit them, or pass --allow-dirty (or --tag TAG)"
  printf '%s-%s-dirty-%s\n' "$version" "$sha" "$(date -u +%Y%m%d%H%M%S)"
}

# fn_context: creates (when missing) and selects the Fn context, then points it at the region's
# Functions API, the compartment and the registry Terraform created. The Fn CLI (0.6.63) refuses
# `fn use context` for the context already in use, so each step runs only when needed.
fn_context() {
  if [ "$print" = true ]; then
    note "only when the Fn context $context does not exist yet (fn inspect context $context fails):"
    run "$fn_bin" create context "$context" --provider oracle
    note "only when $context is not the current context:"
    run "$fn_bin" use context "$context"
  else
    "$fn_bin" inspect context "$context" >/dev/null 2>&1 ||
      run "$fn_bin" create context "$context" --provider oracle
    [ "$("$fn_bin" inspect context 2>/dev/null | sed -n 's/^Current context: *//p')" = "$context" ] ||
      run "$fn_bin" use context "$context"
  fi
  run "$fn_bin" update context oracle.compartment-id "$compartment_id"
  run "$fn_bin" update context api-url "$functions_api_url"
  run "$fn_bin" update context registry "$registry"
  if [ -n "$profile" ]; then run "$fn_bin" update context oracle.profile "$profile"; fi
}

# docker_login: user name from OCIR_USERNAME or a prompt, auth token from OCIR_AUTH_TOKEN or a silent
# prompt; the token reaches docker on standard input only.
docker_login() {
  [ "$login" = true ] || { note "docker login skipped (--no-login)" && return 0; }
  local user="${OCIR_USERNAME:-}" token="${OCIR_AUTH_TOKEN:-}"
  if [ "$print" = true ]; then
    [ -n "$user" ] || user="<your user name>"
    [[ "$user" == "$namespace/"* ]] || user="$namespace/$user"
    note "the password is the auth token, from OCIR_AUTH_TOKEN or prompted for; never printed"
    printf '+ %q login --username %s --password-stdin %q\n' "$docker_bin" "$user" "$ocir_host"
    return 0
  fi
  if [ -z "$user" ] || [ -z "$token" ]; then
    [ -r /dev/tty ] && [ -t 0 ] ||
      fail_usage "set OCIR_USERNAME and OCIR_AUTH_TOKEN (an auth token: OCI console, your profile, Auth tokens) to log docker in to $ocir_host without a terminal, or pass --no-login"
  fi
  [ -n "$user" ] || read -r -p "OCIR user name for $ocir_host (without '$namespace/'): " user </dev/tty
  [ -n "$token" ] || { read -r -s -p "Auth token for $namespace/${user#"$namespace/"}: " token </dev/tty && echo >&2; }
  [ -n "$user" ] && [ -n "$token" ] || fail_usage "an OCIR user name and an auth token are needed to push the images"
  [[ "$user" == "$namespace/"* ]] || user="$namespace/$user"
  printf '%s' "$token" | "$docker_bin" login --username "$user" --password-stdin "$ocir_host" >/dev/null ||
    fail_usage "docker login to $ocir_host as $user failed: check OCIR_USERNAME and the auth token"
  echo "$prog: logged in to $ocir_host as $user"
}

# push_image FUNCTION IMAGE: builds and pushes it, unless the registry already has that tag (a re-run).
push_image() {
  local function="$1" image="$2" dir
  if [ "$print" = true ]; then
    note "$function: skipped when $image is already in the registry ($docker_bin manifest inspect $image)"
    note "$function: staging <tmp>/$function: func.yaml (version ${image##*:}), Dockerfile, dist/"
    printf '+ %q build --tag %q %s\n' "$docker_bin" "$image" "<tmp>/$function"
    run "$docker_bin" push "$image"
    return 0
  fi
  if "$docker_bin" manifest inspect "$image" >/dev/null 2>&1; then
    echo "$prog: $image is already in the registry: not rebuilt"
    return 0
  fi
  dir="$(stage "$function" "${image##*:}")"
  echo "$prog: building and pushing $image"
  run "$docker_bin" build --tag "$image" "$dir"
  run "$docker_bin" push "$image"
}

# write_tfvars START STOP: the images for Terraform, written atomically (or printed).
write_tfvars() {
  local file="$tf_dir/images.auto.tfvars.json" content
  content="$(printf '{\n  "start_function_image": "%s",\n  "stop_function_image": "%s"\n}' "$1" "$2")"
  if [ "$print_tfvars" = true ]; then
    printf '%s\n' "$content"
    return 0
  fi
  if [ "$print" = true ]; then
    note "write ${file#"$repo_root/"}:"
    printf '%s\n' "$content" | sed 's/^/#   /'
    return 0
  fi
  mkdir -p "$tf_dir"
  printf '%s\n' "$content" >"$file.tmp"
  mv "$file.tmp" "$file"
  echo "$prog: wrote ${file#"$repo_root/"}"
}

deploy_images() {
  check_tools
  local key value
  region="" compartment_id="" functions_api_url="" ocir_host="" namespace="" registry="" application_name="" profile=""
  declare -A current=()
  while IFS=$'\t' read -r key value; do
    case "$key" in
      image.*) current["${key#image.}"]="$value" ;;
      region | compartment_id | functions_api_url | ocir_host | namespace | registry | application_name | profile)
        printf -v "$key" '%s' "$value"
        ;;
    esac
  done < <(read_outputs)
  [ -n "$registry" ] || exit "$EXIT_USAGE"
  local image_tag_value
  image_tag_value="$(image_tag)"
  local -A next=()
  local function
  for function in start-compute stop-compute; do next["$function"]="${current[$function]:-}"; done
  for function in "${functions[@]}"; do next["$function"]="$registry/$function:$image_tag_value"; done
  for function in start-compute stop-compute; do
    [ -n "${next[$function]}" ] ||
      fail_usage "--only: $function has no image yet (first install): push both (leave out --only)"
  done
  local first=false
  [ -n "${current[start-compute]:-}" ] && [ -n "${current[stop-compute]:-}" ] || first=true

  if [ "$first" = true ]; then
    note "first install: $application_name in $region has no functions yet; pushing ${functions[*]} as $image_tag_value"
  else
    for function in "${functions[@]}"; do
      note "release: $function ${current[$function]##*:} -> $image_tag_value"
    done
  fi
  fn_context
  docker_login
  run_build
  for function in "${functions[@]}"; do push_image "$function" "${next[$function]}"; done
  write_tfvars "${next[start-compute]}" "${next[stop-compute]}"
  if [ "$first" = true ]; then
    note "next: terraform apply (in terraform/) creates the functions, the management instance and their IAM"
  else
    note "next: terraform apply (in terraform/) moves the functions to $image_tag_value in place"
  fi
}

stage_root="$(mktemp -d "${TMPDIR:-/tmp}/deploy.XXXXXX")"
trap 'rm -rf "$stage_root"' EXIT

if [ -n "$app" ] || [ "$push_only" = true ]; then
  legacy_deploy
  exit 0
fi

deploy_images
