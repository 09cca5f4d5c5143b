#!/usr/bin/env bash
# Usage: scripts/private-pg.sh PREFIX
# Makes PREFIX a private, relocatable copy of the system PostgreSQL 15 server (binaries, libraries,
# share files) and installs this build of rulake into it with `make install DESTDIR=PREFIX`.
# Postgres finds its share and lib directories relative to its own binary, so a server started from
# PREFIX/usr/lib/postgresql/15/bin sees this build of the extension and nothing else does. Used to
# run several builds' tests side by side without touching the system installation.
set -euo pipefail
prefix=${1:?usage: $0 PREFIX}
here=$(cd "$(dirname "$0")/.." && pwd)
pg_config=${PG_CONFIG:-pg_config}
bindir=$($pg_config --bindir)          # /usr/lib/postgresql/15/bin
sharedir=$($pg_config --sharedir)      # /usr/share/postgresql/15
pglibroot=$(dirname "$bindir")         # /usr/lib/postgresql/15
if [ ! -x "$prefix$bindir/postgres" ]; then
  mkdir -p "$prefix$(dirname "$pglibroot")" "$prefix$(dirname "$sharedir")"
  cp -a "$pglibroot" "$prefix$(dirname "$pglibroot")/"
  cp -a "$sharedir" "$prefix$(dirname "$sharedir")/"
fi
make -C "$here" -s -j"$(nproc)" PG_CONFIG="$pg_config"
make -C "$here" -s install DESTDIR="$prefix" PG_CONFIG="$pg_config" >/dev/null
chmod -R a+rX "$prefix"
echo "$prefix$bindir"
