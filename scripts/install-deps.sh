#!/usr/bin/env bash
# Installs the Debian 12 packages rulake needs to build, test and benchmark, if any is missing.
# Must run as root (or with sudo available). Safe to re-run.
set -euo pipefail
packages=(
  build-essential git ca-certificates
  postgresql-15 postgresql-client-15 postgresql-server-dev-15 postgresql-contrib postgresql-15-cron
  libxsimd-dev libssl-dev libeigen3-dev nlohmann-json3-dev
  libgtest-dev libbenchmark-dev libipc-run-perl
  python3 python3-numpy gnuplot-nox
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# The postgresql-common package creates a default cluster on install; we never use it.
$SUDO mkdir -p /etc/postgresql-common/createcluster.d
echo "create_main_cluster = false" | $SUDO tee /etc/postgresql-common/createcluster.d/rulake.conf >/dev/null
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
