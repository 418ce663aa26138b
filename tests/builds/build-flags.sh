#!/usr/bin/env bash
# The tree builds the way users and Debian build it, not only the way CI does: Release (-O3) with
# Debian's hardening flags (dpkg-buildflags, hardening=+all; CPPFLAGS appended to CXXFLAGS as
# debhelper does, since CMake ignores CPPFLAGS), and Debug. Warnings are not errors here
# (VNFCTL_WERROR is for CI and developers). Builds vnfctl and, where DPDK is present, vnf-fwd.
# Unity builds (CMAKE_UNITY_BUILD: a target's sources compiled in batches, so the heavy headers -
# nlohmann/json, CLI11, fmt, Boost.Beast - are parsed once per batch): the tier took 11 of CI's ~40
# minutes file by file, half that in batches. The main build stays file by file, so a file that
# only compiles with its batch's includes still fails there; two files' internal names that clash
# in one batch fail here (give them distinct names).
# Usage: build-flags.sh SOURCE_DIR WORK_DIR
set -euo pipefail
src=$1
work=$2
mkdir -p "$work"
targets=(vnfctl)
pkg-config --exists libdpdk && targets+=(vnf-fwd)
pass=0 failed=0
build() { # build NAME CMAKE_ARGS...
  local name=$1; shift
  local dir=$work/$name
  echo "== $name: cmake $*"
  if cmake -S "$src" -B "$dir" -G Ninja -DVNFCTL_WERROR=OFF -DCMAKE_UNITY_BUILD=ON "$@" >"$dir.log" 2>&1 &&
     cmake --build "$dir" -j"$(nproc)" --target "${targets[@]}" >>"$dir.log" 2>&1; then
    echo "PASS: $name builds (${targets[*]}); $(grep -c 'warning:' "$dir.log" || true) warnings"
    pass=$((pass + 1))
  else
    tail -n 40 "$dir.log"
    echo "FAIL: $name does not build"
    failed=$((failed + 1))
  fi
}
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
cxxflags="$(dpkg-buildflags --get CXXFLAGS) $(dpkg-buildflags --get CPPFLAGS)"
ldflags=$(dpkg-buildflags --get LDFLAGS)
CXXFLAGS=$cxxflags CFLAGS="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)" LDFLAGS=$ldflags \
  build release-hardened -DCMAKE_BUILD_TYPE=Release
# The hardening really reached the binary: PIE, full RELRO, stack protector, _FORTIFY_SOURCE.
bin=$work/release-hardened/launcher/cli/vnfctl
if [[ -x $bin ]]; then
  hard=1
  # Read each table once into a variable: grep -q on a pipe would make readelf die of SIGPIPE,
  # which pipefail turns into a false "missing".
  header=$(readelf -W -h "$bin") dynamic=$(readelf -W -d "$bin") symbols=$(readelf -W --dyn-syms "$bin")
  grep -q 'DYN' <<<"$header" || { echo "not PIE"; hard=0; }
  grep -q 'BIND_NOW' <<<"$dynamic" || { echo "no BIND_NOW (full RELRO)"; hard=0; }
  grep -q '__stack_chk_fail' <<<"$symbols" || { echo "no stack protector"; hard=0; }
  grep -qE '__[a-z]+_chk' <<<"$symbols" || { echo "no _FORTIFY_SOURCE calls"; hard=0; }
  if ((hard)); then echo "PASS: release-hardened vnfctl is PIE, full RELRO, stack-protected, fortified"; pass=$((pass + 1));
  else echo "FAIL: release-hardened vnfctl lacks hardening"; failed=$((failed + 1)); fi
fi
build debug -DCMAKE_BUILD_TYPE=Debug
echo "build-flags: $pass passed, $failed failed"
((failed == 0))
