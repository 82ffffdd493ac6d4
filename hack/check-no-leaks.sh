#!/usr/bin/env bash
# After `make test`: fail if any process the suite starts (control plane, redis, simulators) survived.
set -u
leaks=$(pgrep -a -f "${MECQKD_CACHE:-$HOME/.cache/mecqkd}/bin/|redis-server 127.0.0.1|redis-server \*|prometheus --config|kme-sim/src/cli.ts|whisk-sim/src/cli.ts" 2>/dev/null | grep -v -e pgrep -e check-no-leaks || true)
if [ -n "$leaks" ]; then
  echo "processes left running after the tests:" >&2
  echo "$leaks" >&2
  exit 1
fi
echo "no processes left running"
