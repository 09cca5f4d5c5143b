#!/usr/bin/env bash
# Runs every test suite of rulake and ends with exactly one line "N passed, N failed" (nothing after it).
# Works on a fresh Debian 12 machine as root: installs missing packages, builds, installs the
# extension, then runs the suites. Exit status 0 only if nothing failed.
#
# Suites (RULAKE_SUITES, default: all of them, in this order):
#   unit       core GoogleTest suite (build/unit/rulake_unit), then the same tests under ASan+UBSan
#              (RULAKE_SANITIZE=0 skips the sanitizer run); each test counts once per run
#   isa        scripts/check-isa-symbols.sh, if present: one test
#   regress    pg_regress: sql/*.sql + expected/*.out; one test per file
#   isolation  pg_isolation_regress: test/specs/*.spec + test/specs/expected/*.out; one test per spec
#   tap        prove test/t/*.pl (PostgreSQL::Test::Cluster); every "ok N" counts, a file that dies
#              or exits non-zero counts as one more failure
#   leak       scripts/valgrind-boundary.sh: boundary self-test under valgrind; one test
#   demo       scripts/demo.sh (runs once the vector type exists): one test
# Counting is strict: a suite that cannot build, start or finish counts as failed.
#
# Environment:
#   RULAKE_PREFIX=DIR   install into a private copy of the server under DIR (scripts/private-pg.sh)
#                       instead of the system one, so several checkouts can test side by side
#   RULAKE_SUITES="unit regress"   which suites to run
#   TAP_TESTS="test/t/001_x.pl ..."  which TAP files to run (default: all)
#   PG_CONFIG           pg_config of the server to build against (default: PostgreSQL 15's)
#   RULAKE_TIME_BUDGET  seconds the whole run may take (default 4800, inside CI's 90 minutes); each
#                       runner gets a timeout within what is left, and suites that get no time fail
#
# Test inputs are copied to a scratch directory under /tmp that the postgres user can read (the
# checkout may live under /root); clusters run as postgres (initdb refuses root). The scratch
# directory is removed when everything passed and kept (its path is printed) otherwise.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
. scripts/common.sh
suites=" ${RULAKE_SUITES:-unit isa regress isolation tap leak demo} "
jobs=2   # the machines have 2 cores shared with others: never more

passed=0
failed=0
deadline=$((SECONDS + ${RULAKE_TIME_BUDGET:-4800}))
finished=0
work=""

mark=$SECONDS   # start of the current suite (or TAP file), for the timings
note() { printf '\n=== %s ===\n' "$*"; mark=$SECONDS; }
# Adds one suite's counts to the totals and prints them (not in the closing line's format).
tally() {  # NAME PASSED FAILED
  passed=$((passed + $2)); failed=$((failed + $3))
  printf -- '--- %s: passed %d, failed %d (%ds)\n' "$1" "$2" "$3" $((SECONDS - mark))
}
# Counts a failure that is not a single test's (build error, crashed runner, ...).
setup_failure() { echo "FAILED: $*"; failed=$((failed + 1)); }
# Counts a failure that makes running the suites pointless, and stops.
abort_run() { setup_failure "$*"; finished=1; exit 1; }

# Prints a timeout in seconds for the next runner: at most $1, and no more than the time left.
# Fails (printing nothing) when less than a minute is left.
time_for() {
  local left=$((deadline - SECONDS))
  [ "$left" -ge 60 ] || return 1
  echo $(( $1 < left ? $1 : left ))
}
# Counts a suite that got no time as failed.
no_time() { setup_failure "$1: not run, the time budget (RULAKE_TIME_BUDGET) is used up"; }

# Runs a command as the postgres user, in the scratch directory's copy of the repository.
as_pg() { as_postgres "$work/repo" "$1"; }

# Stops every server still running from the scratch directory (left over by a crashed or timed-out
# suite), by the pid in its postmaster.pid.
stop_leftover_servers() {
  [ -n "$work" ] && [ -d "$work" ] || return 0
  local pidfile pid
  while IFS= read -r pidfile; do
    pid=$(head -n1 "$pidfile" 2>/dev/null)
    [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || continue
    echo "stopping leftover server $pid ($(dirname "$pidfile"))"
    kill -QUIT "$pid" 2>/dev/null; sleep 2
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  done < <(find "$work" -name postmaster.pid 2>/dev/null)
}

# Prints the closing line, always last. Runs on every exit path.
finish() {
  local status=$?
  trap - EXIT INT TERM
  if [ "$finished" -eq 0 ]; then
    # The script stopped before its end (interrupted, or a bug in this script): count it.
    echo "test run stopped early (status $status)"
    failed=$((failed + 1))
  fi
  stop_leftover_servers
  if [ -n "$work" ] && [ -d "$work" ]; then
    if [ "$failed" -eq 0 ]; then rm -rf "$work"; else echo "test outputs kept in $work"; fi
  fi
  echo
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ] && exit 0
  exit 1
}
trap finish EXIT
trap 'exit 130' INT TERM

# ---- dependencies, build, install --------------------------------------------------------------
note "dependencies"
bash scripts/install-deps.sh || abort_run "dependency installation"
choose_pg_config
id postgres >/dev/null 2>&1 || abort_run "no postgres user (is postgresql-15 installed?)"

work=$(mktemp -d /tmp/rulake-test.XXXXXX)
chmod 755 "$work"

note "build"
if ! make -s -j"$jobs" PG_CONFIG="$PG_CONFIG" >"$work/build.log" 2>&1; then
  cat "$work/build.log"; abort_run "build"
fi
if [ -n "${RULAKE_PREFIX:-}" ]; then
  if ! bindir=$(bash scripts/private-pg.sh "$RULAKE_PREFIX" 2>"$work/install.log" | tail -n1) || [ ! -x "$bindir/postgres" ]; then
    cat "$work/install.log"; abort_run "install into private prefix $RULAKE_PREFIX"
  fi
else
  if ! make -s install PG_CONFIG="$PG_CONFIG" >"$work/install.log" 2>&1; then
    cat "$work/install.log"; abort_run "make install"
  fi
  bindir=$("$PG_CONFIG" --bindir)
fi
echo "server binaries: $bindir"
pgxs_src=$(cd "$(dirname "$("$PG_CONFIG" --pgxs)")/.." && pwd)   # .../lib/pgxs/src
pg_regress=$pgxs_src/test/regress/pg_regress
pg_isolation_regress=$pgxs_src/test/isolation/pg_isolation_regress

# A copy of the checkout the postgres user can read (sources, tests, scripts; no build products).
mkdir -p "$work/repo"
tar -C "$here" --exclude=./.git --exclude=./build --exclude=./bench/out --exclude='*.o' --exclude='*.so' --exclude='*.bc' \
    --exclude='*.d' -cf - . | tar -C "$work/repo" -xf -
# The shared folder (data sets, reference files) beside the checkout; copied only if postgres
# cannot read it where it is.
shared=""
if [ -d "$here/../shared" ]; then
  shared=$(cd "$here/../shared" && pwd -P)
  # Unit tests (run as the invoking user) read it in place.
  export RULAKE_ROOT=$here RULAKE_SHARED=$shared
  if ! as_postgres / "test -r '$shared' && test -x '$shared' && ls '$shared' >/dev/null" 2>/dev/null; then
    cp -r "$shared" "$work/shared"; shared=$work/shared
  fi
fi
chown -R postgres:postgres "$work"

# ---- unit: GoogleTest, plain and under sanitizers -----------------------------------------------
# Counts "[       OK ]" lines as passed and per-test "[  FAILED  ] X (N ms)" lines as failed; a run
# that exits non-zero without a failed test (crash, sanitizer report at exit) counts one more.
run_gtest() {  # LABEL BINARY LOG
  local label=$1 binary=$2 log=$3 status p f limit
  limit=$(time_for 900) || { no_time "$label"; return; }
  timeout -k 10 "$limit" "$binary" --gtest_color=no >"$log" 2>&1
  status=$?
  p=$(grep -c '^\[       OK \]' "$log")
  f=$(grep -cE '^\[  FAILED  \] .* \([0-9]+ ms\)$' "$log")
  if [ "$status" -ne 0 ] || [ "$f" -gt 0 ]; then
    grep -vE '^\[( RUN      |       OK )\]' "$log" | tail -n 200
    if [ "$f" -eq 0 ]; then echo "$label exited with status $status"; f=1; fi
  else
    tail -n 3 "$log"
  fi
  tally "$label" "$p" "$f"
}
if [[ "$suites" == *" unit "* ]]; then
  note "unit tests (GoogleTest)"
  if make -s -j"$jobs" unit-build >"$work/unit-build.log" 2>&1; then
    run_gtest "unit" build/unit/rulake_unit "$work/unit.log"
    # The same binary with the kernel dispatch capped to lower ISAs: the code paths a CPU without
    # AVX-512 (or without AVX2) takes, on this machine.
    for isa in avx2 scalar; do
      RULAKE_FORCE_ISA=$isa run_gtest "unit (kernels capped at $isa)" build/unit/rulake_unit "$work/unit-$isa.log"
    done
  else
    cat "$work/unit-build.log"; setup_failure "unit test build"
  fi
  if [ "${RULAKE_SANITIZE:-1}" != 0 ]; then
    note "unit tests under AddressSanitizer + UBSan"
    if make -s -j"$jobs" unit-build SANITIZE=1 >"$work/unit-san-build.log" 2>&1; then
      export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
      run_gtest "unit (ASan+UBSan)" build/unit-san/rulake_unit "$work/unit-san.log"
    else
      cat "$work/unit-san-build.log"; setup_failure "sanitizer unit test build"
    fi
  fi
fi

# ---- isa: no ISA-specific code reachable from generic code --------------------------------------
if [[ "$suites" == *" isa "* ]] && [ -f scripts/check-isa-symbols.sh ]; then
  note "ISA symbol audit"
  if ! limit=$(time_for 300); then no_time "isa symbols"
  elif timeout -k 10 "$limit" bash scripts/check-isa-symbols.sh; then tally "isa symbols" 1 0; else tally "isa symbols" 0 1; fi
  # The audit must catch each kind of leak it claims to: its self-test plants one of each.
  if ! limit=$(time_for 300); then no_time "isa audit self-test"
  elif timeout -k 10 "$limit" bash scripts/check-isa-symbols.sh --self-test; then tally "isa audit self-test" 1 0; else tally "isa audit self-test" 0 1; fi
fi

# ---- pg_regress / isolation ---------------------------------------------------------------------
# Every listed test that does not report "... ok" counts as failed (also when the runner could not
# start); a runner that exits non-zero although every test passed counts one more failure.
run_pg_regress() {  # LABEL RUNNER INPUTDIR OUTDIR TESTS...
  local label=$1 runner=$2 inputdir=$3 outdir=$4; shift 4
  local total=$# status p f limit
  limit=$(time_for 1200) || { no_time "$label"; failed=$((failed + total - 1)); return; }
  as_pg "RULAKE_FIXTURES='$work/repo/test/fixtures' RULAKE_SHARED='$shared' timeout -k 10 $limit '$runner' --temp-instance='$work/$outdir-instance' --bindir='$bindir' \
         --inputdir='$inputdir' --outputdir='$work/$outdir' --load-extension=rulake $*" >"$work/$outdir.log" 2>&1
  status=$?
  cat "$work/$outdir.log"
  p=$(grep -cE '\.\.\. ok( |$)' "$work/$outdir.log")
  f=$((total - p))
  if [ "$f" -gt 0 ] || [ "$status" -ne 0 ]; then
    [ -f "$work/$outdir/regression.diffs" ] && { echo "--- $label: regression.diffs"; head -n 500 "$work/$outdir/regression.diffs"; }
    local t
    for t in "$@"; do   # a new test without its expected output: show what it produced
      if [ -f "$work/$outdir/results/$t.out" ] && [ ! -f "$inputdir/expected/$t.out" ]; then
        echo "--- $label: no expected output for $t; it produced $work/$outdir/results/$t.out:"
        head -n 100 "$work/$outdir/results/$t.out"
      fi
    done
    [ -f "$work/$outdir/log/postmaster.log" ] && { echo "--- $label: server log (tail)"; tail -n 80 "$work/$outdir/log/postmaster.log"; }
    if [ "$f" -eq 0 ]; then echo "$label runner exited with status $status"; f=1; fi
  fi
  tally "$label" "$p" "$f"
}
if [[ "$suites" == *" regress "* ]]; then
  mapfile -t regress_tests < <(ls sql/*.sql 2>/dev/null | grep -v '/rulake--' | xargs -rn1 basename | sed 's/\.sql$//')
  note "pg_regress (${#regress_tests[@]} tests)"
  if [ "${#regress_tests[@]}" -gt 0 ]; then
    run_pg_regress "regress" "$pg_regress" . regress-out "${regress_tests[@]}"
  fi
fi
if [[ "$suites" == *" isolation "* ]]; then
  mapfile -t iso_tests < <(ls test/specs/*.spec 2>/dev/null | xargs -rn1 basename | sed 's/\.spec$//')
  note "isolation (${#iso_tests[@]} specs)"
  if [ "${#iso_tests[@]}" -gt 0 ]; then
    # pg_isolation_regress wants INPUTDIR/specs and INPUTDIR/expected.
    mkdir -p "$work/iso/specs" "$work/iso/expected"
    cp test/specs/*.spec "$work/iso/specs/"
    cp test/specs/expected/*.out "$work/iso/expected/" 2>/dev/null
    chown -R postgres:postgres "$work/iso"
    run_pg_regress "isolation" "$pg_isolation_regress" "$work/iso" iso-out "${iso_tests[@]}"
  fi
fi

# ---- TAP ----------------------------------------------------------------------------------------
# PostgreSQL::Test::Cluster picks free ports itself and reserves them with lock files in
# PG_TEST_PORT_DIR; one directory for all runs on the machine keeps parallel runs apart. Each node
# listens on a Unix socket in its own temporary directory only.
if [[ "$suites" == *" tap "* ]]; then
  read -r -a tap_tests <<<"${TAP_TESTS:-$(ls test/t/*.pl 2>/dev/null | tr '\n' ' ')}"
  note "TAP (${#tap_tests[@]} files)"
  portdir=/tmp/rulake-tap-portlock
  mkdir -p "$portdir" && chown postgres:postgres "$portdir"
  tap_env="PATH='$bindir':\$PATH PERL5LIB='$pgxs_src/test/perl' PG_REGRESS='$pg_regress' \
           PG_TEST_PORT_DIR='$portdir' RULAKE_ROOT='$work/repo' RULAKE_SHARED='$shared'"
  for t in "${tap_tests[@]}"; do
    name=$(basename "$t" .pl)
    mark=$SECONDS
    tapdir=$work/tap/$name   # TESTDIR: tmp_check/ with the nodes' data and logs goes here
    mkdir -p "$tapdir" && chown postgres:postgres "$work/tap" "$tapdir"
    limit=$(time_for 900) || { no_time "tap $name"; continue; }
    as_pg "$tap_env TESTDIR='$tapdir' TESTDATADIR='$tapdir/tmp_check' timeout -k 10 $limit prove -v '$t'" \
      >"$tapdir/prove.log" 2>&1
    status=$?
    skipped=$(grep -ciE '^ok [0-9]+ *(- .*)?# *skip' "$tapdir/prove.log")
    p=$(( $(grep -cE '^ok [0-9]+' "$tapdir/prove.log") - skipped ))
    f=$(grep -cE '^not ok [0-9]+' "$tapdir/prove.log")
    [ "$skipped" -gt 0 ] && echo "$t: $skipped skipped (not counted)"
    grep -E '^(not )?ok [0-9]+|^#|Result:' "$tapdir/prove.log"
    if [ "$status" -ne 0 ] || [ "$f" -gt 0 ]; then
      echo "--- $t: prove output"; grep -vE '^ok [0-9]+' "$tapdir/prove.log" | tail -n 100
      for log in "$tapdir"/tmp_check/log/*; do
        [ -f "$log" ] && { echo "--- $log (tail)"; tail -n 60 "$log"; }
      done
      [ "$status" -ne 0 ] && { echo "$t: prove exited with status $status"; f=$((f + 1)); }
    fi
    tally "tap $name" "$p" "$f"
  done
fi

# ---- leak: C++ objects unwound by a Postgres error, under valgrind -----------------------------
if [[ "$suites" == *" leak "* ]] && [ -f scripts/valgrind-boundary.sh ]; then
  note "boundary leak check (valgrind)"
  if ! limit=$(time_for 600); then no_time "leak check"
  elif RULAKE_BINDIR=$bindir RULAKE_WORK=$work/valgrind timeout -k 10 "$limit" bash scripts/valgrind-boundary.sh; then
    tally "leak check" 1 0
  else
    tally "leak check" 0 1
  fi
fi

# ---- demo: the README's main command ------------------------------------------------------------
# The demo shows the vector type; it runs once the type is part of the extension.
if [[ "$suites" == *" demo "* ]]; then
  if ls src/sql/*vector*.sql >/dev/null 2>&1; then
    note "demo (scripts/demo.sh)"
    if ! limit=$(time_for 600); then no_time "demo"
    elif RULAKE_PREFIX=${RULAKE_PREFIX:-} timeout -k 10 "$limit" bash scripts/demo.sh >"$work/demo.log" 2>&1; then
      tail -n 5 "$work/demo.log"; tally "demo" 1 0
    else
      cat "$work/demo.log"; tally "demo" 0 1
    fi
  else
    note "demo: not run (the extension has no vector type yet)"
  fi
fi

finished=1
exit 0
