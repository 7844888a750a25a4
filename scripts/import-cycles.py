#!/usr/bin/env python3
"""Fails when the modules of a crate import each other in a circle.

For every `.rs` file under each SRC directory given (default: every crate of the
workspace), it lists the modules the file refers to: `use crate::…`, `crate::…` paths,
`super::…`, `self::…`, and paths through the file's own child modules (`captcha::X` in
`factor/mod.rs`). A `pub use` that only re-exports is a facade, not a dependency, and is
left out. Each reference is resolved to the longest module it names. A circle is
printed with the names that tie each edge, and the exit status is 1.

    scripts/import-cycles.py [SRC ...]        e.g. scripts/import-cycles.py core/src
    scripts/import-cycles.py --edges core/src  also print every edge
    scripts/import-cycles.py --self-test       shows it catches a circle, and not a facade
"""

import re
import sys
from collections import defaultdict
from pathlib import Path

RAW = re.compile(r'b?r(#*)"')
CHAR = re.compile(r"'(?:\\.[^']*|[^\\'])'")
USE = re.compile(r"(?m)^\s*(pub(?:\([^)]*\))?\s+)?use\s+([^;]+);")
PATH = re.compile(r"\b((?:crate|super|self)(?:::[A-Za-z_][A-Za-z0-9_]*)+)")
CHILD = re.compile(r"(?m)^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+([A-Za-z_][A-Za-z0-9_]*)\s*;")
TEST_MOD = re.compile(r"#\[cfg\(test\)\]\s*(?:pub\s+)?mod\s+\w+\s*\{")


def module_of(src: Path, file: Path) -> tuple:
    parts = list(file.relative_to(src).with_suffix("").parts)
    if parts[-1] in ("lib", "main", "mod"):
        parts = parts[:-1]
    return tuple(parts)


def code_only(text: str) -> str:
    """The text with comments removed and string and char literals emptied."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif (m := RAW.match(text, i)) and (i == 0 or not text[i - 1].isalnum()):
            close = '"' + m.group(1)
            end = text.find(close, m.end())
            out.append('""')
            i = n if end < 0 else end + len(close)
        elif text[i] == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('""')
            i = j + 1
        elif text[i] == "'" and (m := CHAR.match(text, i)):
            out.append("' '")
            i = m.end()
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def strip(text: str) -> str:
    """The code without comments, strings and `#[cfg(test)]` modules (tests may
    reach anywhere)."""
    text = code_only(text)
    out, i = [], 0
    for m in TEST_MOD.finditer(text):
        if m.start() < i:
            continue
        out.append(text[i : m.start()])
        depth, j = 1, m.end()
        while j < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        i = j
    out.append(text[i:])
    return "".join(out)


def expand(tree: str) -> list:
    """`a::{b, c::{d, e}}` -> ['a::b', 'a::c::d', 'a::c::e']."""
    tree = " ".join(tree.split())
    if "{" not in tree:
        return [tree.split(" as ")[0].strip()]
    head, rest = tree.split("{", 1)
    body = rest.rsplit("}", 1)[0]
    items, depth, cur = [], 0, ""
    for ch in body:
        if ch == "," and depth == 0:
            items.append(cur)
            cur = ""
            continue
        depth += {"{": 1, "}": -1}.get(ch, 0)
        cur += ch
    items.append(cur)
    out = []
    for item in filter(None, (i.strip() for i in items)):
        for path in expand(item):
            out.append(head + path if path != "self" else head.rstrip(":"))
    return out


def absolute(path: str, here: tuple, children: set) -> list:
    parts = path.split("::")
    base = list(here)
    if parts[0] == "crate":
        base, parts = [], parts[1:]
    elif parts[0] in ("super", "self"):
        while parts and parts[0] in ("super", "self"):
            if parts.pop(0) == "super":
                base = base[:-1]
    elif parts[0] in children:
        pass
    else:
        return []
    return base + parts


def scan(src: Path):
    files = {module_of(src, f): f for f in sorted(src.rglob("*.rs"))}
    edges = defaultdict(set)
    for here, file in files.items():
        text = strip(file.read_text())
        children = set(CHILD.findall(text))
        refs = []
        for m in USE.finditer(text):
            paths = expand(m.group(2))
            reexport = m.group(1) and all(
                p.split("::")[0] in children
                or p.startswith(("self::", "super::"))
                or (p.startswith("crate::") and tuple(p.split("::")[1:-1]) != here)
                for p in paths
            )
            if not reexport:
                refs += paths
        body = USE.sub("", text)
        refs += PATH.findall(body)
        refs += [
            m.group(0)
            for child in children
            for m in re.finditer(rf"(?<![:\w]){child}(?:::[A-Za-z_]\w*)+", body)
        ]
        for ref in refs:
            target = absolute(ref, here, children)
            if not target:
                continue
            while target and tuple(target) not in files:
                target = target[:-1]
            target = tuple(target)
            name = ref.split("::")[-1]
            if target != here and (target in files) and target != ():
                edges[here].add((target, name))
            elif target == () and here != ():
                edges[here].add(((), name))
    return files, edges


def cycles(nodes, edges):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w, _ in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in nodes:
        if v not in index:
            visit(v)
    return out


def name(module: tuple) -> str:
    return "::".join(module) or "crate"


def self_test() -> int:
    """A crate with a circle through `super::` and a child path, and one whose parent
    only re-exports: the first must be caught, the second not."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        circle, facade = Path(tmp, "circle"), Path(tmp, "facade")
        for src in (circle, facade):
            (src / "a").mkdir(parents=True)
            (src / "lib.rs").write_text("pub mod a;\n")
            (src / "a" / "b.rs").write_text("use super::Shared; // crate::x in a comment\n")
        (circle / "a" / "mod.rs").write_text(
            'mod b;\npub struct Shared;\nfn f() { let s = "b::Y"; b::run(); }\n'
        )
        (facade / "a" / "mod.rs").write_text("mod b;\npub use b::run;\npub struct Shared;\n")
        caught = cycles(*(lambda f, e: (list(f), e))(*scan(circle)))
        missed = cycles(*(lambda f, e: (list(f), e))(*scan(facade)))
    ok = caught == [[("a",), ("a", "b")]] and missed == []
    print("self-test", "passed" if ok else f"FAILED: {caught} / {missed}")
    return 0 if ok else 1


def main(argv):
    if "--self-test" in argv:
        return self_test()
    show = "--edges" in argv
    roots = [a for a in argv if not a.startswith("--")]
    if not roots:
        roots = sorted(str(p.parent) for p in Path(".").glob("*/src/lib.rs"))
    found = False
    for root in roots:
        src = Path(root)
        files, edges = scan(src)
        if show:
            for here in sorted(edges):
                for target, what in sorted(edges[here]):
                    print(f"{root}: {name(here)} -> {name(target)} ({what})")
        for comp in cycles(list(files), edges):
            found = True
            members = set(comp)
            print(f"{root}: modules in a circle: {', '.join(name(m) for m in comp)}")
            for here in comp:
                ties = defaultdict(set)
                for target, what in edges[here]:
                    if target in members:
                        ties[target].add(what)
                for target, names in sorted(ties.items()):
                    print(f"  {name(here)} -> {name(target)}: {', '.join(sorted(names))}")
    if not found:
        print(f"no import circles in {', '.join(roots)}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
