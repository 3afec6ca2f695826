#!/usr/bin/env bash
# RDB save and load time for N small keys (default 1,000,000): ferredis
# next to Debian's redis-server on the same machine. Keys come from
# DEBUG POPULATE (key:N -> value:N), so both servers hold the same data and
# write files of the same size. Prints one table; run from the repo root
# after `cargo build --release`. Loopback, free ports, temp dirs, and every
# server it starts is shut down.
set -euo pipefail
N=${1:-1000000}
ROUNDS=${ROUNDS:-3}
FERREDIS=${FERREDIS:-target/release/ferredis}
REDIS=${REDIS:-/usr/bin/redis-server}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_ping() { for _ in $(seq 600); do [ "$(redis-cli -p "$1" ping 2>/dev/null)" = PONG ] && return 0; sleep 0.05; done; return 1; }
start() { # name port dir log
  if [ "$1" = ferredis ]; then
    "$FERREDIS" --port "$2" --bind 127.0.0.1 --dir "$3" --save '' --enable-debug-command yes >"$4" 2>&1 &
  else
    "$REDIS" --port "$2" --bind 127.0.0.1 --dir "$3" --save '' --enable-debug-command yes --daemonize yes --logfile "$4"
  fi
  wait_ping "$2"
}
for name in ferredis redis; do
  dir="$work/$name"; mkdir -p "$dir"; port=$(free_port)
  start "$name" "$port" "$dir" "$work/$name.log"
  redis-cli -p "$port" debug populate "$N" >/dev/null
  saves=()
  for _ in $(seq "$ROUNDS"); do
    s=$(date +%s%N); redis-cli -p "$port" save >/dev/null; e=$(date +%s%N)
    saves+=("$(( (e - s) / 1000000 ))")
  done
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
  sleep 0.5
  loads=()
  for r in $(seq "$ROUNDS"); do
    port=$(free_port); log="$work/$name-load$r.log"
    start "$name" "$port" "$dir" "$log"
    # Both servers log the load time: "... DB loaded from disk: ... 1.234 seconds".
    loads+=("$(grep -o 'DB loaded from disk.*seconds' "$log" | grep -oE '[0-9]+\.[0-9]+ seconds' | cut -d' ' -f1)")
    redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
    sleep 0.5
  done
  size=$(stat -c %s "$dir/dump.rdb")
  printf '%-9s keys=%s file=%s bytes  SAVE ms: %s  load s: %s\n' \
    "$name" "$N" "$size" "${saves[*]}" "${loads[*]}"
done
