#!/usr/bin/env python3
"""Folder dependency graph of a C# project, derived from type references.

Usage: python3 tools/folder_graph.py [src/PolicyEngine] [--order Json,Matching,...] [--tree]

Every top-level type (class, struct, record, enum, interface, delegate) is owned by the folder of the file named
after it (or of its first declaration). A folder depends on another when one of its files names a type that the
other owns (comments and string literals are ignored). Prints the edges with the types that cause them, any cycle,
and, with --order, every edge that points to a folder later in the given order (a layering violation).
With --tree, prints the line-count folder tree first.
"""
import os, re, sys
from collections import defaultdict

args = [a for a in sys.argv[1:]]
root = 'src/PolicyEngine'
order = None
tree = False
i = 0
while i < len(args):
    if args[i] == '--order':
        order = args[i + 1].split(','); i += 2
    elif args[i] == '--tree':
        tree = True; i += 1
    else:
        root = args[i].rstrip('/'); i += 1

files = []
for d, dirs, fs in os.walk(root):
    dirs[:] = [x for x in dirs if x not in ('bin', 'obj')]
    for f in fs:
        if f.endswith('.cs'):
            files.append(os.path.join(d, f))
files.sort()

def folder(path):
    rel = os.path.relpath(os.path.dirname(path), root)
    return '.' if rel == '.' else rel

def strip(code):
    # Remove comments, verbatim/raw/regular strings and char literals (good enough for a dependency scan).
    code = re.sub(r'"""[\s\S]*?"""', '""', code)
    code = re.sub(r'//[^\n]*', '', code)
    code = re.sub(r'/\*[\s\S]*?\*/', '', code)
    code = re.sub(r'@"(?:[^"]|"")*"', '""', code)
    code = re.sub(r'"(?:\\.|[^"\\\n])*"', '""', code)
    code = re.sub(r"'(?:\\.|[^'\\\n])+'", "''", code)
    # enum members are not type references
    code = re.sub(r'(\benum\s+\w+[^{]*\{)[^}]*\}', r'\1}', code)
    return code

decl = re.compile(r'^(?:\s{0,4})(?:\[[^\]]*\]\s*)*(?:(?:public|internal|private|protected|static|sealed|abstract|readonly|partial|ref|unsafe|file|new)\s+)*'
                  r'(?:class|struct|interface|enum|record(?:\s+struct|\s+class)?|delegate\s+[\w<>\[\],? ]+?)\s+(\w+)', re.M)
texts = {}
owners = {}
lines = {}
for f in files:
    raw = open(f, encoding='utf-8').read()
    lines[f] = raw.count('\n') + (0 if raw.endswith('\n') or not raw else 1)
    t = strip(raw)
    texts[f] = t
    # top-level and first-level nested types at column 0 or 4 (file-scoped namespaces put top-level types at column 0)
    for m in decl.finditer(t):
        indent = len(m.group(0)) - len(m.group(0).lstrip(' '))
        if indent != 0:
            continue
        name = m.group(1)
        base = os.path.basename(f)[:-3].split('.')[0]
        if name not in owners or base == name:
            owners[name] = folder(f)

if tree:
    per = defaultdict(int)
    for f in files:
        fo = folder(f)
        per[fo] += lines[f]
    total = sum(lines.values())
    print(f'{root}: {total} lines in {len(files)} files')
    for fo in sorted(per):
        n = len([f for f in files if folder(f) == fo])
        print(f'  {fo + "/" if fo != "." else "(root)"}: {per[fo]} lines, {n} files')
    big = sorted(files, key=lambda f: -lines[f])[:5]
    print('  largest:', ', '.join(f'{os.path.relpath(f, root)} ({lines[f]})' for f in big))
    print()

edges = defaultdict(lambda: defaultdict(set))
# Type names as written in code: not after a dot (member access such as PredicateOperator.Glob names no type)
ident = re.compile(r'(?<![.\w])[A-Z]\w*\b')
for f in files:
    src = folder(f)
    for name in set(ident.findall(texts[f])):
        dst = owners.get(name)
        if dst is not None and dst != src:
            edges[src][dst].add(name)

print('edges (folder -> folder: types):')
for s in sorted(edges):
    for d in sorted(edges[s]):
        ts = sorted(edges[s][d])
        print(f'  {s} -> {d}: {", ".join(ts[:8])}{" ..." if len(ts) > 8 else ""}')

# cycles: strongly connected components (Tarjan)
index = {}; low = {}; stack = []; on = set(); sccs = []; counter = [0]
nodes = sorted(set(edges) | {d for s in edges for d in edges[s]})
def visit(v):
    index[v] = low[v] = counter[0]; counter[0] += 1; stack.append(v); on.add(v)
    for w in edges.get(v, {}):
        if w not in index:
            visit(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v: break
        sccs.append(comp)
sys.setrecursionlimit(10000)
for v in nodes:
    if v not in index:
        visit(v)
cycles = [c for c in sccs if len(c) > 1]
print()
print('cycles:', 'none' if not cycles else '; '.join(' <-> '.join(sorted(c)) for c in cycles))
bad = []
if order:
    rank = {o: k for k, o in enumerate(order)}
    for s in edges:
        for d in edges[s]:
            if s in rank and d in rank and rank[d] > rank[s]:
                bad.append(f'{s} -> {d} ({", ".join(sorted(edges[s][d]))})')
            for x in (s, d):
                if x not in rank:
                    bad.append(f'{x} is not in --order')
    bad = sorted(set(bad))
    print('edges against the order:', 'none' if not bad else '')
    for b in bad:
        print('  ' + b)
sys.exit(1 if cycles or bad else 0)
