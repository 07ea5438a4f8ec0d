#!/usr/bin/env bash
# Installs the command-line tools that scripts/simulate_training.sh and
# scripts/simulate_tiny.sh need, on a Debian/Ubuntu machine.
# Idempotent: does nothing (not even `apt-get update`) when every tool is present.
set -euo pipefail

# tool binary -> Debian package that provides it
declare -A PKG=(
  [samtools]=samtools
  [bcftools]=bcftools
  [tabix]=tabix
  [bgzip]=tabix
  [bwa]=bwa
  [art_illumina]=art-nextgen-simulation-tools
)

missing=()
for tool in "${!PKG[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("${PKG[$tool]}")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install_sim_deps: all tools present (samtools bcftools tabix bgzip bwa art_illumina)"
  exit 0
fi
# de-duplicate (bgzip and tabix share a package)
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
echo "install_sim_deps: installing ${missing[*]}"

if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo)
else
  echo "install_sim_deps: need root or sudo to apt-get install: ${missing[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install_sim_deps: apt-get not found; install these by hand: ${missing[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update
"${SUDO[@]}" apt-get install -y --no-install-recommends "${missing[@]}"

for tool in "${!PKG[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || { echo "install_sim_deps: $tool still missing after install" >&2; exit 1; }
done
echo "install_sim_deps: done"
