#!/usr/bin/env bash
# Installs the Debian 12 packages rulake needs to build, test, demo and benchmark, if any is missing.
# Must run as root (or with sudo available). Safe to re-run: does nothing when all are installed.
set -euo pipefail
packages=(
  # build: PGXS with C++17, SIMD, OpenSSL digests, linear algebra, JSON
  build-essential git ca-certificates
  postgresql-15 postgresql-client-15 postgresql-server-dev-15
  libxsimd-dev libssl-dev libeigen3-dev nlohmann-json3-dev
  # tests: GoogleTest, prove + PostgreSQL::Test::Cluster (IPC::Run), valgrind leak check
  libgtest-dev perl libipc-run-perl valgrind
  # ruLake: postgres_fdw and file_fdw (contrib), refresh scheduling (pg_cron)
  postgresql-contrib postgresql-15-cron
  # benchmarks: Google Benchmark, data tools, plots
  libbenchmark-dev python3 python3-numpy gnuplot-nox
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
log=$(mktemp /tmp/rulake-apt.XXXXXX)
if ! { $SUDO apt-get update -qq && \
       $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1 </dev/null; then
  cat "$log"; rm -f "$log"
  echo "package installation failed"
  exit 1
fi
rm -f "$log"
