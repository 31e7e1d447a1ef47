#!/usr/bin/env bash
# Local single-node KRaft Kafka broker from Maven Central jars (no Docker).
# Usage: deploy/kafka/kafka-local.sh fetch|start|stop|status
# Environment: KAFKA_PORT (19092), KAFKA_CONTROLLER_PORT (KAFKA_PORT + 1),
#              KAFKA_SASL_PORT (KAFKA_PORT + 2: SASL_PLAINTEXT/PLAIN listener), KAFKA_RUN_DIR (.kafka-run),
#              KAFKA_HEAP_OPTS, KAFKA_START_TIMEOUT (90 s), PYTHON (python with aiokafka).
set -euo pipefail

KDIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"      # deploy/kafka
ROOT="$(cd "$KDIR/../.." && pwd)"                          # repository root
LIBS="$KDIR/libs"                                          # filled by Maven; git-ignored
RUN="${KAFKA_RUN_DIR:-$ROOT/.kafka-run}"                   # config, data, log, pid; git-ignored
PORT="${KAFKA_PORT:-19092}"
CPORT="${KAFKA_CONTROLLER_PORT:-$((PORT + 1))}"
SPORT="${KAFKA_SASL_PORT:-$((PORT + 2))}"
CLUSTER_ID="${KAFKA_CLUSTER_ID:-5L6g3nShT-eMCtK--X86sw}"   # 22-char base64url UUID
HEAP="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
JVM="-XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true"
LOGCFG="-Dlog4j2.configurationFile=$KDIR/log4j2.properties"
PY="${PYTHON:-python3}"

fetch() {
  if ! compgen -G "$LIBS/kafka_2.13-*.jar" >/dev/null; then
    command -v mvn >/dev/null || { echo "kafka-local: Maven (mvn) is required to fetch the broker jars" >&2; exit 1; }
    rm -rf "$LIBS"
    mvn -B -q -f "$KDIR/pom.xml" dependency:copy-dependencies
  fi
}

is_running() {
  [ -f "$RUN/kafka.pid" ] && kill -0 "$(cat "$RUN/kafka.pid")" 2>/dev/null
}

start() {
  command -v java >/dev/null || { echo "kafka-local: Java 17+ is required" >&2; exit 1; }
  fetch
  if is_running; then
    echo "kafka-local: already running (pid $(cat "$RUN/kafka.pid")) on 127.0.0.1:$PORT"
    return 0
  fi
  rm -rf "$RUN"; mkdir -p "$RUN/data"
  sed -e "s#@PORT@#$PORT#g" -e "s#@CPORT@#$CPORT#g" -e "s#@SPORT@#$SPORT#g" -e "s#@DATA@#$RUN/data#g" \
      "$KDIR/server.properties.in" > "$RUN/server.properties"
  # shellcheck disable=SC2086
  java $LOGCFG -cp "$LIBS/*" kafka.tools.StorageTool format \
       --cluster-id="$CLUSTER_ID" --config "$RUN/server.properties" > "$RUN/format.log" 2>&1 \
    || { cat "$RUN/format.log" >&2; exit 1; }
  # shellcheck disable=SC2086
  nohup java $HEAP $JVM $LOGCFG -cp "$LIBS/*" kafka.Kafka "$RUN/server.properties" \
       > "$RUN/kafka.log" 2>&1 < /dev/null &
  echo $! > "$RUN/kafka.pid"
  echo "127.0.0.1:$PORT" > "$RUN/bootstrap"
  if ! "$PY" "$KDIR/wait_ready.py" "127.0.0.1:$PORT" "${KAFKA_START_TIMEOUT:-90}"; then
    tail -n 60 "$RUN/kafka.log" >&2; stop; exit 1
  fi
}

stop() {
  [ -f "$RUN/kafka.pid" ] || { echo "kafka-local: not running"; return 0; }
  local pid; pid="$(cat "$RUN/kafka.pid")"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$RUN/kafka.pid"
  echo "kafka-local: stopped"
}

status() {
  if is_running; then
    echo "running: pid $(cat "$RUN/kafka.pid"), bootstrap $(cat "$RUN/bootstrap" 2>/dev/null || echo "127.0.0.1:$PORT")"
  else
    echo "stopped"; return 3
  fi
}

case "${1:-}" in
  fetch|start|stop|status) "$1" ;;
  *) echo "usage: $0 fetch|start|stop|status" >&2; exit 2 ;;
esac
