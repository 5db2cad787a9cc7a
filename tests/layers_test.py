#!/usr/bin/env python3
"""The shape of server/: every folder is a library whose dependencies point one way.

usage: layers_test.py SOURCE_DIR

Reads the server modules and their dependencies from CMakeLists.txt
(`sluice_server_module(NAME DEPS sluice_a sluice_b ... [PRIVATE ...])`), then checks:
- every `#include "server/<module>/..."` in server/<folder>/ names the folder itself or a module
  its library depends on (directly or through others);
- no two files of server/ include each other, directly or in a cycle;
- no file in server/ is longer than 500 lines.
Prints each violation and exits 1 when there is any.
"""

import os
import re
import sys

MAX_LINES = 500
INCLUDE = re.compile(r'^\s*#\s*include\s+"(server/[^"]+)"', re.M)
MODULE = re.compile(r"sluice_server_module\((\w+)([^)]*)\)", re.S)


def read_modules(root):
    """{module: set of modules it depends on directly} from CMakeLists.txt."""
    with open(os.path.join(root, "CMakeLists.txt")) as f:
        text = f.read()
    deps = {}
    for m in MODULE.finditer(text):
        name, rest = m.group(1), m.group(2).split()
        public = []
        if "DEPS" in rest:
            for word in rest[rest.index("DEPS") + 1:]:
                if word == "PRIVATE":
                    break
                public.append(word)
        deps[name] = {d[len("sluice_"):] for d in public if d.startswith("sluice_")}
    return deps


def closure(deps):
    """{module: every module it may include (itself and its dependencies, transitively)}."""
    out = {}
    for name in deps:
        seen, todo = {name}, [name]
        while todo:
            for d in deps.get(todo.pop(), ()):
                if d not in seen:
                    seen.add(d)
                    todo.append(d)
        out[name] = seen
    return out


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    root = os.path.abspath(argv[1])
    deps = read_modules(root)
    if not deps:
        print("FAIL: no sluice_server_module(...) found in CMakeLists.txt")
        return 1
    allowed = closure(deps)
    problems = []
    graph = {}
    server = os.path.join(root, "server")
    for folder in sorted(os.listdir(server)):
        path = os.path.join(server, folder)
        if not os.path.isdir(path):
            continue
        if folder not in deps:
            problems.append(f"server/{folder}/ is not a library in CMakeLists.txt")
            continue
        for name in sorted(os.listdir(path)):
            if not name.endswith((".hpp", ".cpp")):
                continue
            rel = f"server/{folder}/{name}"
            with open(os.path.join(path, name)) as f:
                text = f.read()
            lines = text.count("\n")
            if lines > MAX_LINES:
                problems.append(f"{rel}: {lines} lines (at most {MAX_LINES}: split it)")
            graph[rel] = []
            for inc in INCLUDE.findall(text):
                other = inc.split("/")[1]
                graph[rel].append(inc)
                if other not in allowed[folder]:
                    problems.append(f"{rel} includes {inc}: server/{folder} may include only "
                                    f"{', '.join(sorted(allowed[folder]))}")
    # Include cycles between files.
    state = {}

    def visit(node, stack):
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                problems.append("include cycle: " + " -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    for p in problems:
        print(f"FAIL: {p}")
    print(f"{len(graph)} files in {len(deps)} modules; {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
