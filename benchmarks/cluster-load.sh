#!/usr/bin/env bash
# Decisions per second on Redis Cluster with one primary against three (benchmarks/STORES.md, "Redis Cluster").
# Starts a one-primary cluster (all 16,384 slots on one node) and a three-primary cluster on free loopback ports, runs
# the load console's cluster mode against both, and stops every node it started.
# Usage: bash benchmarks/cluster-load.sh [seconds per case] [callers, comma-separated]
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-5}
callers=${2:-64,256}
dir=$(mktemp -d /tmp/pe-cluster-load.XXXXXX)
pids=()
stop() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done; for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done; rm -rf "$dir"; }
trap stop EXIT
ports=($(python3 -c 'import socket
socks = [socket.socket() for _ in range(8)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks: s.close()'))
start_node() { # port bus-port
  mkdir -p "$dir/$1"
  redis-server --port "$1" --cluster-port "$2" --bind 127.0.0.1 --cluster-announce-ip 127.0.0.1 --cluster-enabled yes --cluster-config-file "$dir/$1/nodes.conf" \
    --dir "$dir/$1" --save '' --appendonly no --daemonize no >"$dir/$1/redis.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do [ "$(redis-cli -p "$1" ping 2>/dev/null)" = PONG ] && return; sleep 0.1; done
  echo "redis-server on port $1 did not start" >&2; exit 1
}
wait_ok() { for port in "$@"; do for _ in $(seq 1 100); do redis-cli -p "$port" cluster info | grep -q '^cluster_state:ok' && break; sleep 0.1; done; done; }
start_node "${ports[0]}" "${ports[4]}"
redis-cli -p "${ports[0]}" cluster addslotsrange 0 16383 >/dev/null
for i in 1 2 3; do start_node "${ports[$i]}" "${ports[$((i + 4))]}"; done
redis-cli --cluster create "127.0.0.1:${ports[1]}" "127.0.0.1:${ports[2]}" "127.0.0.1:${ports[3]}" --cluster-replicas 0 --cluster-yes >"$dir/create.log" 2>&1 || { cat "$dir/create.log" >&2; exit 1; }
wait_ok "${ports[0]}" "${ports[1]}" "${ports[2]}" "${ports[3]}"
dotnet build -c Release benchmarks/PolicyEngine.StoreLoad >"$dir/build.log" 2>&1 || { cat "$dir/build.log" >&2; exit 1; }
console=benchmarks/PolicyEngine.StoreLoad/bin/Release/net10.0/PolicyEngine.StoreLoad.dll

# Server side alone: the reservation script driven by redis-benchmark (C, a few µs of CPU per call) with 64 connections
# (per node), one fixed-window counter per call out of 10,000 per node, admitted (max 9e12). --cluster routes each call
# by its key's {tag}, which redis-benchmark sets per node.
script=$(dotnet "$console" script)
for port in "${ports[0]}" "${ports[1]}" "${ports[2]}" "${ports[3]}"; do sha=$(redis-cli -p "$port" script load "$script"); done
now=$(($(date +%s) * 1000)); start=$((now / 3600000 * 3600000))
echo "| server side alone: redis-benchmark, EVALSHA of the reservation script | primaries | requests/s |"
echo "| --- | ---: | ---: |"
for round in 1 2; do
  for cluster in 1 3; do
    # redis-benchmark refuses --cluster with a single node; that node owns every slot, so plain mode routes right.
    if [ "$cluster" = 1 ]; then port=${ports[0]}; mode=(-c 64); else port=${ports[1]}; mode=(--cluster -c 64); fi
    rps=$(redis-benchmark -p "$port" "${mode[@]}" -n 400000 -r 10000 -q \
      EVALSHA "$sha" 1 "pe-bench:c:{tag}:__rand_int__" 1 "$now" 0 1 8999999999999 "$start" "$start" $((start - 3600000)) 7200000 2>/dev/null \
      | tr '\r' '\n' | grep -Eo '[0-9.]+ requests per second' | tail -1 | grep -Eo '^[0-9.]+')
    echo "| round $round | $cluster | ${rps:-?} |"
  done
done
echo
dotnet "$console" cluster "127.0.0.1:${ports[0]}" "127.0.0.1:${ports[1]},127.0.0.1:${ports[2]},127.0.0.1:${ports[3]}" "$seconds" "$callers"
