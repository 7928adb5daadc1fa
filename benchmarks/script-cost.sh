#!/usr/bin/env bash
# Instructions Redis executes per EVALSHA of the reservation script (callgrind; deterministic, unlike timings on a
# shared machine): `return 1`, then one fixed-window counter admitted and refused (the script's fast path) and one
# sliding-window counter admitted (the general path). benchmarks/STORES.md quotes its output.
# Usage: bash benchmarks/script-cost.sh [PolicyEngine.StoreLoad.dll of the build to measure | a .lua file holding the script]
set -uo pipefail
cd "$(dirname "$0")/.."
console=${1:-}
if [ -z "$console" ]; then
  dotnet build -c Release benchmarks/PolicyEngine.StoreLoad >/dev/null 2>&1 || { echo "build failed" >&2; exit 1; }
  console=benchmarks/PolicyEngine.StoreLoad/bin/Release/net10.0/PolicyEngine.StoreLoad.dll
fi
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 1; }
dir=$(mktemp -d /tmp/pe-script-cost.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.out.%p" redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no >"$dir/valgrind.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 200); do [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && break; sleep 0.1; done
if [[ "$console" == *.lua ]]; then script=$(cat "$console"); else script=$(dotnet "$console" script); fi
sha=$(redis-cli -p "$port" script load "$script")
one=$(redis-cli -p "$port" script load "return 1")
now=1773482420250; hour=$((now / 3600000 * 3600000)); bucket=$((now / 360000 * 360000)); from=$(((now - 3600000) / 360000 * 360000))
measure() { # label, then the command; prints instructions per call of processCommand (the whole command) over 1,000 calls
  local label=$1; shift
  for _ in 1 2 3; do redis-cli -p "$port" "$@" >/dev/null; done
  callgrind_control -z "$pid" >/dev/null 2>&1
  for _ in $(seq 1 1000); do echo "$*"; done | redis-cli -p "$port" >/dev/null
  callgrind_control -d "$pid" >/dev/null 2>&1
  local file=$(ls -t "$dir"/callgrind.out.* | head -1)
  local total=$(callgrind_annotate --inclusive=yes "$file" 2>/dev/null | grep -m1 processCommand | awk '{gsub(",", "", $1); print $1}')
  printf '| %s | %s |\n' "$label" "$((total / 1000))"
}
echo "| EVALSHA | instructions per call |"
echo "| --- | ---: |"
measure '`return 1`' EVALSHA "$one" 1 k0
measure "one fixed-window counter, admitted" EVALSHA "$sha" 1 k1 1 "$now" 0 1 8999999999999 "$hour" "$hour" $((hour - 3600000)) 7200000
measure "one fixed-window counter, refused" EVALSHA "$sha" 1 k1 1 "$now" 0 1 0 "$hour" "$hour" $((hour - 3600000)) 7200000
measure "one sliding-window counter, admitted" EVALSHA "$sha" 1 k2 1 "$now" 0 1 8999999999999 "$bucket" "$from" $((from - 3600000)) 7200000
