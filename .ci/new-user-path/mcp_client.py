#!/usr/bin/env python3
"""A minimal MCP client over stdio (JSON lines), for the new user's path: starts a server command, initializes,
lists tools, calls one tool N times and prints a JSON summary. Test machinery, not part of the instructions."""
import json
import subprocess
import sys
import threading

def main():
    if len(sys.argv) < 4 or "--" not in sys.argv:
        print("usage: mcp_client.py TOOL CALLS [CWD] -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    sep = sys.argv.index("--")
    tool, calls = sys.argv[1], int(sys.argv[2])
    cwd = sys.argv[3] if sep > 3 else None
    command = sys.argv[sep + 1:]
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, text=True, bufsize=1)
    stderr_lines = []
    threading.Thread(target=lambda: stderr_lines.extend(proc.stderr), daemon=True).start()
    timer = threading.Timer(120, proc.kill)
    timer.start()

    def send(message):
        proc.stdin.write(json.dumps(message) + "\n")
        proc.stdin.flush()

    def response(request_id):
        for line in proc.stdout:
            line = line.strip()
            if not line:
                continue
            message = json.loads(line)
            if message.get("id") == request_id and "method" not in message:
                return message
            if "method" in message and "id" in message:
                # A request from the server (roots, sampling, elicitation): this client offers none of them.
                send({"jsonrpc": "2.0", "id": message["id"], "error": {"code": -32601, "message": "not supported"}})
        raise RuntimeError("the server closed its output; its stderr:\n" + "".join(stderr_lines))

    try:
        send({"jsonrpc": "2.0", "id": 0, "method": "initialize",
              "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "new-user-path", "version": "1"}}})
        init = response(0)
        if "error" in init:
            raise RuntimeError("initialize failed: " + json.dumps(init))
        send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        send({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}})
        listed = [t["name"] for t in response(1)["result"]["tools"]]
        results = []
        for i in range(calls):
            send({"jsonrpc": "2.0", "id": 10 + i, "method": "tools/call",
                  "params": {"name": tool, "arguments": {"code": "print(%d)" % (i + 1), "timeout": 30}}})
            message = response(10 + i)
            result = message.get("result", {})
            text = " ".join(c.get("text", "") for c in result.get("content", []))
            if "error" in message:
                results.append("error: " + message["error"].get("message", ""))
            elif not result.get("isError"):
                results.append("ok")
            elif "rate-limited" in text:
                results.append("rate_limited")
            else:
                results.append("denied: " + text)
        print(json.dumps({"server": init["result"].get("serverInfo", {}).get("name"), "listed": listed, "results": results}))
        return 0
    finally:
        timer.cancel()
        try:
            proc.stdin.close()
            proc.wait(timeout=20)
        except Exception:
            proc.kill()

if __name__ == "__main__":
    sys.exit(main())
