#!/usr/bin/env python3
"""Keeps src/PolicyEngine's namespaces following its folders, and every using line in step.

Usage: python3 tools/fix_namespaces.py [--check]

- A file of src/PolicyEngine whose top-level types are all internal gets the namespace of its folder
  (Json/Numbers/X.cs -> PolicyEngine.Json.Numbers); a file with a public type stays in namespace PolicyEngine.
- Every C# file of the projects that see the core's internals (the core, its InternalsVisibleTo friends) gets a
  `using PolicyEngine.X;` for each core namespace whose internal types it names, and loses the ones it no longer needs.
With --check nothing is written; the exit code says whether anything would change.
"""
import os, re, sys

check = '--check' in sys.argv
root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
core = os.path.join(root, 'src', 'PolicyEngine')

def cs_files(d):
    out = []
    for dp, dirs, fs in os.walk(d):
        dirs[:] = [x for x in dirs if x not in ('bin', 'obj', 'node_modules')]
        out += [os.path.join(dp, f) for f in fs if f.endswith('.cs')]
    return sorted(out)

def strip(code):
    code = re.sub(r'"""[\s\S]*?"""', '""', code)
    code = re.sub(r'//[^\n]*', '', code)
    code = re.sub(r'/\*[\s\S]*?\*/', '', code)
    code = re.sub(r'@"(?:[^"]|"")*"', '""', code)
    code = re.sub(r'(?<![$\w])"(?:\\.|[^"\\\n])*"', '""', code)  # interpolated strings stay: their holes name types
    code = re.sub(r"'(?:\\.|[^'\\\n])+'", "''", code)
    # enum members are not type references
    code = re.sub(r'(\benum\s+\w+[^{]*\{)[^}]*\}', r'\1}', code)
    return code

decl = re.compile(r'^((?:(?:public|internal|private|protected|static|sealed|abstract|readonly|partial|ref|unsafe|file)\s+)*)'
                  r'(?:class|struct|interface|enum|record(?:\s+struct|\s+class)?)\s+(\w+)', re.M)
ns_line = re.compile(r'^namespace\s+([\w.]+)\s*;', re.M)

changes = []
internal_ns = {}          # internal type name -> namespace
core_namespaces = {'PolicyEngine.Evaluation', 'PolicyEngine.Compilation'}
for f in cs_files(core):
    text = open(f, encoding='utf-8').read()
    types = [(m.group(1), m.group(2)) for m in decl.finditer(strip(text))]
    if not types:
        continue
    rel = os.path.relpath(os.path.dirname(f), core)
    public = any('public' in mods for mods, _ in types)
    want = 'PolicyEngine' if public or rel == '.' else 'PolicyEngine.' + rel.replace(os.sep, '.')
    m = ns_line.search(text)
    if m and m.group(1) != want:
        text = text[:m.start(1)] + want + text[m.end(1):]
        changes.append(f)
        if not check:
            open(f, 'w', encoding='utf-8').write(text)
    if want != 'PolicyEngine':
        core_namespaces.add(want)
        for mods, name in types:
            internal_ns.setdefault(name, want)

friends = ['src/PolicyEngine', 'src/PolicyEngine.Cli', 'src/PolicyEngine.Testing', 'src/PolicyEngine.Intercept', 'src/PolicyEngine.Audit',
           'tests', 'benchmarks/PolicyEngine.Benchmarks']
# Type names as written in code: not after a dot (member access such as PredicateOperator.Glob names no type)
ident = re.compile(r'(?<![.\w])[A-Z]\w*\b')
using_re = re.compile(r'^using\s+([\w.]+)\s*;\s*$')
for d in friends:
    for f in cs_files(os.path.join(root, d)):
        text = open(f, encoding='utf-8').read()
        m = ns_line.search(text)
        own = m.group(1) if m else ''
        enclosing = set()
        parts = own.split('.') if own else []
        for k in range(1, len(parts) + 1):
            enclosing.add('.'.join(parts[:k]))
        body = strip(text)
        # Types the file declares itself shadow the core's.
        declared = {n for _, n in ((x.group(1), x.group(2)) for x in decl.finditer(body))}
        needed = set()
        for name in set(ident.findall(body)):
            if name in internal_ns and name not in declared:
                needed.add(internal_ns[name])
        needed -= enclosing
        lines = text.split('\n')
        # the using block: leading using lines (before the namespace / first declaration)
        idx = [i for i, l in enumerate(lines) if using_re.match(l)]
        head_end = m.start() if m else len(text)
        first_line_of_ns = text[:head_end].count('\n') if m else len(lines)
        idx = [i for i in idx if i < first_line_of_ns]
        have = {using_re.match(lines[i]).group(1): i for i in idx}
        remove = [i for n, i in have.items() if n in core_namespaces and n not in needed]
        add = sorted(n for n in needed if n not in have)
        if not remove and not add:
            continue
        for i in sorted(remove, reverse=True):
            del lines[i]
        if add:
            idx = [i for i, l in enumerate(lines) if using_re.match(l) and i < first_line_of_ns]
            if idx:
                block = [lines[i] for i in idx]
                contiguous = idx == list(range(idx[0], idx[-1] + 1))
                new = block + [f'using {n};' for n in add]
                if contiguous:
                    # Each new line goes before the first later PolicyEngine.* line (existing lines keep their order).
                    new = list(block)
                    for n in add:
                        at = len(new)
                        for k, l in enumerate(new):
                            u = using_re.match(l).group(1)
                            if u.startswith('PolicyEngine') and u > n:
                                at = k
                                break
                        new.insert(at, f'using {n};')
                    lines[idx[0]:idx[-1] + 1] = new
                else:
                    lines[idx[-1] + 1:idx[-1] + 1] = [f'using {n};' for n in add]
            else:
                lines[0:0] = [f'using {n};' for n in add] + ([''] if lines and lines[0].strip() else [])
        new_text = '\n'.join(lines)
        if new_text != text:
            changes.append(f)
            if not check:
                open(f, 'w', encoding='utf-8').write(new_text)

for c in sorted(set(changes)):
    print(os.path.relpath(c, root))
sys.exit(1 if check and changes else 0)
