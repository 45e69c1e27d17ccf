#!/usr/bin/env bash
# Local stack for manual runs: a throwaway redis-server and an in-memory Kafka-protocol
# cluster (test/support/mock-cluster.c), in the background, with state under .stack/.
#
#   scripts/dev-stack.sh up       start both (idempotent) and write .stack/env
#   scripts/dev-stack.sh down     stop both
#   scripts/dev-stack.sh status   show what is running
#   scripts/dev-stack.sh env      print the exports (source .stack/env && npm start)
#   scripts/dev-stack.sh helper   compile the mock-cluster helper if stale; print its path
#
# Settings (environment): STACK_REDIS_PORT (default 6390), STACK_KAFKA_BROKERS (default 3),
# STACK_TOPICS (default below, NAME:PARTITIONS separated by spaces).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK="$ROOT/.stack"
HELPER_SRC="$ROOT/test/support/mock-cluster.c"
HELPER_BIN="$ROOT/node_modules/.cache/lockstep/mock-cluster"
REDIS_PORT="${STACK_REDIS_PORT:-6390}"
KAFKA_BROKERS_COUNT="${STACK_KAFKA_BROKERS:-3}"
TOPICS="${STACK_TOPICS:-llm.requests:8 llm.requests.dlq:4 distill.alerts:4 distill.enforcement:4}"

log() { echo "dev-stack: $*" >&2; }

# The one place the helper is compiled; test/support/kafka.ts calls `helper` too.
build_helper() {
  if [[ ! -x "$HELPER_BIN" || "$HELPER_SRC" -nt "$HELPER_BIN" ]]; then
    mkdir -p "$(dirname "$HELPER_BIN")"
    local tmp="$HELPER_BIN.tmp.$$"
    log "compiling $HELPER_SRC -> $HELPER_BIN"
    if ! gcc -O2 -Wall -Wextra -o "$tmp" "$HELPER_SRC" -lrdkafka -lpthread; then
      rm -f "$tmp"
      log "compile failed: needs gcc and librdkafka-dev (apt-get install -y gcc libc6-dev librdkafka-dev)"
      exit 1
    fi
    mv -f "$tmp" "$HELPER_BIN" # atomic: a concurrent caller sees the old or the new binary, never half of one
  fi
  echo "$HELPER_BIN"
}

# Running = the pid file names a live process with the expected command, so a stale pid
# file whose pid was reused by something else is never signalled.
alive() {
  local comm
  [[ -f "$STACK/$1.pid" ]] || return 1
  comm=$(ps -o comm= -p "$(cat "$STACK/$1.pid")" 2>/dev/null) || return 1
  case "$1:$comm" in redis:redis-server* | kafka:mock-cluster*) return 0 ;; *) return 1 ;; esac
}

stop_one() {
  local name=$1 pid
  if alive "$name"; then
    pid=$(cat "$STACK/$name.pid")
    kill "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then log "$name (pid $pid) ignored SIGTERM; killing"; kill -9 "$pid"; fi
    log "stopped $name (pid $pid)"
  fi
  rm -f "$STACK/$name.pid"
}

start_redis() {
  if alive redis; then log "redis already running (pid $(cat "$STACK/redis.pid"))"; return; fi
  mkdir -p "$STACK/redis"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$STACK/redis" --logfile "$STACK/redis.log" --daemonize no </dev/null >/dev/null 2>&1 &
  echo $! >"$STACK/redis.pid"
  for _ in $(seq 100); do
    if [[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]; then
      log "redis up on 127.0.0.1:$REDIS_PORT (pid $!)"; return
    fi
    alive redis || break
    sleep 0.1
  done
  log "redis failed to start; see $STACK/redis.log"; tail -5 "$STACK/redis.log" >&2 || true
  stop_one redis; exit 1
}

start_kafka() {
  if alive kafka; then log "kafka already running (pid $(cat "$STACK/kafka.pid"))"; return; fi
  local bin args=(--brokers "$KAFKA_BROKERS_COUNT" --no-stdin) t
  bin=$(build_helper)
  for t in $TOPICS; do args+=(--topic "$t"); done
  "$bin" "${args[@]}" </dev/null >"$STACK/kafka.out" 2>"$STACK/kafka.log" &
  echo $! >"$STACK/kafka.pid"
  for _ in $(seq 100); do
    if grep -q '^bootstrap.servers=' "$STACK/kafka.out" 2>/dev/null; then
      log "kafka up: $(kafka_brokers) (pid $!)"; return
    fi
    alive kafka || break
    sleep 0.1
  done
  log "mock kafka failed to start; see $STACK/kafka.log"; tail -5 "$STACK/kafka.log" >&2 || true
  stop_one kafka; exit 1
}

kafka_brokers() { sed -n 's/^bootstrap.servers=//p' "$STACK/kafka.out" | head -1; }

env_lines() {
  echo "export KAFKA_BROKERS=$(kafka_brokers)"
  echo "export REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
}

cmd_up() {
  mkdir -p "$STACK"
  start_redis
  start_kafka
  env_lines >"$STACK/env"
  log "wrote $STACK/env; run: source .stack/env && npm start"
}

cmd_down() {
  stop_one kafka
  stop_one redis
  rm -f "$STACK/env" "$STACK/kafka.out"
}

cmd_status() {
  local rc=0 name
  for name in redis kafka; do
    if alive "$name"; then echo "$name: running (pid $(cat "$STACK/$name.pid"))"; else echo "$name: stopped"; rc=1; fi
  done
  if alive kafka; then echo "kafka brokers: $(kafka_brokers)"; fi
  if alive redis; then echo "redis: redis://127.0.0.1:$REDIS_PORT"; fi
  return $rc
}

cmd_env() {
  if ! alive kafka || ! alive redis; then log "stack is not (fully) up; run: $0 up"; exit 1; fi
  env_lines
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) cmd_env ;;
  helper) build_helper ;;
  *) echo "usage: $0 up|down|status|env|helper" >&2; exit 2 ;;
esac
