#!/usr/bin/env bash
# Audits that code compiled with AVX2/AVX-512 flags cannot run on a CPU that lacks them unless the
# dispatcher chose it (see include/rulake/core/kernels.hpp). Run after the build:
#
#   scripts/check-isa-symbols.sh [OBJECT_DIR ...] [--so LIBRARY]
#   scripts/check-isa-symbols.sh --self-test     (checks the audit itself on small fixtures)
#
# Defaults: OBJECT_DIR = src, LIBRARY = rulake.so (skipped when absent). ISA objects are the *_avx2.o and
# *_avx512.o files; every other .o under OBJECT_DIR is generic. Findings:
#   1. a weak (W/V) or unique (u) symbol defined in an ISA object and in a generic object: the linker
#      keeps ONE copy for both, possibly the one compiled with ISA flags (the COMDAT leak);
#   2. a weak code symbol (nm type W) in an ISA object, other than xsimd code instantiated for an ISA
#      arch type: a future generic object defining it would hit finding 1;
#   3. a static initializer in an ISA object: C++ dynamic initialization, or a constructor (such as a
#      sanitizer's) containing ISA instructions: it runs at load time on every CPU;
#   4. an instruction of AVX, AVX-512, BMI1/2, POPCNT or LZCNT in a generic object;
#   5. such an instruction in LIBRARY in a function that is not part of an ISA file (names under
#      rulake::core::avx2:: / rulake::core::avx512::, or xsimd code for an ISA arch type).
# Prints every finding and exits 1 if there is any, 0 otherwise (2 on usage errors).
set -uo pipefail

# --self-test: builds small fixtures in a temporary directory, one per finding, and checks that the
# audit passes the clean one and reports each of the others.
self_test() {
  local script status=0
  script=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
  self_test_dir=$(mktemp -d) || exit 2
  trap 'rm -rf "$self_test_dir"' EXIT
  cd "$self_test_dir" || exit 2
  cxx() { ${CXX:-g++} -std=c++17 -O2 -fPIC "$@"; }
  # A generic caller and a correctly isolated ISA file.
  mkdir clean && cat > clean/k_avx2.cpp <<'CPP'
#include <immintrin.h>
namespace rulake::core::avx2 {
namespace { float sum8(const float* p) { __m256 v = _mm256_loadu_ps(p); return v[0] + v[7]; } }
float (*entry())(const float*) { return sum8; }
}
CPP
  cat > clean/generic.cpp <<'CPP'
namespace rulake::core::avx2 { float (*entry())(const float*); }
float call(const float* p) { return rulake::core::avx2::entry()(p); }
CPP
  cxx -mavx2 -c clean/k_avx2.cpp -o clean/k_avx2.o && cxx -c clean/generic.cpp -o clean/generic.o &&
    cxx -shared clean/k_avx2.o clean/generic.o -o clean/lib.so || return 2
  # 1 (and 5): an inline function defined in both; the ISA object comes first at link time.
  mkdir leak && printf '%s\n' 'inline float twice(float x) { volatile float y = x; return y * 2.0f; }' > leak/helper.hpp
  printf '%s\n' '#include "helper.hpp"' 'namespace rulake::core::avx2 { float f(float x) { return twice(x); } }' \
    > leak/k_avx2.cpp
  printf '%s\n' '#include "helper.hpp"' 'float g(float x) { return twice(x); }' > leak/generic.cpp
  cxx -O0 -mavx2 -c leak/k_avx2.cpp -o leak/k_avx2.o && cxx -O0 -c leak/generic.cpp -o leak/generic.o &&
    cxx -shared leak/k_avx2.o leak/generic.o -o leak/lib.so || return 2
  # 2: a weak code symbol only in the ISA object.
  mkdir weak && printf '%s\n' 'inline float twice(float x) { volatile float y = x; return y * 2.0f; }' \
    'namespace rulake::core::avx512 { float f(float x) { return twice(x); } }' > weak/k_avx512.cpp
  cxx -O0 -mavx512f -c weak/k_avx512.cpp -o weak/k_avx512.o || return 2
  # 3: C++ dynamic initialization in an ISA object.
  mkdir init && printf '%s\n' 'float seed();' 'namespace { float table_value = seed() * 3.0f; }' \
    'namespace rulake::core::avx2 { float get() { return table_value; } }' > init/k_avx2.cpp
  cxx -mavx2 -c init/k_avx2.cpp -o init/k_avx2.o || return 2
  # 4: a generic object compiled with ISA flags.
  mkdir flags && printf '%s\n' 'float dot(const float* a, const float* b, int n) { float s = 0;' \
    'for (int i = 0; i < n; ++i) s += a[i] * b[i]; return s; }' > flags/generic.cpp
  cxx -O3 -mavx2 -mfma -c flags/generic.cpp -o flags/generic.o || return 2

  expect() {  # NAME EXPECTED_STATUS PATTERN ARGS...
    local name=$1 want=$2 pattern=$3 out got; shift 3
    out=$("$script" "$@" 2>&1); got=$?
    if [ "$got" != "$want" ] || ! grep -q -- "$pattern" <<<"$out"; then
      echo "self-test $name: FAILED (exit $got, want $want; pattern '$pattern')"; printf '%s\n' "$out" | sed 's/^/    /'
      status=1
    else
      echo "self-test $name: ok"
    fi
  }
  expect clean 0 "0 finding(s)" clean --so clean/lib.so
  expect comdat-leak 1 "both define weak symbol twice(float)" leak --so leak/lib.so
  expect leak-in-library 1 "leak/lib.so has ISA instructions outside" leak --so leak/lib.so
  expect weak-code 1 "defines weak code symbol twice(float)" weak
  expect dynamic-init 1 "has C++ dynamic initialization" init
  expect generic-with-flags 1 "generic.o (generic) contains ISA instructions" flags
  return $status
}

dirs=()
library=rulake.so
library_given=0
while [ $# -gt 0 ]; do
  case "$1" in
    --so) library=${2:?--so needs a file}; library_given=1; shift 2 ;;
    --self-test) self_test; exit $? ;;
    -h|--help) sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) dirs+=("$1"); shift ;;
  esac
done
[ ${#dirs[@]} -gt 0 ] || dirs=(src)
for tool in nm objdump readelf c++filt; do
  command -v "$tool" >/dev/null || { echo "check-isa-symbols: $tool not found" >&2; exit 2; }
done

isa_objects=()
generic_objects=()
while IFS= read -r -d '' obj; do
  case "$obj" in
    *_avx2.o|*_avx512.o) isa_objects+=("$obj") ;;
    *) generic_objects+=("$obj") ;;
  esac
done < <(find "${dirs[@]}" -name '*.o' -type f -print0 | sort -z)
if [ ${#isa_objects[@]} -eq 0 ] && [ ${#generic_objects[@]} -eq 0 ]; then
  echo "check-isa-symbols: no object files under ${dirs[*]} (build first)" >&2
  exit 2
fi

findings=0
finding() { echo "FINDING: $*"; findings=$((findings + 1)); }

# Demangled names that are allowed to contain ISA code: the ISA files' own namespaces, and xsimd
# templates instantiated for an ISA arch type (a generic file cannot instantiate those).
isa_name_re='rulake::core::avx2::|rulake::core::avx512::|xsimd::(avx|avx2|fma3<xsimd::avx2?>|avx512[a-z]*)[,>]'

# Instructions that need more than baseline x86-64 (AT&T syntax, from objdump): any VEX/EVEX mnemonic
# (v..., except the VMX/SVM and verr/verw system instructions), ymm/zmm/opmask registers, BMI1/BMI2,
# POPCNT and LZCNT. (TZCNT is left out: GCC emits it as "rep bsf" for baseline code, where it runs as
# BSF.)
isa_insn_awk='
  function is_isa(mnemonic, operands) {
    if (mnemonic ~ /^v/ && mnemonic !~ /^(verr|verw|vmcall|vmlaunch|vmresume|vmxoff|vmxon|vmread|vmwrite|vmptrld|vmptrst|vmclear|vmfunc|vmrun|vmload|vmsave|vmmcall)$/) return 1
    if (operands ~ /%[yz]mm[0-9]/ || operands ~ /%k[0-7]([^0-9]|$)/) return 1
    if (mnemonic ~ /^(andn|bextr|blsi|blsmsk|blsr|bzhi|mulx|pdep|pext|rorx|sarx|shlx|shrx|popcnt|lzcnt)[bwlq]?$/) return 1
    return 0
  }'

# ---- 1 and 2: weak symbols ------------------------------------------------------------------------
# "name<TAB>type" of the weak/unique symbols defined in one object (mangled names).
weak_defined() { nm -P "$1" 2>/dev/null | awk '$2 ~ /^[WVu]$/ {print $1 "\t" $2}'; }

generic_weak=$(for obj in "${generic_objects[@]}"; do weak_defined "$obj" | sed "s|\$|\t$obj|"; done)
for obj in "${isa_objects[@]}"; do
  while IFS=$'\t' read -r sym type; do
    [ -n "$sym" ] || continue
    demangled=$(printf '%s\n' "$sym" | c++filt)
    # The exception personality pointer is data with identical contents everywhere.
    [[ "$sym" == DW.ref.__gxx_personality_v0 ]] && continue
    if other=$(printf '%s\n' "$generic_weak" | awk -F'\t' -v s="$sym" '$1 == s {print $3; exit}') && [ -n "$other" ]; then
      finding "$obj and $other both define weak symbol $demangled: the linker may keep the ISA copy for generic code"
      continue
    fi
    # nm type W: a weak symbol that is not an object, i.e. code (V and u are data).
    if [ "$type" = W ] && ! [[ "$demangled" =~ $isa_name_re ]]; then
      finding "$obj defines weak code symbol $demangled (type $type): give it internal linkage (anonymous namespace)"
    fi
  done < <(weak_defined "$obj")
done

# ---- 3 and 4: static initializers of ISA objects, ISA instructions in generic objects -------------
# C++ dynamic initialization (_GLOBAL__sub_I_*) is always a finding. Other constructors (the
# sanitizers' module constructors, _sub_I_<priority>_*) are findings only if they contain ISA
# instructions. Uses isa_instructions from step 4.
static_initializers() {  # OBJECT
  if readelf -SW "$1" | grep -Eq '\.(init_array|ctors|preinit_array)'; then
    nm -P "$1" | awk '$1 ~ /^(_GLOBAL__sub_I_|_sub_I_)/ {print $1}'
  fi
}

# Prints "function: instruction" for every ISA instruction outside functions matching allow_re.
isa_instructions() {  # FILE ALLOW_RE
  objdump -d --no-show-raw-insn -C "$1" | awk -v allow="$2" "$isa_insn_awk"'
    /^[0-9a-f]+ <.*>:$/ { fn = $0; sub(/^[0-9a-f]+ </, "", fn); sub(/>:$/, "", fn); next }
    /^ *[0-9a-f]+:\t/ {
      split($0, parts, "\t"); insn = parts[2]; mnemonic = insn; sub(/ .*/, "", mnemonic)
      operands = insn; sub(/^[^ ]* */, "", operands)
      if (is_isa(mnemonic, operands) && (allow == "" || fn !~ allow)) print fn ": " insn
    }'
}
for obj in "${isa_objects[@]}"; do
  for ctor in $(static_initializers "$obj"); do
    if [[ "$ctor" == _GLOBAL__sub_I_* ]]; then
      finding "$obj has C++ dynamic initialization ($ctor): it would run ISA code at load time on every CPU"
    elif isa_instructions "$obj" "" | grep -q "^$ctor: "; then
      finding "$obj has a constructor with ISA instructions ($ctor): it runs at load time on every CPU"
    fi
  done
done
for obj in "${generic_objects[@]}"; do
  hits=$(isa_instructions "$obj" "")
  if [ -n "$hits" ]; then
    finding "$obj (generic) contains ISA instructions:"
    printf '%s\n' "$hits" | head -n 10 | sed 's/^/    /'
  fi
done

# ---- 5: the linked library ------------------------------------------------------------------------
if [ -f "$library" ]; then
  if ! nm "$library" >/dev/null 2>&1 || [ "$(nm "$library" 2>/dev/null | wc -l)" -eq 0 ]; then
    finding "$library has no symbol table: cannot tell ISA functions from generic ones (do not strip before auditing)"
  else
    hits=$(isa_instructions "$library" "$isa_name_re")
    if [ -n "$hits" ]; then
      finding "$library has ISA instructions outside the ISA files' functions:"
      printf '%s\n' "$hits" | awk -F': ' '!seen[$1]++' | head -n 20 | sed 's/^/    /'
    fi
  fi
elif [ "$library_given" = 1 ]; then
  echo "check-isa-symbols: $library not found" >&2
  exit 2
fi

echo "check-isa-symbols: ${#isa_objects[@]} ISA objects, ${#generic_objects[@]} generic objects$([ -f "$library" ] && echo ", $library"): $findings finding(s)"
[ "$findings" -eq 0 ]
