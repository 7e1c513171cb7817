#!/usr/bin/env bash
# The one test command (`npm test`): what a newcomer runs and what CI runs.
# Installs the Python tools the tests need (OCI CLI, checkov, shellcheck) into .tools/ when missing,
# builds the bundles, checks style and types, checks the Terraform, then runs every vitest suite.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "tools (.tools/: oci-cli, checkov, shellcheck)"
bash scripts/setup-tools.sh

step "build"
npm run --silent build

step "lint (biome)"
npm run --silent lint

step "typecheck (tsc)"
npm run --silent typecheck

step "terraform (fmt -check, checkov)"
bash scripts/check-terraform.sh

step "tests (vitest)"
report=$(mktemp -d)/vitest.json
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
# One plain closing line, whatever the reporter printed above it.
# shellcheck disable=SC2016 # the ${...} below are JavaScript template literals, not shell expansions
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$report" || true
exit "$status"
