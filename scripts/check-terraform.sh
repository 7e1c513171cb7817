#!/usr/bin/env bash
# check-terraform.sh: the Terraform checks that can run without the oracle/oci provider (which cannot
# be downloaded on these machines, so terraform init/validate/plan are not run here):
#   1. terraform fmt -check -recursive terraform
#   2. checkov (from .tools/checkov, installed by scripts/setup-tools.sh) on terraform/: zero failed
#      checks; skips only inline with a reason (#checkov:skip=CKV_...: reason)
# Fails (exit 1) when a check fails, exit 2 when a tool is missing.
#
# Usage: scripts/check-terraform.sh [--help]
# Env:   TERRAFORM_BIN (default terraform), CHECKOV_BIN (default <repo>/.tools/checkov/bin/checkov)
set -euo pipefail

case "${1:-}" in
  -h | --help)
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  "") ;;
  *)
    echo "check-terraform.sh: unknown argument '$1'" >&2
    exit 2
    ;;
esac

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
terraform_bin="${TERRAFORM_BIN:-terraform}"
checkov_bin="${CHECKOV_BIN:-$repo_root/.tools/checkov/bin/checkov}"

command -v "$terraform_bin" >/dev/null 2>&1 ||
  { echo "check-terraform.sh: terraform ('$terraform_bin') not found: install Terraform >= 1.5 or set TERRAFORM_BIN" >&2; exit 2; }
[ -x "$checkov_bin" ] ||
  { echo "check-terraform.sh: checkov not found at $checkov_bin: run scripts/setup-tools.sh checkov (or set CHECKOV_BIN)" >&2; exit 2; }

cd "$repo_root"

echo "check-terraform.sh: terraform fmt -check -recursive terraform"
# No CLI config file is needed for fmt; pointing at /dev/null silences the "missing ~/.terraformrc" warning.
if ! TF_CLI_CONFIG_FILE=/dev/null "$terraform_bin" fmt -check -recursive -diff terraform; then
  echo "check-terraform.sh: terraform files are not formatted: run terraform fmt -recursive terraform" >&2
  exit 1
fi

echo "check-terraform.sh: checkov -d terraform"
# Offline: no Prisma Cloud download, no PyPI update check.
if ! CKV_SKIP_PACKAGE_UPDATE_CHECK=true BC_SKIP_MAPPING=TRUE \
  "$checkov_bin" -d terraform --framework terraform --skip-download --compact --quiet; then
  echo "check-terraform.sh: checkov reported failed checks (fix them, or skip one inline with a reason)" >&2
  exit 1
fi
echo "check-terraform.sh: ok"
