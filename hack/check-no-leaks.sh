#!/usr/bin/env bash
# Fails when the test suite left a process running (control plane, redis, Prometheus, simulators).
#   check-no-leaks.sh snapshot FILE   record what runs before the suite (e.g. a developer's demo)
#   check-no-leaks.sh check FILE      fail on any such process not in the snapshot
set -u
pattern="${MECQKD_CACHE:-$HOME/.cache/mecqkd}/bin/|redis-server 127.0.0.1|prometheus --config|kme-sim/src/cli.ts|whisk-sim/src/cli.ts|operator/dist/operator.mjs|operator/bin/operator.mjs"
ours() { pgrep -f "$pattern" 2>/dev/null | sort -n; }
case "${1:-}" in
  snapshot) ours > "$2" ;;
  check)
    leaks=$(comm -13 "$2" <(ours))
    if [ -n "$leaks" ]; then
      echo "processes left running after the tests:" >&2
      for pid in $leaks; do ps -o pid=,args= -p "$pid" >&2; done
      exit 1
    fi
    echo "no processes left running"
    ;;
  *) echo "usage: $0 snapshot|check FILE" >&2; exit 2 ;;
esac
