#!/usr/bin/env bash
# A new user's path, tested: packs src/ into a temporary feed, then follows only the instructions in README.md and
# docs/mcp.md (the code blocks marked <!-- new-user-path: NAME -->) to build a fresh console app and a fresh MCP stdio
# server against the packed packages, installs both tools from the feed, and runs each once with the quick start's
# policy (execute_python_code, 10 per minute per grant): 12 calls must give 10 allowed and 2 rate-limited.
# Prints the time of each step; exits non-zero on the first failure. Needs the .NET SDK and python3.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
here="$repo/.ci/new-user-path"
work=$(mktemp -d "${TMPDIR:-/tmp}/pe-new-user.XXXXXX")
feed="$work/feed"
tools="$work/tools"
# A version of its own: NuGet's global package cache never hands back an older build under the same version.
version="1.0.0-ci.$(date +%s).$$"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

cleanup() {
  rm -rf "$work"
  # Only what this run put in the global package cache.
  rm -rf "${NUGET_PACKAGES:-$HOME/.nuget/packages}"/policyengine*/"$version"
}
trap cleanup EXIT

started=$(date +%s.%N)
step_start=$started
step() {
  local now; now=$(date +%s.%N)
  printf 'new-user-path: %-52s %6.1f s\n' "$1" "$(awk -v a="$now" -v b="$step_start" 'BEGIN { print a - b }')"
  step_start=$now
}
fail() { echo "new-user-path: FAILED: $*" >&2; exit 1; }

# The blocks a reader copies: the fenced block right after <!-- new-user-path: NAME --> in FILE, written to DIR/NAME.
extract() {
  local file=$1 dir=$2
  awk -v dir="$dir" '
    /<!-- new-user-path: .* -->/ { name = $0; sub(/.*<!-- new-user-path: /, "", name); sub(/ -->.*/, "", name); want = 1; next }
    want && /^```/ && !inside { inside = 1; out = dir "/" name; printf "" > out; next }
    inside && /^```/ { inside = 0; want = 0; close(out); next }
    inside { print >> out }
  ' "$repo/$file"
}

# A run of 12 calls inside one minute: the quick start's limit is per calendar minute.
# The wait is not counted in the step's time.
wait_for_fresh_minute() { local s; s=$((10#$(date +%S))); if [ "$s" -ge 48 ]; then sleep $((61 - s)); fi; step_start=$(date +%s.%N); }

# Every `dotnet add package PolicyEngine...` and `dotnet tool install ... PolicyEngine...` of the instructions, pinned
# to this run's version (from the feed); global tools go to a folder of this run instead.
pin() {
  sed -E -e "s#^(dotnet add package PolicyEngine[A-Za-z.]*)#\\1 --version $version#" \
         -e "s#^dotnet tool install --global (PolicyEngine[A-Za-z.]*)#dotnet tool install --tool-path \"$tools\" \\1 --version $version#" "$1"
}

mkdir -p "$work/blocks/library" "$work/blocks/mcp" "$work/library" "$work/mcp"
extract README.md "$work/blocks"
extract docs/mcp.md "$work/blocks"
for block in library/policy.json library/setup.sh library/Program.cs mcp/setup.sh mcp/GuardedTools.csproj.items mcp/Program.cs tools.sh; do
  [ -s "$work/blocks/$block" ] || fail "the instructions have no block marked new-user-path: $block"
done

# 1. Pack src/ (the README's one command), into the temporary feed.
dotnet pack "$repo/PolicyEngine.Packages.slnf" -c Release -p:Version="$version" -p:PackageOutputPath="$feed" -v quiet -nologo >"$work/pack.log" 2>&1 \
  || { cat "$work/pack.log" >&2; fail "dotnet pack"; }
packages=$(ls "$repo"/src/*/*.csproj | wc -l)
[ "$(ls "$feed"/*.nupkg | wc -l)" -eq "$packages" ] || fail "expected $packages packages in the feed (one per src/ project), found: $(ls "$feed")"
[ "$(ls "$feed"/*.snupkg | wc -l)" -eq "$packages" ] || fail "expected $packages symbol packages in the feed"
cat >"$work/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="policyengine-local" value="$feed" />
  </packageSources>
</configuration>
XML
step "pack src/ into a feed ($version)"

# 2. The library: a fresh console app from the README's quick start.
(cd "$work/library" && pin "$work/blocks/library/setup.sh" | bash -e) >"$work/library.log" 2>&1 || { cat "$work/library.log" >&2; fail "library set-up"; }
app="$work/library/FirstGuard"
cp "$work/blocks/library/policy.json" "$work/blocks/library/Program.cs" "$app/"
(cd "$app" && dotnet build -v quiet -nologo) >>"$work/library.log" 2>&1 || { cat "$work/library.log" >&2; fail "library build"; }
step "library: new console app, add package, build"
wait_for_fresh_minute
out=$(cd "$app" && dotnet run --no-build)
[ "$(grep -c ': allow$' <<<"$out")" -eq 10 ] && [ "$(grep -c ': rate_limited' <<<"$out")" -eq 2 ] \
  && grep -q '^call 11: rate_limited' <<<"$out" || { echo "$out" >&2; fail "library: expected calls 1-10 allowed and 11-12 rate-limited"; }
step "library: first run (12 calls: 10 allow, 2 rate_limited)"

# 3. The MCP host: a fresh stdio server from docs/mcp.md.
(cd "$work/mcp" && pin "$work/blocks/mcp/setup.sh" | bash -e) >"$work/mcp.log" 2>&1 || { cat "$work/mcp.log" >&2; fail "MCP host set-up"; }
server="$work/mcp/GuardedTools"
cp "$work/blocks/library/policy.json" "$work/blocks/mcp/Program.cs" "$server/"
python3 - "$server/GuardedTools.csproj" "$work/blocks/mcp/GuardedTools.csproj.items" <<'PY'
import sys
project, items = sys.argv[1], open(sys.argv[2]).read()
text = open(project).read()
open(project, "w").write(text.replace("</Project>", items + "</Project>"))
PY
(cd "$server" && dotnet build -v quiet -nologo) >>"$work/mcp.log" 2>&1 || { cat "$work/mcp.log" >&2; fail "MCP host build"; }
step "MCP host: new console app, add packages, build"
wait_for_fresh_minute
# Started from / (as an MCP client may): the relative PolicyPath must still find policy.json.
summary=$(python3 "$here/mcp_client.py" execute_python_code 12 / -- dotnet "$server/bin/Debug/net10.0/GuardedTools.dll" --PolicyEngine:Identity alice)
python3 - "$summary" <<'PY' || fail "MCP host: $summary"
import json, sys
s = json.loads(sys.argv[1])
assert s["listed"] == ["execute_python_code"], s
assert s["results"] == ["ok"] * 10 + ["rate_limited"] * 2, s
PY
step "MCP host: first session (12 calls: 10 ok, 2 rate-limited)"

# 4. Both tools, installed from the feed as the README says.
(cd "$work" && pin "$work/blocks/tools.sh" | bash -e) >"$work/tools.log" 2>&1 || { cat "$work/tools.log" >&2; fail "dotnet tool install"; }
[ -x "$tools/policyengine" ] && [ -x "$tools/policyengine-proxy" ] || fail "the tools are not installed: $(ls "$tools")"
step "tools: dotnet tool install PolicyEngine.Cli + GuardProxy"

# 5. The CLI: validate, then eval 12 calls pinned to one minute.
"$tools/policyengine" --version | grep -q "^${version}" || fail "policyengine --version does not print $version"
"$tools/policyengine" validate "$work/blocks/library/policy.json" || fail "policyengine validate"
calls=$(for i in $(seq 1 12); do printf '{"identity": "alice", "tool": "execute_python_code", "args": {"code": "print(%d)"}, "at": "2026-01-01T00:00:%02dZ"}\n' "$i" "$i"; done)
decisions=$("$tools/policyengine" eval --policy "$work/blocks/library/policy.json" <<<"$calls")
[ "$(grep -c '"decision":"allow"' <<<"$decisions")" -eq 10 ] && [ "$(grep -c '"decision":"rate_limited"' <<<"$decisions")" -eq 2 ] \
  || { echo "$decisions" >&2; fail "policyengine eval: expected 10 allow and 2 rate_limited"; }
step "CLI: validate + eval (10 allow, 2 rate_limited)"

# 6. The proxy in front of a Python MCP server that knows nothing of policies.
wait_for_fresh_minute
summary=$(python3 "$here/mcp_client.py" execute_python_code 12 "$work" -- "$tools/policyengine-proxy" --policy "$work/blocks/library/policy.json" --identity alice \
  -- python3 "$here/python_upstream.py" "$work/upstream-calls.jsonl")
python3 - "$summary" "$work/upstream-calls.jsonl" <<'PY' || fail "proxy: $summary"
import json, sys
s = json.loads(sys.argv[1])
assert s["server"].startswith("policyengine-proxy"), s
assert s["results"] == ["ok"] * 10 + ["rate_limited"] * 2, s
forwarded = open(sys.argv[2]).read().splitlines()
assert len(forwarded) == 10, "the upstream received %d calls, not 10" % len(forwarded)
PY
step "proxy: first session (10 ok, 2 rate-limited, 10 forwarded)"

printf 'new-user-path: %-52s %6.1f s\n' "total" "$(awk -v a="$(date +%s.%N)" -v b="$started" 'BEGIN { print a - b }')"
