#!/usr/bin/env bash
# Run a command with the local Kafka broker up: start it unless one already runs, and stop
# it afterwards only if this script started it. Usage: scripts/with-broker.sh COMMAND...
set -euo pipefail
cd "$(dirname "$0")/.."
NEWSFLOW=.venv/bin/newsflow
started=0
if ! "$NEWSFLOW" kafka status >/dev/null 2>&1; then
  "$NEWSFLOW" kafka start
  started=1
fi
cleanup() { if [ "$started" = 1 ]; then "$NEWSFLOW" kafka stop; fi; }
trap cleanup EXIT
"$@"
