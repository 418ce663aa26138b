#!/bin/bash
# packaging/vnfctl-serve.service: a system call filter never kills the service (every
# SystemCallFilter= comes with a SystemCallErrorNumber=, so a denied call such as SQLite's fchown of
# its WAL files as root is an error, not SIGSYS), and systemd-analyze verify accepts the unit without
# a warning (ExecStart pointed at /bin/true: vnfctl is not installed under /usr/bin here).
# Usage: serve_unit.sh [UNIT]
set -uo pipefail
unit=${1:-$(cd "$(dirname "$0")/../.." && pwd)/packaging/vnfctl-serve.service}
failed=0
ok() { echo "PASS: $*"; }
bad() { echo "FAIL: $*"; failed=1; }

if grep -q '^SystemCallFilter=' "$unit"; then
  if grep -qE '^SystemCallErrorNumber=E[A-Z0-9]+$' "$unit"; then
    ok "SystemCallFilter= comes with SystemCallErrorNumber= ($(sed -n 's/^SystemCallErrorNumber=//p' "$unit"))"
  else
    bad "$unit filters system calls without SystemCallErrorNumber=: a denied call (SQLite's fchown of its -wal/-shm files as root, in @privileged) kills vnfctl serve with SIGSYS; add SystemCallErrorNumber=EPERM"
  fi
fi

if command -v systemd-analyze > /dev/null; then
  tmp=$(mktemp -d /tmp/vnfctl-unit.XXXXXX)
  trap 'rm -rf "$tmp"' EXIT
  sed 's|^ExecStart=/usr/bin/vnfctl |ExecStart=/bin/true |' "$unit" > "$tmp/vnfctl-serve.service"
  if out=$(systemd-analyze verify "$tmp/vnfctl-serve.service" 2>&1) && [[ -z $out ]]; then
    ok "systemd-analyze verify: no error, no warning"
  else
    bad "systemd-analyze verify: $out"
  fi
  # Why the error number matters: the chown calls are in a set the unit denies.
  if systemd-analyze syscall-filter @privileged 2>/dev/null | grep -qE '^ +@chown$' &&
    grep -qE '^SystemCallFilter=~.*@privileged' "$unit"; then
    ok "the unit denies @privileged, which holds @chown (fchown): the error number is what keeps serve alive"
  fi
else
  echo "SKIP: systemd-analyze is not installed (the lint above still ran)"
fi
exit $failed
