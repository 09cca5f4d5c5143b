#!/usr/bin/env bash
# Runs every test suite of rulake and ends with one line "N passed, N failed".
#   1. core unit tests (GoogleTest)          build/unit/rulake_unit
#   2. pg_regress suites                     sql/*.sql + expected/*.out, on a temporary instance
#   3. isolation specs                       test/specs/*.spec + test/specs/expected/*.out
#   4. TAP tests                             test/t/*.pl (PostgreSQL::Test::Cluster)
# Installs missing packages, builds and installs the extension first. Clusters run as the postgres
# user (initdb refuses root). Environment:
#   RULAKE_PREFIX=DIR   install into a private copy of the server under DIR (scripts/private-pg.sh)
#                       instead of the system one, so several checkouts can test side by side
#   RULAKE_SUITES="unit regress isolation tap"   which suites to run (default: all)
#   TAP_TESTS="test/t/001_x.pl ..."              which TAP files to run (default: all)
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
suites=${RULAKE_SUITES:-unit regress isolation tap}

scripts/install-deps.sh || { echo "dependency installation failed"; echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0
note() { printf '\n=== %s ===\n' "$*"; }
fail_setup() { echo "$1"; failed=$((failed + 1)); }

note "build"
if ! make -s -j"$(nproc)" >/tmp/rulake-build.log 2>&1; then
  cat /tmp/rulake-build.log; echo "0 passed, 1 failed"; exit 1
fi
if [ -n "${RULAKE_PREFIX:-}" ]; then
  bindir=$(scripts/private-pg.sh "$RULAKE_PREFIX" | tail -n1)
else
  make -s install >/dev/null || { echo "make install failed"; echo "0 passed, 1 failed"; exit 1; }
  bindir=$(pg_config --bindir)
fi
echo "server binaries: $bindir"

# A scratch directory the postgres user owns, holding copies of the test inputs.
work=$(mktemp -d /tmp/rulake-test.XXXXXX)
chmod 755 "$work"
cp -r sql expected test "$work/"
mkdir -p "$work/iso/specs" "$work/iso/expected"
cp test/specs/*.spec "$work/iso/specs/" 2>/dev/null || true
cp test/specs/expected/*.out "$work/iso/expected/" 2>/dev/null || true
chown -R postgres:postgres "$work"
as_pg() { su postgres -s /bin/bash -c "cd '$work' && $*"; }
pgxs_dir=$(dirname "$(pg_config --pgxs)")/..   # .../lib/pgxs/src

# ---- 1. unit tests -----------------------------------------------------------------------------
if [[ " $suites " == *" unit "* ]]; then
  note "unit tests (GoogleTest)"
  if make -s -j"$(nproc)" unit-build >/tmp/rulake-unit-build.log 2>&1; then
    build/unit/rulake_unit --gtest_brief=1 2>&1 | tee "$work/unit.log" | tail -n 30
    p=$(grep -Eo '\[  PASSED  \] [0-9]+' "$work/unit.log" | grep -Eo '[0-9]+$' || echo 0)
    f=$(grep -Eo '\[  FAILED  \] [0-9]+ test' "$work/unit.log" | grep -Eo '[0-9]+' | head -n1 || true)
    grep -q '\[  PASSED  \]' "$work/unit.log" || f=${f:-1}
    passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
  else
    cat /tmp/rulake-unit-build.log; fail_setup "unit test build failed"
  fi
fi

# ---- 2. pg_regress -----------------------------------------------------------------------------
regress_tests=$(ls sql/*.sql 2>/dev/null | grep -v '/rulake--' | xargs -rn1 basename | sed 's/\.sql$//' | tr '\n' ' ')
if [[ " $suites " == *" regress "* && -n "$regress_tests" ]]; then
  note "pg_regress"
  as_pg "RULAKE_FIXTURES='$work/test/fixtures' '$pgxs_dir/test/regress/pg_regress' --temp-instance='$work/regress-instance' --bindir='$bindir' \
        --inputdir=. --outputdir=regress-out --load-extension=rulake $regress_tests" 2>&1 | tee "$work/regress.log"
  p=$(grep -Ec '^(ok|test) .*\.\.\. ok|^ok ' "$work/regress.log" || true)
  p=$(grep -Ec '\.\.\. ok' "$work/regress.log" || true)
  f=$(grep -Ec '\.\.\. FAILED|\.\.\. failed' "$work/regress.log" || true)
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$f" -gt 0 ] || ! grep -q 'All [0-9]* tests passed' "$work/regress.log"; then
    [ "$f" -gt 0 ] || fail_setup "pg_regress did not complete"
    cat "$work/regress-out/regression.diffs" 2>/dev/null | head -n 400
    tail -n 60 "$work"/regress-out/log/postmaster.log 2>/dev/null
  fi
fi

# ---- 3. isolation ------------------------------------------------------------------------------
iso_tests=$(ls test/specs/*.spec 2>/dev/null | xargs -rn1 basename | sed 's/\.spec$//' | tr '\n' ' ')
if [[ " $suites " == *" isolation "* && -n "$iso_tests" ]]; then
  note "isolation"
  as_pg "'$pgxs_dir/test/isolation/pg_isolation_regress' --temp-instance='$work/iso-instance' --bindir='$bindir' \
        --inputdir=iso --outputdir=iso-out --load-extension=rulake $iso_tests" 2>&1 | tee "$work/iso.log"
  p=$(grep -Ec '\.\.\. ok' "$work/iso.log" || true)
  f=$(grep -Ec '\.\.\. FAILED|\.\.\. failed' "$work/iso.log" || true)
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$f" -gt 0 ] || ! grep -q 'All [0-9]* tests passed' "$work/iso.log"; then
    [ "$f" -gt 0 ] || fail_setup "isolation tests did not complete"
    cat "$work/iso-out/regression.diffs" 2>/dev/null | head -n 300
  fi
fi

# ---- 4. TAP ------------------------------------------------------------------------------------
tap_tests=${TAP_TESTS:-$(ls test/t/*.pl 2>/dev/null | tr '\n' ' ')}
if [[ " $suites " == *" tap "* && -n "$tap_tests" ]]; then
  note "TAP"
  as_pg "PATH='$bindir':\$PATH PERL5LIB='$pgxs_dir/test/perl' PG_REGRESS='$pgxs_dir/test/regress/pg_regress' \
         RULAKE_ROOT='$here' RULAKE_SHARED='$(cd "$here/../shared" 2>/dev/null && pwd)' TESTDIR='$work/tap' PGPORT=54${RANDOM:0:2} \
         prove -v --timer $tap_tests" >"$work/tap.log" 2>&1
  grep -E '^(ok|not ok)|^\[|^Files=|^Result|# (Failed|Looks)' "$work/tap.log" | tail -n 200
  p=$(grep -Ec '^\s*ok [0-9]+' "$work/tap.log" || true)
  f=$(grep -Ec '^\s*not ok [0-9]+' "$work/tap.log" || true)
  # A test file that died before its plan finished counts as one failure.
  d=$(grep -Ec 'Dubious|Parse errors|No subtests run|Bad plan' "$work/tap.log" || true)
  passed=$((passed + p)); failed=$((failed + f + d))
  if [ "$((f + d))" -gt 0 ]; then
    grep -vE '^\s*ok [0-9]+' "$work/tap.log" | tail -n 150
    for log in "$work"/tap/tmp_check/log/*.log; do [ -f "$log" ] && { echo "--- $log"; tail -n 40 "$log"; }; done
  fi
fi

[ "$failed" -eq 0 ] && rm -rf "$work"
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
