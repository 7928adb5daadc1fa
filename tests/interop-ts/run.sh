#!/usr/bin/env sh
# Runs interop.mjs: the official TypeScript MCP SDK client against the built samples. Builds and installs nothing.
#   PE_SERVER_EVERYTHING   entry script of @modelcontextprotocol/server-everything (the upstream behind GuardProxy)
#   PE_GUARDPROXY_DLL, PE_GUARDEDSERVER_DLL, PE_HTTPGATEWAY_DLL   the built DLLs; when unset, taken from
#   PE_SAMPLES_DIR (default: ../../samples) and PE_CONFIGURATION (default: Debug) as DIR/NAME/bin/CONF/net10.0/NAME.dll,
#   and for the proxy (the policyengine-proxy tool) from ../../src/PolicyEngine.GuardProxy
#   PE_INTEROP_ONLY (regex of check names), PE_INTEROP_VERBOSE=1 (print what the client saw)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
samples=${PE_SAMPLES_DIR:-$here/../../samples}
conf=${PE_CONFIGURATION:-Debug}
dll() { printf '%s/%s/bin/%s/net10.0/%s.dll' "$samples" "$1" "$conf" "$1"; }
export PE_GUARDPROXY_DLL="${PE_GUARDPROXY_DLL:-$here/../../src/PolicyEngine.GuardProxy/bin/$conf/net10.0/PolicyEngine.GuardProxy.dll}"
export PE_GUARDEDSERVER_DLL="${PE_GUARDEDSERVER_DLL:-$(dll GuardedServer)}"
export PE_HTTPGATEWAY_DLL="${PE_HTTPGATEWAY_DLL:-$(dll HttpGateway)}"
: "${PE_SERVER_EVERYTHING:?set PE_SERVER_EVERYTHING to server-everything's dist/index.js}"
for f in "$PE_GUARDPROXY_DLL" "$PE_GUARDEDSERVER_DLL" "$PE_HTTPGATEWAY_DLL" "$PE_SERVER_EVERYTHING"; do
  [ -f "$f" ] || { echo "interop-ts: $f does not exist (build the samples / install server-everything first)" >&2; exit 2; }
done
[ -d "$here/node_modules/@modelcontextprotocol/sdk" ] || { echo "interop-ts: run 'npm ci --prefix tests/interop-ts' first" >&2; exit 2; }
exec node "$here/interop.mjs"
