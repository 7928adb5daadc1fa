#!/usr/bin/env python3
"""A stand-in for a Python security-tooling MCP server (stdio, JSON lines) with one tool, execute_python_code, which
runs nothing: it answers what it would run and appends each call it receives to the file named by its argument, so
the new user's path can check that the proxy forwarded only the allowed calls. Test machinery."""
import json
import sys

log = open(sys.argv[1], "a") if len(sys.argv) > 1 else None
TOOL = {"name": "execute_python_code", "description": "Runs Python code.",
        "inputSchema": {"type": "object", "properties": {"code": {"type": "string"}, "timeout": {"type": "integer"}}, "required": ["code"]}}

for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    message = json.loads(line)
    method, request_id = message.get("method"), message.get("id")
    if request_id is None:
        continue
    if method == "initialize":
        result = {"protocolVersion": message["params"].get("protocolVersion", "2025-06-18"),
                  "capabilities": {"tools": {}}, "serverInfo": {"name": "python-upstream", "version": "1"}}
    elif method == "tools/list":
        result = {"tools": [TOOL]}
    elif method == "tools/call":
        if log:
            log.write(json.dumps(message["params"]) + "\n")
            log.flush()
        code = message["params"].get("arguments", {}).get("code", "")
        result = {"content": [{"type": "text", "text": "would run %d characters of Python" % len(code)}]}
    elif method == "ping":
        result = {}
    else:
        print(json.dumps({"jsonrpc": "2.0", "id": request_id, "error": {"code": -32601, "message": "Method not found"}}), flush=True)
        continue
    print(json.dumps({"jsonrpc": "2.0", "id": request_id, "result": result}), flush=True)
