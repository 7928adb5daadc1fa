#!/usr/bin/env python3
# Regenerates the conformance topic files: python3 generate.py tests/PolicyEngine.Cli.Tests/Conformance
# Every expectation is derived from /work/shared/DESIGN.md alone (see the "#" notes in *.expected.jsonl).
import json, os, sys
OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)
os.makedirs(os.path.join(OUT, "validate"), exist_ok=True)

def call(tool, args="{}", ident='"alice"', at=None, outcome=None, approve=False, raw=None):
    if raw is not None:
        return raw
    s = '{"identity": %s, "tool": %s, "args": %s' % (ident, json.dumps(tool), args)
    if at: s += ', "at": "%s"' % at
    if outcome: s += ', "outcome": "%s"' % outcome
    if approve: s += ', "approve": true'
    return s + "}"

def E(decision=None, rule=None, reason=None, retry=None, note=None, **kw):
    e = {}
    if decision: e["decision"] = decision
    if rule is not None: e["rule"] = rule
    if reason is not None: e["reason"] = reason
    if retry is not None: e["retry_after_ms"] = retry
    e.update(kw)
    if note: e["#"] = note
    return e

def topic(name, policy, cases):
    json.loads(policy)  # sanity
    with open(os.path.join(OUT, name + ".policy.json"), "w") as f: f.write(policy.strip() + "\n")
    with open(os.path.join(OUT, name + ".calls.jsonl"), "w") as f:
        for c, _ in cases: f.write(c + "\n")
    with open(os.path.join(OUT, name + ".expected.jsonl"), "w") as f:
        for _, e in cases: f.write(json.dumps(e, ensure_ascii=False) + "\n")
    print(name, len(cases))

def vtopic(name, policy, expected):
    with open(os.path.join(OUT, "validate", name + ".policy.json"), "w") as f: f.write(policy.strip() + "\n")
    with open(os.path.join(OUT, "validate", name + ".expected.json"), "w") as f: f.write(json.dumps(expected, indent=2) + "\n")
    print("validate/" + name, len(expected.get("errors", [])) or 1)

ALLOW = lambda note=None: E("allow", note=note)
def DENY(t, kind, i=0, note=None, reason=None): return E("deny", rule="/tools/%s/%s/%d" % (t, kind, i), reason=reason, note=note)

# ---------------------------------------------------------------- v1 operators
ops = {
 "eq5": ("deny_if", "eq", "5"), "eqs5": ("deny_if", "eq", '"5"'), "eq100": ("deny_if", "eq", "100"),
 "eqbig": ("deny_if", "eq", "9007199254740993"), "eqnull": ("deny_if", "eq", "null"),
 "eqobj": ("deny_if", "eq", '{"a": 1, "b": [1, 2]}'), "eqstr": ("deny_if", "eq", '"abc"'),
 "eqnfc": ("deny_if", "eq", '"\\u00e9"'),
 "neq": ("deny_if", "neq", '"x"'), "req_neq": ("require", "neq", '"x"'),
 "in": ("deny_if", "in", '[1, "two", 3.5]'), "notin": ("deny_if", "not_in", '["a", "b"]'),
 "req_notin": ("require", "not_in", '["a", "b"]'),
 "gt": ("deny_if", "gt", "10000"), "gtbig": ("deny_if", "gt", "9007199254740992"), "gtdec": ("deny_if", "gt", "0.3"),
 "lte": ("deny_if", "lte", "100"), "lt": ("deny_if", "lt", "0"), "gte": ("deny_if", "gte", "1e2"),
 "regex": ("deny_if", "regex", '"b+c"'), "regexanch": ("deny_if", "regex", '"^abc$"'), "redos": ("deny_if", "regex", '"^(a+)+$"'),
 "contains": ("deny_if", "contains", '"lo w"'), "containsnum": ("deny_if", "contains", "2"),
 "existsT": ("require", "exists", "true"), "existsF": ("require", "exists", "false"),
 "dexistsF": ("deny_if", "exists", "false"),
}
tools = {}
for t, (kind, op, val) in ops.items():
    tools[t] = '"%s": { "%s": [ { "path": "args.v", "op": "%s", "value": %s } ] }' % (t, kind, op, val)
tools["nested"] = '"nested": { "deny_if": [ { "path": "args.a.b.c", "op": "eq", "value": 1 } ] }'
policy = '{\n  "version": "1",\n  "default": "deny",\n  "tools": {\n    ' + ",\n    ".join(tools.values()) + "\n  }\n}"
def D(t, note=None): return DENY(t, "deny_if", note=note)
def R(t, note=None): return DENY(t, "require", note=note)
c = [
 (call("eq5", '{"v": 5}'), D("eq5")),
 (call("eq5", '{"v": "5"}'), ALLOW('the string "5" is not the number 5')),
 (call("eq5", '{"v": 5.0}'), D("eq5", "5.0 is the number 5")),
 (call("eq5", '{"v": 5e0}'), D("eq5")),
 (call("eq5", '{}'), ALLOW("absent -> false")),
 (call("eq5", '{"v": null}'), ALLOW("present null counts as absent")),
 (call("eq5", '{"v": [5]}'), ALLOW()),
 (call("eqs5", '{"v": "5"}'), D("eqs5")),
 (call("eqs5", '{"v": 5}'), ALLOW()),
 (call("eq100", '{"v": 1e2}'), D("eq100", "100, 100.0 and 1e2 are the same number")),
 (call("eq100", '{"v": 100.0}'), D("eq100")),
 (call("eq100", '{"v": 1E+2}'), D("eq100")),
 (call("eq100", '{"v": 100.00000000000001}'), ALLOW("exact: not 100 (a double would round it to 100)")),
 (call("eqbig", '{"v": 9007199254740992}'), ALLOW("2^53 != 2^53+1 exactly")),
 (call("eqbig", '{"v": 9007199254740993}'), D("eqbig")),
 (call("eqnull", '{"v": null}'), ALLOW("present null counts as absent: every op false except exists")),
 (call("eqnull", '{}'), ALLOW()),
 (call("eqnull", '{"v": 0}'), ALLOW()),
 (call("eqobj", '{"v": {"a": 1, "b": [1, 2]}}'), D("eqobj")),
 (call("eqobj", '{"v": {"a": 1.0, "b": [1, 2.0]}}'), D("eqobj", "numbers inside compare by value")),
 (call("eqobj", '{"v": {"a": 1, "b": [2, 1]}}'), ALLOW("array order matters")),
 (call("eqstr", '{"v": "ABC"}'), ALLOW("ordinal")),
 (call("eqstr", '{"v": "abc"}'), D("eqstr")),
 (call("eqnfc", '{"v": "e\\u0301"}'), ALLOW("ordinal: decomposed e-acute is a different string")),
 (call("eqnfc", '{"v": "\\u00e9"}'), D("eqnfc")),
 (call("neq", '{"v": "y"}'), D("neq")),
 (call("neq", '{"v": "x"}'), ALLOW()),
 (call("neq", '{}'), ALLOW("absent -> neq false")),
 (call("neq", '{"v": null}'), ALLOW("null counts as absent -> neq false")),
 (call("neq", '{"v": 5}'), D("neq")),
 (call("req_neq", '{}'), R("req_neq", "absent -> neq false -> require fails")),
 (call("req_neq", '{"v": "y"}'), ALLOW()),
 (call("req_neq", '{"v": "x"}'), R("req_neq")),
 (call("in", '{"v": 1}'), D("in")),
 (call("in", '{"v": 1.0}'), D("in")),
 (call("in", '{"v": "two"}'), D("in")),
 (call("in", '{"v": 3.50}'), D("in")),
 (call("in", '{"v": "1"}'), ALLOW()),
 (call("in", '{"v": 2}'), ALLOW()),
 (call("in", '{}'), ALLOW()),
 (call("notin", '{"v": "c"}'), D("notin")),
 (call("notin", '{"v": "a"}'), ALLOW()),
 (call("notin", '{}'), ALLOW("absent -> not_in false")),
 (call("notin", '{"v": null}'), ALLOW()),
 (call("notin", '{"v": 1}'), D("notin")),
 (call("req_notin", '{}'), R("req_notin", "absent -> not_in false -> require fails")),
 (call("req_notin", '{"v": "z"}'), ALLOW()),
 (call("gt", '{"v": 10000}'), ALLOW()),
 (call("gt", '{"v": 10000.01}'), D("gt")),
 (call("gt", '{"v": 1e5}'), D("gt")),
 (call("gt", '{"v": "20000"}'), ALLOW("gt holds only for numeric arguments")),
 (call("gt", '{"v": true}'), ALLOW()),
 (call("gt", '{}'), ALLOW()),
 (call("gtbig", '{"v": 9007199254740993}'), D("gtbig", "2^53+1 > 2^53 exactly")),
 (call("gtbig", '{"v": 9007199254740992}'), ALLOW()),
 (call("gtbig", '{"v": 9223372036854775807}'), D("gtbig")),
 (call("gtdec", '{"v": 0.30000000000000001}'), D("gtdec", "exact decimal > 0.3")),
 (call("gtdec", '{"v": 0.30}'), ALLOW()),
 (call("lte", '{"v": 100.0}'), D("lte")),
 (call("lte", '{"v": 100.000000000000001}'), ALLOW("exact")),
 (call("lte", '{"v": -1}'), D("lte")),
 (call("lt", '{"v": -0.0001}'), D("lt")),
 (call("lt", '{"v": 0}'), ALLOW()),
 (call("gte", '{"v": 100}'), D("gte")),
 (call("gte", '{"v": 99.999}'), ALLOW()),
 (call("regex", '{"v": "aabcc"}'), D("regex", "unanchored search")),
 (call("regex", '{"v": "ac"}'), ALLOW()),
 (call("regex", '{}'), ALLOW()),
 (call("regexanch", '{"v": "abc"}'), D("regexanch")),
 (call("regexanch", '{"v": "xabc"}'), ALLOW()),
 (call("redos", '{"v": "' + "a" * 5000 + '!"}'), ALLOW("linear time, no catastrophic backtracking")),
 (call("redos", '{"v": "aaaa"}'), D("redos")),
 (call("contains", '{"v": "hello world"}'), D("contains", "substring on strings")),
 (call("contains", '{"v": "hello"}'), ALLOW()),
 (call("contains", '{"v": ["hello world"]}'), ALLOW("element test on arrays")),
 (call("contains", '{"v": ["x", "lo w"]}'), D("contains")),
 (call("contains", '{}'), ALLOW()),
 (call("containsnum", '{"v": [1, 2, 3]}'), D("containsnum")),
 (call("containsnum", '{"v": [1, 2.0]}'), D("containsnum")),
 (call("containsnum", '{"v": ["2"]}'), ALLOW()),
 (call("existsT", '{"v": false}'), ALLOW()),
 (call("existsT", '{"v": ""}'), ALLOW()),
 (call("existsT", '{"v": 0}'), ALLOW()),
 (call("existsT", '{"v": null}'), R("existsT", "present null counts as absent")),
 (call("existsT", '{}'), R("existsT")),
 (call("existsF", '{}'), ALLOW()),
 (call("existsF", '{"v": null}'), ALLOW()),
 (call("existsF", '{"v": 1}'), R("existsF")),
 (call("dexistsF", '{"v": null}'), D("dexistsF", "exists:false holds when absent or null")),
 (call("dexistsF", '{"v": {}}'), ALLOW()),
 (call("nested", '{"a": {"b": {"c": 1}}}'), D("nested")),
 (call("nested", '{"a": {"b": {"c": "1"}}}'), ALLOW()),
 (call("nested", '{"a": {"b": 1}}'), ALLOW()),
 (call("nested", '{"a": "x"}'), ALLOW()),
 (call("nested", '{}'), ALLOW()),
]
topic("v1-operators", policy, c)

# ---------------------------------------------------------------- v1 structure
topic("v1-structure", """
{
  "version": "1",
  "default": "deny",
  "hide": ["secret"],
  "tools": {
    "open": {},
    "secret": {},
    "refund": {
      "require": [
        { "path": "args.reason", "op": "exists", "value": true, "on_deny": "A refund needs a reason" },
        { "path": "args.currency", "op": "eq", "value": "EUR" }
      ],
      "deny_if": [
        { "path": "args.amount", "op": "gt", "value": 10000, "on_deny": "Refunds over 100.00 need a human" },
        { "path": "args.amount", "op": "lt", "value": 1 }
      ]
    }
  }
}""", [
 (call("open"), ALLOW("listing a tool as {} allows it under default deny")),
 (call("unknown"), E("deny", rule="(default deny)")),
 (call("secret"), E("deny", rule="(hidden)")),
 (call("refund", '{"reason": "x", "currency": "EUR", "amount": 50}'), ALLOW()),
 (call("refund", '{"currency": "EUR", "amount": 50}'), DENY("refund", "require", 0, reason="A refund needs a reason")),
 (call("refund", '{"reason": "x", "amount": 50}'), DENY("refund", "require", 1)),
 (call("refund", '{"amount": 20000}'), DENY("refund", "require", 0, reason="A refund needs a reason", note="first denial in check order")),
 (call("refund", '{"reason": "x", "currency": "EUR", "amount": 20000}'), DENY("refund", "deny_if", 0, reason="Refunds over 100.00 need a human")),
 (call("refund", '{"reason": "x", "currency": "EUR", "amount": 0}'), DENY("refund", "deny_if", 1)),
 (call("refund", '{"reason": "x", "currency": "USD", "amount": 20000}'), DENY("refund", "require", 1, note="require is checked before deny_if")),
])

topic("v1-hide-all", """
{ "version": "1", "default": "allow", "hide": ["*"], "tools": { "a": {} } }
""", [
 (call("a"), E("deny", rule="(hidden)", note='"*" hides everything')),
 (call("b"), E("deny", rule="(hidden)")),
])

topic("v1-default-allow", """
{ "version": "1", "default": "allow", "hide": ["x"],
  "tools": { "t": { "deny_if": [ { "path": "args.n", "op": "eq", "value": 1 } ] } } }
""", [
 (call("unknown"), ALLOW("default allow")),
 (call("x"), E("deny", rule="(hidden)")),
 (call("t", '{"n": 1}'), DENY("t", "deny_if")),
 (call("t", '{"n": 2}'), ALLOW()),
])

topic("v1-hidden-and-unlisted", """
{ "version": "1", "default": "deny", "hide": ["ghost"], "tools": {} }
""", [
 (call("ghost"), E("deny", rule="(hidden)", note="hidden is checked before not-listed")),
 (call("other"), E("deny", rule="(default deny)")),
])

# ---------------------------------------------------------------- v1 limits (calendar windows)
L = lambda t: "/tools/%s/limits/0" % t
RL = lambda rule, retry=None, note=None, reason=None: E("rate_limited", rule=rule, retry=retry, note=note, reason=reason)
topic("v1-limits", """
{
  "version": "1",
  "default": "deny",
  "all_tools": { "limits": [ { "counter": "calls_per_day", "window": "day", "max": 5, "scope": "grant" } ] },
  "tools": {
    "m": { "limits": [ { "counter": "per_min", "window": "minute", "max": 2, "scope": "grant" } ] },
    "h": { "limits": [ { "counter": "per_hour", "window": "hour", "max": 1, "scope": "grant" } ] },
    "d": { "limits": [ { "counter": "per_day", "window": "day", "max": 1, "scope": "grant" } ] }
  }
}""", [
 (call("m", ident='"m1"', at="2026-03-01T10:00:10Z"), ALLOW()),
 (call("m", ident='"m1"', at="2026-03-01T10:00:20Z"), ALLOW("count after = max is admitted")),
 (call("m", ident='"m1"', at="2026-03-01T10:00:59.500Z"), RL(L("m"), 500)),
 (call("m", ident='"m2"'), ALLOW("grant scope: keyed by identity id")),
 (call("m", ident='"m1"', at="2026-03-01T10:01:00Z"), ALLOW("new calendar minute")),
 (call("h", ident='"h1"', at="2026-03-01T10:59:59Z"), ALLOW()),
 (call("h", ident='"h1"'), RL(L("h"), 1000, "omitted at = previous value")),
 (call("h", ident='"h1"', at="2026-03-01T11:00:00Z"), ALLOW("new calendar hour")),
 (call("m", ident='"a1"', at="2026-03-01T12:00:00Z"), ALLOW()),
 (call("m", ident='"a1"', at="2026-03-01T12:01:00Z"), ALLOW()),
 (call("m", ident='"a1"', at="2026-03-01T12:02:00Z"), ALLOW()),
 (call("m", ident='"a1"', at="2026-03-01T12:03:00Z"), ALLOW()),
 (call("m", ident='"a1"', at="2026-03-01T12:04:00Z"), ALLOW()),
 (call("m", ident='"a1"', at="2026-03-01T12:05:00Z"), RL("/all_tools/limits/0", 42900000, "all_tools day limit; resets 00:00 UTC")),
 (call("h", ident='"h2"', at="2026-03-01T13:30:00Z"), ALLOW()),
 (call("h", ident='"h2"'), RL(L("h"), 1800000)),
 (call("d", ident='"d1"', at="2026-03-01T23:00:00Z"), ALLOW()),
 (call("d", ident='"d1"', at="2026-03-02T00:59:59+01:00"), RL(L("d"), 1000, "+01:00 offset is still 03-01 in UTC")),
 (call("d", ident='"d1"', at="2026-03-02T00:00:00Z"), ALLOW("day resets at 00:00 UTC")),
 (call("m", ident='"a1"'), ALLOW("all_tools day counter reset too")),
])

# ---------------------------------------------------------------- v2 globs
topic("v2-globs", """
{
  "version": "2",
  "default": "allow",
  "hide": ["secret_*"],
  "tools": {
    "fs_read": {},
    "fs_re*": { "action": "deny", "on_deny": "fs_re glob" },
    "fs_*": { "action": "deny", "on_deny": "fs glob" },
    "*": { "action": "deny", "on_deny": "catch-all" },
    "secret_ok": {}
  }
}""", [
 (call("fs_read"), ALLOW("exact name beats a glob")),
 (call("fs_remove"), E("deny", reason="fs_re glob", note="longer literal prefix wins")),
 (call("fs_re"), E("deny", reason="fs_re glob")),
 (call("fs_write"), E("deny", reason="fs glob")),
 (call("fs_"), E("deny", reason="fs glob")),
 (call("other"), E("deny", reason="catch-all")),
 (call("FS_READ"), E("deny", reason="catch-all", note="ordinal names")),
 (call("secret_key"), E("deny", rule="(hidden)", note="hide entries may be globs")),
 (call("secret_ok"), E("deny", rule="(hidden)")),
 (call("secretx"), E("deny", reason="catch-all")),
])

# ---------------------------------------------------------------- v2 predicates
PU = [
 ('"/srv/data"', True, "the given directory itself"),
 ('"/srv/data/"', True, None),
 ('"/srv/data/x/y.txt"', True, None),
 ('"/srv/data/./x"', True, None),
 ('"/srv//data//x"', True, "repeated separators"),
 ('"/srv/data/x/../y"', True, None),
 ('"/srv/data/x/.."', True, None),
 ('"/srv/data/x/../../data/y"', True, None),
 ('"\\\\srv\\\\data\\\\x"', False, "a backslash under a POSIX directory is an unusual form (on POSIX it is part of a file name): denied unless allow_unusual_paths"),
 ('"/srv/data/../etc/passwd"', False, ".. cannot escape"),
 ('"/srv/data/x/../.."', False, None),
 ('"/srv/data\\\\..\\\\..\\\\etc"', False, None),
 ('"/srv/data2/x"', False, "sibling with common prefix"),
 ('"/srv/dat"', False, None),
 ('"/srv"', False, None),
 ('"srv/data/x"', False, "relative path never holds"),
 ('"data/x"', False, None),
 ('"./srv/data/x"', False, None),
 ('"/../srv/data/x"', False, "climbing above the root never holds"),
 ('"/srv/../../srv/data/x"', False, None),
 ('"/SRV/data/x"', False, "ordinal"),
 ('5', False, None),
 (None, False, "absent"),
]
cases = [
 (call("admin", ident='"alice"'), DENY("admin", "require", note="a bare id has no roles")),
 (call("admin", ident='{"id": "bob", "roles": ["admin"]}'), ALLOW()),
 (call("admin", ident='{"id": "bob", "roles": ["user", "ops"]}'), DENY("admin", "require")),
 (call("admin", ident='{"id": "bob", "roles": ["Admin"]}'), DENY("admin", "require")),
 (call("self", ident='"alice"'), ALLOW()),
 (call("self", ident='{"id": "alice", "roles": []}'), ALLOW()),
 (call("self", ident='"bob"'), DENY("self", "require")),
 (call("tenant", ident='{"id": "x", "tenant": "acme"}'), ALLOW("any identity attribute")),
 (call("tenant", ident='{"id": "x", "tenant": "other"}'), DENY("tenant", "require")),
 (call("tenant", ident='"x"'), DENY("tenant", "require")),
 (call("all", '{"a": 1, "b": 2}'), E("deny")),
 (call("all", '{"a": 1}'), ALLOW()),
 (call("all", '{"a": 1, "b": 3}'), ALLOW()),
 (call("any", '{"b": 2}'), ALLOW()),
 (call("any", '{"a": 1, "b": 0}'), ALLOW()),
 (call("any", '{}'), E("deny")),
 (call("any", '{"a": 2, "b": 1}'), E("deny")),
 (call("not", '{}'), E("deny")),
 (call("not", '{"a": null}'), E("deny")),
 (call("not", '{"a": 0}'), ALLOW()),
 (call("notabsent", '{}'), E("deny", note="eq on absent is false; not(false) holds")),
 (call("notabsent", '{"a": 1}'), ALLOW()),
 (call("notabsent", '{"a": 2}'), E("deny")),
 (call("sw", '{"s": "abc"}'), ALLOW()),
 (call("sw", '{"s": "xab"}'), DENY("sw", "require")),
 (call("sw", '{"s": "Abc"}'), DENY("sw", "require")),
 (call("sw", '{"s": 5}'), DENY("sw", "require")),
 (call("sw", '{}'), DENY("sw", "require")),
 (call("ew", '{"s": "a.txt"}'), ALLOW()),
 (call("ew", '{"s": "a.txt.bak"}'), DENY("ew", "require")),
 (call("ew", '{"s": "A.TXT"}'), DENY("ew", "require")),
 (call("gl", '{"s": "report-2026.csv"}'), ALLOW()),
 (call("gl", '{"s": "report-.csv"}'), ALLOW()),
 (call("gl", '{"s": "xreport-1.csv"}'), DENY("gl", "require")),
 (call("gl", '{"s": "report-1.csvx"}'), DENY("gl", "require")),
]
for val, holds, note in PU:
    args = '{}' if val is None else '{"p": %s}' % val
    cases.append((call("pu", args), ALLOW(note) if holds else DENY("pu", "require", note=note)))
topic("v2-predicates", """
{
  "version": "2",
  "default": "deny",
  "tools": {
    "admin": { "require": [ { "path": "identity.roles", "op": "contains", "value": "admin" } ] },
    "self": { "require": [ { "path": "identity.id", "op": "eq", "value": "alice" } ] },
    "tenant": { "require": [ { "path": "identity.tenant", "op": "eq", "value": "acme" } ] },
    "all": { "deny_if": [ { "all": [ { "path": "args.a", "op": "eq", "value": 1 }, { "path": "args.b", "op": "eq", "value": 2 } ] } ] },
    "any": { "require": [ { "any": [ { "path": "args.a", "op": "eq", "value": 1 }, { "path": "args.b", "op": "eq", "value": 2 } ] } ] },
    "not": { "deny_if": [ { "not": { "path": "args.a", "op": "exists", "value": true } } ] },
    "notabsent": { "deny_if": [ { "not": { "path": "args.a", "op": "eq", "value": 1 } } ] },
    "sw": { "require": [ { "path": "args.s", "op": "starts_with", "value": "ab" } ] },
    "ew": { "require": [ { "path": "args.s", "op": "ends_with", "value": ".txt" } ] },
    "gl": { "require": [ { "path": "args.s", "op": "glob", "value": "report-*.csv" } ] },
    "pu": { "require": [ { "path": "args.p", "op": "path_under", "value": "/srv/data" } ] }
  }
}""", cases)

# ---------------------------------------------------------------- v2 args_schema
topic("v2-args-schema", """
{
  "version": "2",
  "default": "deny",
  "tools": {
    "calc": { "args_schema": { "type": "object", "properties": { "n": { "type": "integer", "maximum": 5 } },
                               "required": ["n"], "additionalProperties": false } }
  }
}""", [
 (call("calc", '{"n": 3}'), ALLOW()),
 (call("calc", '{"n": 6}'), E("deny", reason_contains="/n", note="the error names the failing instance location")),
 (call("calc", '{"n": "3"}'), E("deny", reason_contains="/n")),
 (call("calc", '{}'), E("deny")),
 (call("calc", '{"n": 3, "x": 1}'), E("deny")),
])

# ---------------------------------------------------------------- v2 approvals
T0 = "2026-01-01T00:00:00Z"
topic("v2-approvals", """
{
  "version": "2",
  "default": "deny",
  "tools": {
    "run": { "approval": { "reason": "a person must look", "ttl": "5m" } },
    "pay": { "approval": { "when": [ { "path": "args.amount", "op": "gt", "value": 100 } ], "reason": "big payment" } },
    "runlim": { "approval": { "reason": "look" },
                "limits": [ { "counter": "rl", "window": "minute", "max": 2, "scope": "grant" } ] },
    "denied": { "approval": { "reason": "look" },
                "deny_if": [ { "path": "args.bad", "op": "eq", "value": true } ] }
  }
}""", [
 (call("run", '{"code": "1"}', at=T0), E("needs_approval", reason="a person must look", approval_id=True)),
 (call("run", '{"code": "1"}', approve=True), ALLOW("approve, evaluate again, print only the final decision")),
 (call("run", '{"code": "1"}'), E("needs_approval", note="an approval is single-use")),
 (call("run", '{"code": "2"}'), E("needs_approval")),
 (call("run", '{"code": "1"}', ident='"bob"'), E("needs_approval")),
 (call("pay", '{"amount": 50}'), ALLOW("approval.when does not hold")),
 (call("pay", '{"amount": 500}'), E("needs_approval", reason="big payment")),
 (call("pay", '{"amount": 500}', approve=True), ALLOW()),
 (call("pay", '{}'), ALLOW()),
 (call("runlim", '{"x": 1}'), E("needs_approval")),
 (call("runlim", '{"x": 1}'), E("needs_approval", note="approval-pending consumes no quota")),
 (call("runlim", '{"x": 1}', approve=True), ALLOW()),
 (call("runlim", '{"x": 2}', approve=True), ALLOW("the pending first evaluation consumed nothing")),
 (call("runlim", '{"x": 3}'), RL("/tools/runlim/limits/0", 60000, "RateLimited > NeedsApproval")),
 (call("runlim", '{"x": 3}', approve=True), RL("/tools/runlim/limits/0", 60000)),
 (call("denied", '{"bad": true}'), E("deny", rule="/tools/denied/deny_if/0", note="Deny > NeedsApproval")),
 (call("denied", '{"bad": true}', approve=True), E("deny", rule="/tools/denied/deny_if/0")),
 (call("denied", '{"bad": false}'), E("needs_approval")),
])

# ---------------------------------------------------------------- v2 all_tools
topic("v2-all-tools", """
{
  "version": "2",
  "default": "allow",
  "all_tools": {
    "require": [ { "path": "args.ticket", "op": "exists", "value": true, "on_deny": "need ticket" } ],
    "deny_if": [ { "path": "args.danger", "op": "eq", "value": true, "on_deny": "global danger" } ],
    "approval": { "when": [ { "path": "args.sensitive", "op": "eq", "value": true } ], "reason": "sensitive" },
    "limits": [ { "counter": "all", "window": "minute", "max": 3, "scope": "grant" } ]
  },
  "tools": {
    "t": {
      "require": [ { "path": "args.ok", "op": "eq", "value": true, "on_deny": "tool ok" } ],
      "deny_if": [ { "path": "args.danger", "op": "eq", "value": true, "on_deny": "tool danger" } ],
      "limits": [ { "counter": "t1", "window": "minute", "max": 1, "scope": "grant" } ]
    }
  }
}""", [
 (call("t", '{}', at=T0), E("deny", rule="/tools/t/require/0", reason="tool ok", note="tool's own before all_tools")),
 (call("t", '{"ok": true}'), E("deny", rule="/all_tools/require/0", reason="need ticket")),
 (call("t", '{"ok": true, "ticket": 1, "danger": true}'), E("deny", rule="/tools/t/deny_if/0", reason="tool danger")),
 (call("u", '{"ticket": 1, "danger": true}'), E("deny", rule="/all_tools/deny_if/0", reason="global danger", note="all_tools applies to unlisted tools under default allow")),
 (call("u", '{}'), E("deny", rule="/all_tools/require/0", reason="need ticket")),
 (call("t", '{"ok": true, "ticket": 1}'), ALLOW()),
 (call("t", '{"ok": true, "ticket": 1}'), RL("/tools/t/limits/0", 60000, "rate-limited: the all_tools counter is not consumed")),
 (call("u", '{"ticket": 1}'), ALLOW()),
 (call("u", '{"ticket": 1}'), ALLOW()),
 (call("u", '{"ticket": 1}'), RL("/all_tools/limits/0", 60000)),
 (call("u", '{"ticket": 1, "sensitive": true}'), RL("/all_tools/limits/0", 60000, "RateLimited > NeedsApproval")),
 (call("u", '{"ticket": 1, "sensitive": true}', ident='"bob"'), E("needs_approval", reason="sensitive")),
 (call("u", '{"ticket": 1, "sensitive": true}', ident='"bob"', approve=True), ALLOW()),
 (call("u", '{"ticket": 1}', ident='"bob"'), ALLOW()),
])

# ---------------------------------------------------------------- v2 limits
def at(t): return "2026-01-01T" + t + "Z"
topic("v2-limits", """
{
  "version": "2",
  "default": "deny",
  "tools": {
    "s30": { "limits": [ { "counter": "s30", "window": "30s", "max": 1, "scope": "grant" } ] },
    "m5": { "limits": [ { "counter": "m5", "window": "5m", "max": 1, "scope": "grant" } ] },
    "h2": { "limits": [ { "counter": "h2", "window": "2h", "max": 1, "scope": "grant" } ] },
    "d7": { "limits": [ { "counter": "d7", "window": "7d", "max": 1, "scope": "grant" } ] },
    "glob": { "limits": [ { "counter": "g", "window": "minute", "max": 1, "scope": "global" } ] },
    "fs_*": { "limits": [ { "counter": "fs", "window": "minute", "max": 1, "scope": "tool" } ] },
    "cust": { "limits": [ { "counter": "c", "window": "minute", "max": 1, "scope": "args.customer.id" } ] },
    "onden": { "limits": [ { "counter": "o", "window": "minute", "max": 1, "scope": "grant", "on_deny": "slow down" } ] },
    "multi": { "limits": [ { "counter": "a", "window": "minute", "max": 1, "scope": "args.k" },
                           { "counter": "b", "window": "minute", "max": 2, "scope": "grant" } ] },
    "err": { "limits": [ { "counter": "e", "window": "minute", "max": 1, "scope": "grant" } ] }
  }
}""", [
 (call("s30", at=at("00:00:10")), ALLOW()),
 (call("s30", at=at("00:00:20")), RL(L("s30"), 10000, "30s windows aligned to the epoch")),
 (call("s30", at=at("00:00:30")), ALLOW()),
 (call("m5", at=at("00:04:59")), ALLOW()),
 (call("m5", at=at("00:05:00")), ALLOW()),
 (call("m5"), RL(L("m5"), 300000)),
 (call("h2", at=at("01:59:59")), ALLOW()),
 (call("h2", at=at("02:00:00")), ALLOW("2h windows aligned to the epoch")),
 (call("h2", at=at("02:00:00")), RL(L("h2"), 7200000)),
 (call("glob", at=at("02:10:00")), ALLOW()),
 (call("glob", ident='"bob"'), RL(L("glob"), 60000, "global scope is shared")),
 (call("fs_a"), ALLOW()),
 (call("fs_a", ident='"bob"'), RL("/tools/fs_*/limits/0", 60000, "tool scope shared by identities")),
 (call("fs_b"), ALLOW("tool scope keyed by the tool")),
 (call("cust", '{"customer": {"id": "c1"}}'), ALLOW()),
 (call("cust", '{"customer": {"id": "c1"}}', ident='"bob"'), RL(L("cust"), 60000, "args.<path> scope shared by every identity")),
 (call("cust", '{"customer": {"id": "c2"}}'), ALLOW()),
 (call("cust", '{}'), E("deny", note="a call without that argument is denied")),
 (call("cust", '{"customer": {}}'), E("deny")),
 (call("cust", '{"customer": "c1"}'), E("deny")),
 (call("onden"), ALLOW()),
 (call("onden"), RL(L("onden"), 60000, reason="slow down")),
 (call("multi", '{"k": "x"}'), ALLOW()),
 (call("multi", '{"k": "x"}'), RL(L("multi"), 60000)),
 (call("multi", '{"k": "y"}'), ALLOW("counter b not consumed by the rate-limited call (all-or-nothing)")),
 (call("multi", '{"k": "z"}'), RL("/tools/multi/limits/1", 60000)),
 (call("err", outcome="error"), ALLOW("printed as made, then rolled back")),
 (call("err"), ALLOW("the rolled-back reservation is free again")),
 (call("err", outcome="error"), RL(L("err"), 60000)),
 (call("err"), RL(L("err"), 60000, "rolling back a rate-limited decision returns nothing")),
 (call("d7", at="2026-01-02T00:00:00Z"), ALLOW()),
 (call("d7", at="2026-01-07T23:59:59Z"), RL(L("d7"), 1000, "7d windows aligned to the epoch (2026-01-01 is a boundary)")),
 (call("d7", at="2026-01-08T00:00:00Z"), ALLOW()),
])

topic("v2-sliding", """
{
  "version": "2",
  "default": "deny",
  "tools": {
    "sl": { "limits": [ { "counter": "sl", "window": "minute", "max": 2, "scope": "grant", "algorithm": "sliding" } ] },
    "fx": { "limits": [ { "counter": "fx", "window": "minute", "max": 2, "scope": "grant", "algorithm": "fixed" } ] }
  }
}""", [
 (call("sl", at=at("00:00:50")), ALLOW()),
 (call("fx"), ALLOW()),
 (call("sl", at=at("00:00:55")), ALLOW()),
 (call("fx"), ALLOW()),
 (call("sl", at=at("00:01:05")), E("rate_limited", rule=L("sl"), note="no 2x max burst across a window boundary")),
 (call("fx"), ALLOW("fixed window: new minute")),
 (call("sl", at=at("00:02:30")), ALLOW()),
 (call("sl", at=at("00:02:31")), ALLOW()),
 (call("sl", at=at("00:02:32")), E("rate_limited", rule=L("sl"))),
])

topic("v2-cost", """
{
  "version": "2",
  "default": "deny",
  "tools": {
    "spend": { "limits": [ { "counter": "spend", "window": "day", "max": 1000, "scope": "grant", "cost_from": "args.amount" } ] },
    "fixed": { "limits": [ { "counter": "fixed", "window": "day", "max": 5, "scope": "grant", "cost": 3 } ] },
    "toobig": { "limits": [ { "counter": "tb", "window": "day", "max": 2, "scope": "grant", "cost": 3 } ] }
  }
}""", [
 (call("spend", '{"amount": 600}', at=at("12:00:00")), ALLOW()),
 (call("spend", '{"amount": 500}'), RL(L("spend"), 43200000)),
 (call("spend", '{"amount": -5}'), E("deny", note="negative amount")),
 (call("spend", '{"amount": 1.5}'), E("deny", note="fractional amount")),
 (call("spend", '{"amount": "10"}'), E("deny", note="non-numeric")),
 (call("spend", '{}'), E("deny", note="missing")),
 (call("spend", '{"amount": null}'), E("deny")),
 (call("spend", '{"amount": true}'), E("deny")),
 (call("spend", '{"amount": 2000}'), E("deny", note="a single call whose cost exceeds max is denied")),
 (call("spend", '{"amount": 1e400}'), E(not_allow=True, note="non-finite")),
 (call("spend", '{"amount": 400}'), ALLOW("denied calls changed no counter: 600+400 = max")),
 (call("spend", '{"amount": 0}'), ALLOW("0 is a non-negative integer; 1000 <= max")),
 (call("spend", '{"amount": 1}'), RL(L("spend"), 43200000)),
 (call("spend", '{"amount": 600}', ident='"bob"', outcome="error"), ALLOW()),
 (call("spend", '{"amount": 1000}', ident='"bob"'), ALLOW("error outcome rolled back 600")),
 (call("fixed"), ALLOW()),
 (call("fixed"), RL(L("fixed"), 43200000, "3+3 > 5")),
 (call("fixed", ident='"bob"'), ALLOW()),
 (call("toobig"), E("deny", note="cost 3 > max 2: could never be admitted")),
])

topic("precedence", """
{
  "version": "2",
  "default": "deny",
  "tools": {
    "p": {
      "deny_if": [ { "path": "args.bad", "op": "eq", "value": true, "on_deny": "bad" } ],
      "approval": { "when": [ { "path": "args.big", "op": "eq", "value": true } ], "reason": "big" },
      "limits": [ { "counter": "p", "window": "minute", "max": 1, "scope": "grant" } ]
    }
  }
}""", [
 (call("p", '{"big": true}', at=T0), E("needs_approval", reason="big")),
 (call("p", '{}'), ALLOW("approval-pending consumed nothing")),
 (call("p", '{"big": true}'), RL(L("p"), 60000, "RateLimited > NeedsApproval")),
 (call("p", '{"bad": true}'), E("deny", rule="/tools/p/deny_if/0", reason="bad", note="Deny > RateLimited")),
 (call("p", '{"bad": true, "big": true}'), E("deny", rule="/tools/p/deny_if/0", reason="bad")),
 (call("p", '{"bad": true}', ident='"bob"'), E("deny", rule="/tools/p/deny_if/0")),
 (call("p", '{}', ident='"bob"'), ALLOW("the denied call consumed nothing")),
 (call("p", '{"big": true}', ident='"carol"', approve=True), ALLOW()),
 (call("p", '{}', ident='"carol"'), RL(L("p"), 60000)),
])

topic("malformed-input", """
{
  "version": "2",
  "default": "deny",
  "tools": {
    "t": {},
    "lim": { "limits": [ { "counter": "l", "window": "minute", "max": 1, "scope": "grant" } ] }
  }
}""", [
 (call(None, raw='not json'), E(error=True)),
 (call(None, raw='[1, 2]'), E(error=True)),
 (call(None, raw='{"identity": "alice"}'), E(error=True, note="no tool")),
 (call(None, raw='{"identity": "alice", "tool": 5, "args": {}}'), E(error=True)),
 (call("t", at="yesterday"), E(error=True)),
 (call("t"), ALLOW("the run continues")),
 (call("t", '[1, 2]'), E(not_allow=True, note="non-object args: never an accidental allow")),
 (call("t", '"x"'), E(not_allow=True)),
 (call("t", '5'), E(not_allow=True)),
 (call("lim", at=T0), ALLOW()),
 (call(None, raw='{"identity": "alice", "tool": "lim"'), E(error=True)),
 (call("lim"), RL(L("lim"), 60000)),
])

# ---------------------------------------------------------------- validate
def err(pointer=None, prefix=None, contains=None):
    e = {}
    if pointer is not None: e["pointer"] = pointer
    if prefix is not None: e["pointer_prefix"] = prefix
    if contains is not None: e["message_contains"] = contains
    return e

DESIGN_EXAMPLE_V1 = """
{
  "version": "1",
  "default": "deny",
  "hide": ["delete_account"],
  "all_tools": { "limits": [ { "counter": "calls_per_minute", "window": "minute", "max": 60, "scope": "grant" } ] },
  "tools": {
    "list_customers": {},
    "create_refund": {
      "require": [ { "path": "args.reason", "op": "exists", "value": true, "on_deny": "A refund needs a reason" } ],
      "deny_if": [ { "path": "args.amount", "op": "gt", "value": 10000, "on_deny": "Refunds over 100.00 need a human" } ],
      "limits":  [ { "counter": "refunds_per_hour", "window": "hour", "max": 10, "scope": "grant" } ]
    }
  }
}"""
vtopic("design-example-v1", DESIGN_EXAMPLE_V1, {"exit": 0})
vtopic("design-example-v2", DESIGN_EXAMPLE_V1.replace('"version": "1"', '"version": "2"', 1), {"exit": 0})
vtopic("v2-full-valid", """
{
  "version": "2",
  "default": "deny",
  "hide": ["secret_*"],
  "all_tools": {
    "require": [ { "path": "identity.id", "op": "exists", "value": true } ],
    "deny_if": [ { "any": [ { "path": "args.x", "op": "eq", "value": 1 }, { "not": { "path": "args.y", "op": "exists", "value": true } } ] } ],
    "approval": { "when": [ { "path": "args.z", "op": "eq", "value": true } ], "reason": "z" },
    "limits": [ { "counter": "g", "window": "30s", "max": 5, "scope": "global", "algorithm": "sliding" } ]
  },
  "tools": {
    "fs_*": { "require": [ { "path": "args.p", "op": "path_under", "value": "/srv" } ] },
    "drop": { "action": "deny", "on_deny": "never" },
    "pay": {
      "args_schema": { "type": "object" },
      "approval": { "reason": "money", "ttl": "15m" },
      "limits": [ { "counter": "spend", "window": "1d", "max": 100000, "scope": "args.customer", "cost_from": "args.amount", "on_deny": "cap" },
                  { "counter": "n", "window": "hour", "max": 10, "scope": "tool", "cost": 2 } ]
    },
    "s": { "deny_if": [ { "path": "args.s", "op": "starts_with", "value": "a" }, { "path": "args.s", "op": "ends_with", "value": "b" },
                        { "path": "args.s", "op": "glob", "value": "*.c" } ] }
  }
}""", {"exit": 0})
vtopic("unknown-and-missing-key", """
{ "version": "1", "default": "deny",
  "tools": { "x": { "require": [ { "path": "args.a", "opp": "eq", "value": 1 } ] } } }
""", {"exit": 1, "errors": [err("/tools/x/require/0/opp"), err("/tools/x/require/0", contains="op")]})
vtopic("missing-default", """{ "version": "1" }""", {"exit": 1, "errors": [err("", contains="default")]})
vtopic("missing-version", """{ "default": "deny" }""", {"exit": 1, "errors": [err(prefix="", contains="version")]})
vtopic("unknown-version", """{ "version": "3", "default": "deny" }""", {"exit": 1, "errors": [err(prefix="")]})
vtopic("pointer-escaping", """
{ "version": "1", "default": "deny",
  "tools": { "a/b": { "opp": 1 }, "m~n": { "requir": [] } } }
""", {"exit": 1, "errors": [err("/tools/a~1b/opp"), err("/tools/m~0n/requir")]})
vtopic("all-problems-listed", """
{ "version": "1", "default": "maybe", "hide": "x", "extra": true,
  "tools": {
    "a": { "deny_if": [ { "path": "args.n", "op": "gt", "value": "5" } ] },
    "b": { "limits": [ { "counter": "c", "window": "week", "max": 0, "scope": "grant" } ] },
    "c": { "require": [ { "path": "args.n", "op": "like", "value": "5" } ] }
  } }
""", {"exit": 1, "errors": [err(prefix="/default"), err(prefix="/hide"), err("/extra"),
      err(prefix="/tools/a/deny_if/0"), err(prefix="/tools/b/limits/0"), err(prefix="/tools/b/limits/0"),
      err(prefix="/tools/c/require/0")]})
vtopic("operand-types", """
{ "version": "2", "default": "deny",
  "tools": {
    "a": { "require": [ { "path": "args.n", "op": "in", "value": "x" } ] },
    "b": { "require": [ { "path": "args.n", "op": "exists", "value": "yes" } ] },
    "c": { "require": [ { "path": "args.n", "op": "regex", "value": 5 } ] },
    "d": { "require": [ { "path": "args.n", "op": "lt", "value": null } ] },
    "e": { "require": [ { "path": "args.n", "op": "not_in", "value": {} } ] },
    "f": { "require": [ { "path": "args.n", "op": "regex", "value": "(" } ] },
    "g": { "require": [ { "path": "args.n", "op": "gte", "value": "10" } ] }
  } }
""", {"exit": 1, "errors": [err(prefix="/tools/%s/require/0" % t) for t in "abcdefg"]})
vtopic("v1-rejects-v2-features", """
{ "version": "1", "default": "deny",
  "tools": {
    "x": { "action": "deny", "on_deny": "no" },
    "y": { "limits": [ { "counter": "c", "window": "30s", "max": 1, "scope": "grant" } ] },
    "z": { "require": [ { "path": "args.s", "op": "starts_with", "value": "a" } ] },
    "w": { "args_schema": { "type": "object" } }
  } }
""", {"exit": 1, "errors": [err("/tools/x/action"), err(prefix="/tools/y/limits/0"), err(prefix="/tools/z/require/0"),
      err("/tools/w/args_schema")]})
vtopic("glob-tie", """
{ "version": "2", "default": "deny", "tools": { "fs_*": {}, "fs_*_x": {} } }
""", {"exit": 1, "errors": [err(prefix="/tools")]})
vtopic("v2-limit-values", """
{ "version": "2", "default": "deny",
  "tools": {
    "a": { "limits": [ { "counter": "a", "window": "minute", "max": 5, "scope": "grant", "cost": 0 } ] },
    "b": { "limits": [ { "counter": "b", "window": "minute", "max": 5, "scope": "grant", "cost": 1.5 } ] },
    "c": { "limits": [ { "counter": "c", "window": "10x", "max": 5, "scope": "grant" } ] },
    "d": { "limits": [ { "counter": "d", "window": "minute", "max": 5, "scope": "grant", "algorithm": "leaky" } ] },
    "e": { "limits": [ { "counter": "e", "window": "minute", "max": 5, "scope": "user" } ] },
    "f": { "limits": [ { "counter": "f", "window": "minute", "max": -1, "scope": "grant" } ] }
  } }
""", {"exit": 1, "errors": [err(prefix="/tools/%s/limits/0" % t) for t in "abcdef"]})
vtopic("missing-keys-name-the-object", """
{ "version": "2", "default": "deny",
  "tools": {
    "a": { "limits": [ { "window": "minute", "max": 5, "scope": "grant" } ] },
    "b": { "require": [ { "op": "eq", "value": 1 } ] },
    "c": { "approval": { "ttl": "5m" } },
    "d": { "deny_if": [ { "path": "args.x", "op": "eq" } ] }
  } }
""", {"exit": 1, "errors": [err("/tools/a/limits/0", contains="counter"), err("/tools/b/require/0", contains="path"),
      err("/tools/c/approval", contains="reason"), err("/tools/d/deny_if/0", contains="value")]})
vtopic("not-json", """{ "version": "1", """, {"exit": 1, "errors": [err("")]})

# ================================================================ second round
topic("v1-operator-edges", """
{
  "version": "1",
  "default": "deny",
  "tools": {
    "eqhuge": { "deny_if": [ { "path": "args.v", "op": "eq", "value": 18446744073709551616 } ] },
    "eqhuger": { "deny_if": [ { "path": "args.v", "op": "eq", "value": 1e30 } ] },
    "eqprec": { "deny_if": [ { "path": "args.v", "op": "eq", "value": 0.1 } ] },
    "gt0": { "deny_if": [ { "path": "args.v", "op": "gt", "value": 0 } ] },
    "eq0": { "deny_if": [ { "path": "args.v", "op": "eq", "value": 0 } ] },
    "eqab": { "deny_if": [ { "path": "args.v", "op": "eq", "value": "ab" } ] },
    "esckey": { "deny_if": [ { "path": "args.va", "op": "eq", "value": 5 } ] },
    "inmix": { "deny_if": [ { "path": "args.v", "op": "in", "value": [null, 1, [1], {"a": 1}] } ] },
    "neqnull": { "deny_if": [ { "path": "args.v", "op": "neq", "value": null } ] },
    "cobj": { "deny_if": [ { "path": "args.v", "op": "contains", "value": {"a": 1} } ] },
    "eqtrue": { "deny_if": [ { "path": "args.v", "op": "eq", "value": true } ] }
  }
}""", [
 (call("eqhuge", '{"v": 18446744073709551617}'), ALLOW("numbers compare exactly beyond 64 bits")),
 (call("eqhuge", '{"v": 18446744073709551616}'), D("eqhuge")),
 (call("eqhuger", '{"v": 1000000000000000000000000000001}'), ALLOW("numbers compare exactly")),
 (call("eqhuger", '{"v": 1000000000000000000000000000000}'), D("eqhuger", "1e30 written out")),
 (call("eqprec", '{"v": 0.1000000000000000000000000000001}'), ALLOW("numbers compare exactly")),
 (call("eqprec", '{"v": 1.0e-1}'), D("eqprec")),
 (call("gt0", '{"v": 1e-400}'), D("gt0", "exactly greater than 0, though a double underflows to 0")),
 (call("eq0", '{"v": -0}'), D("eq0", "-0 is the number 0")),
 (call("eq0", '{"v": 0e5}'), D("eq0")),
 (call("eq0", '{"v": 0.000}'), D("eq0")),
 (call("eqab", '{"v": "a\\u0062"}'), D("eqab", "JSON escapes denote the same string")),
 (call("esckey", '{"v\\u0061": 5}'), D("esckey", "escaped key names the same argument")),
 (call("esckey", '{"va": 1, "va": 5}'), E(not_allow=True, note="duplicate key: bad input never turns into an accidental allow")),
 (call("esckey", '{"va": 5, "va": 1}'), E(not_allow=True)),
 (call("inmix", '{"v": null}'), ALLOW("present null counts as absent, even if null is in the list")),
 (call("inmix", '{"v": [1]}'), D("inmix")),
 (call("inmix", '{"v": {"a": 1.0}}'), D("inmix")),
 (call("inmix", '{"v": "1"}'), ALLOW()),
 (call("neqnull", '{"v": 5}'), D("neqnull")),
 (call("neqnull", '{"v": null}'), ALLOW("null counts as absent -> false")),
 (call("neqnull", '{}'), ALLOW()),
 (call("cobj", '{"v": [{"a": 1.0}]}'), D("cobj", "element test by JSON value")),
 (call("cobj", '{"v": [{"a": "1"}]}'), ALLOW()),
 (call("eqtrue", '{"v": "true"}'), ALLOW()),
 (call("eqtrue", '{"v": 1}'), ALLOW()),
 (call("eqtrue", '{"v": true}'), D("eqtrue")),
])

PU2 = [
 ("pu", '"/srv/data/x/"', True, "trailing separator"),
 ("pu", '""', False, "empty is relative"),
 ("pu", '"/srv/data/..."', False, "a segment ending in a dot is an unusual form (Windows drops trailing dots)"),
 ("pu", '"/srv/./data"', True, None),
 ("pu", '"//srv/data"', False, "a leading // is an unusual form (UNC, implementation-defined root)"),
 ("pu", '"/srv/data/x/../../data2"', False, None),
 ("pu", '"/.."', False, "climbs above the root"),
 ("puroot", '"/etc"', True, None),
 ("puroot", '"/"', True, None),
 ("puroot", '"/.."', False, "climbs above the root"),
 ("puroot", '"etc"', False, "relative"),
]
topic("v2-path-under-edges", """
{
  "version": "2",
  "default": "deny",
  "tools": {
    "pu": { "require": [ { "path": "args.p", "op": "path_under", "value": "/srv/data" } ] },
    "puroot": { "require": [ { "path": "args.p", "op": "path_under", "value": "/" } ] }
  }
}""", [(call(t, '{"p": %s}' % v), ALLOW(n) if h else DENY(t, "require", note=n)) for t, v, h, n in PU2])

topic("v2-star-glob", """
{ "version": "2", "default": "deny", "tools": { "*": {}, "x": { "action": "deny", "on_deny": "no x" } } }
""", [
 (call("anything"), ALLOW('"*" glob entry matches every name')),
 (call("x"), E("deny", reason="no x")),
 (call("x", '{"a": 1}', ident='{"id": "root", "roles": ["admin"]}'), E("deny", reason="no x")),
])

topic("v2-limit-edges", """
{
  "version": "2",
  "default": "deny",
  "tools": {
    "cust": { "limits": [ { "counter": "c", "window": "minute", "max": 1, "scope": "args.id" } ] },
    "mix": { "limits": [ { "counter": "m1", "window": "minute", "max": 1, "scope": "grant" },
                         { "counter": "m2", "window": "minute", "max": 5, "scope": "args.c" } ] },
    "spend": { "limits": [ { "counter": "spend", "window": "day", "max": 1000, "scope": "grant", "cost_from": "args.o.cents" } ] },
    "two": { "limits": [ { "counter": "x1", "window": "minute", "max": 1, "scope": "grant" },
                         { "counter": "x2", "window": "hour", "max": 1, "scope": "grant" } ] }
  }
}""", [
 (call("cust", '{"id": 1}', at=at("00:00:00")), ALLOW()),
 (call("cust", '{"id": 1.0}', ident='"bob"'), RL(L("cust"), 60000, "1 and 1.0 are the same value")),
 (call("cust", '{"id": "1"}', ident='"bob"'), ALLOW('"1" is not 1')),
 (call("cust", '{"id": null}', ident='"bob"'), E("deny", note="null counts as absent: a call without that argument is denied")),
 (call("mix", '{"c": "x"}'), ALLOW()),
 (call("mix", '{}'), E("deny", rule="/tools/mix/limits/1", note="Deny (missing scope argument) beats RateLimited (limit 0)")),
 (call("mix", '{"c": "y"}'), RL(L("mix"), 60000)),
 (call("spend", '{"o": {"cents": 800}}'), ALLOW("cost_from walks nested paths")),
 (call("spend", '{"o": {"cents": 9223372036854775808}}'), E("deny")),
 (call("spend", '{"o": {"cents": 201}}'), RL(L("spend"), 86400000)),
 (call("spend", '{"o": {"cents": 200}}'), ALLOW("exactly max")),
 (call("two", at=at("00:10:00")), ALLOW()),
 (call("two", at=at("00:11:00")), RL("/tools/two/limits/1", 2940000, "the hour counter, 49 min to go")),
])

topic("outcome-edges", """
{
  "version": "2",
  "default": "deny",
  "tools": {
    "p": {
      "deny_if": [ { "path": "args.bad", "op": "eq", "value": true } ],
      "approval": { "when": [ { "path": "args.big", "op": "eq", "value": true } ], "reason": "big" },
      "limits": [ { "counter": "p", "window": "minute", "max": 1, "scope": "grant" } ]
    }
  }
}""", [
 (call("p", at=T0), ALLOW()),
 (call("p", '{"bad": true}', outcome="error"), E("deny", rule="/tools/p/deny_if/0")),
 (call("p", '{"big": true}', outcome="error"), RL(L("p"), 60000)),
 (call("p", outcome="error"), RL(L("p"), 60000, "rolling back denied/rate-limited decisions returned nothing")),
 (call("p", '{"big": true}', ident='"bob"', outcome="error"), E("needs_approval")),
 (call("p", ident='"bob"'), ALLOW()),
 (call("p", ident='"bob"'), RL(L("p"), 60000)),
])

vtopic("more-value-errors", """
{ "version": "2", "default": "deny", "hide": [1],
  "tools": {
    "a": { "args_schema": { "type": "bogus" } },
    "b": { "limits": [ { "counter": "c", "window": "minute", "max": 1, "scope": "args." } ] },
    "c": { "limits": [ { "counter": "c", "window": "minute", "max": 1, "scope": "grant", "cost_from": "amount" } ] },
    "d": { "approval": { "reason": "r", "ttl": "15x" } },
    "e": { "limits": [ { "counter": "e", "window": "0s", "max": 1, "scope": "grant" },
                       { "counter": "f", "window": "30", "max": 1, "scope": "grant" },
                       { "counter": "g", "window": "-5m", "max": 1, "scope": "grant" } ] },
    "f": { "require": [ { "path": "a.b", "op": "exists", "value": true } ] }
  } }
""", {"exit": 1, "errors": [err(prefix="/hide"), err(prefix="/tools/a/args_schema"), err(prefix="/tools/b/limits/0"),
      err(prefix="/tools/c/limits/0"), err(prefix="/tools/d/approval"), err(prefix="/tools/e/limits/0"),
      err(prefix="/tools/e/limits/1"), err(prefix="/tools/e/limits/2"), err(prefix="/tools/f/require/0")]})
vtopic("tools-not-object", """{ "version": "1", "default": "deny", "tools": [] }""", {"exit": 1, "errors": [err(prefix="/tools")]})
vtopic("root-not-object", """[]""", {"exit": 1, "errors": [err("")]})

topic("v2-counter-exactness", """
{
  "version": "2",
  "default": "deny",
  "tools": {
    "big": { "limits": [ { "counter": "big", "window": "day", "max": 9223372036854775807, "scope": "grant", "cost_from": "args.n" } ] },
    "b53": { "limits": [ { "counter": "b53", "window": "day", "max": 9007199254740993, "scope": "grant", "cost_from": "args.n" } ] },
    "cs": { "limits": [ { "counter": "cs", "window": "minute", "max": 5, "scope": "grant", "cost_from": "args.n" } ] }
  }
}""", [
 (call("big", '{"n": 9223372036854775807}', at=at("00:00:00")), ALLOW()),
 (call("big", '{"n": 1}'), RL("/tools/big/limits/0", 86400000, "a limit of max admits max, never max+1 (no overflow)")),
 (call("big", '{"n": 0}'), ALLOW()),
 (call("b53", '{"n": 9007199254740992}'), ALLOW()),
 (call("b53", '{"n": 1}'), ALLOW("2^53 + 1 = max exactly")),
 (call("b53", '{"n": 1}'), RL("/tools/b53/limits/0", 86400000)),
 (call("cs", '{"n": "1e2"}'), E("deny", note="non-numeric")),
 (call("cs", '{"n": 5.000000000000000000001}'), E("deny", note="fractional, though a double would round it to 5")),
 (call("cs", '{"n": 1e0}'), ALLOW()),
 (call("cs", '{"n": 0.5e1}'), RL("/tools/cs/limits/0", 60000, "1 + 5 > 5")),
 (call("cs", '{"n": 4}'), ALLOW()),
])
