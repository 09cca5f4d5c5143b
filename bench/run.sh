#!/usr/bin/env bash
# One-command rabitq benchmark.
#   bench/run.sh DATASET [options]        e.g.  bench/run.sh w2v-100     bench/run.sh sift-300k
#   bench/run.sh --help                   all options
# Installs missing Debian packages (scripts/install-deps.sh), builds this checkout into a private copy
# of the server (or uses --bindir DIR with rulake already installed), starts a throwaway cluster as the
# postgres user, loads the dataset, measures an exact sequential scan and the rabitq index for each
# rerank mode over a rabitq.probes sweep, and writes bench/results/DATASET.{md,json,png}.
# Datasets are found in ../shared/data or generated into $RULAKE_DATA (default /var/tmp/rulake-data):
# sift-full takes about 7 minutes on 2 cores the first time. Must run as root or as postgres.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ "${1:-}" != "--help" ] && [ "${1:-}" != "-h" ]; then
  if [ "$(id -u)" -eq 0 ]; then
    "$here/../scripts/install-deps.sh"
  fi
fi
exec /usr/bin/python3 "$here/rabitq_bench.py" "$@"
