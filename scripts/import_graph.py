"""The import graph of the house, from the source (ast), and whether every arrow points down.

    python scripts/import_graph.py          # the package graph, then any violation or cycle
    python scripts/import_graph.py --dot    # the package graph as Graphviz dot

Layers, lowest first; a package may import only packages of lower layers (and itself):

    foundation ← storage, policy_kb ← eligibility ← workflow ← reminders ← understanding
               ← conversation ← channels ← app

Two packages of one layer (storage and policy_kb) may not import each other. Inside a package,
modules may import each other but never in a circle. Imports under `if TYPE_CHECKING:` are
counted too: a reader follows them like any other. Exits 1 when something is wrong.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS: list[tuple[str, ...]] = [
    ("foundation",),
    ("storage", "policy_kb"),
    ("eligibility",),
    ("workflow",),
    ("reminders",),
    ("understanding",),
    ("conversation",),
    ("channels",),
    ("app",),
]
LAYER = {package: level for level, packages in enumerate(LAYERS) for package in packages}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, module: str) -> set[str]:
    """The project modules `path` imports (absolute and relative imports, resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] in LAYER}


def collect() -> dict[str, set[str]]:
    modules: dict[str, Path] = {}
    for package in LAYER:
        for path in (ROOT / package).rglob("*.py"):
            modules[module_name(path)] = path
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        graph[module] = {target for target in imports_of(path, module) if target in modules and target != module}
    return graph


def violations(graph: dict[str, set[str]]) -> list[str]:
    bad = []
    for module, targets in sorted(graph.items()):
        source = module.split(".")[0]
        for target in sorted(targets):
            dest = target.split(".")[0]
            if dest != source and LAYER[dest] >= LAYER[source]:
                bad.append(f"{module} → {target}: {source} (layer {LAYER[source]}) may not import {dest} (layer {LAYER[dest]})")
    return bad


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def package_edges(graph: dict[str, set[str]]) -> dict[tuple[str, str], int]:
    edges: dict[tuple[str, str], int] = defaultdict(int)
    for module, targets in graph.items():
        for target in targets:
            a, b = module.split(".")[0], target.split(".")[0]
            if a != b:
                edges[a, b] += 1
    return dict(edges)


def main(argv: list[str]) -> int:
    graph = collect()
    edges = package_edges(graph)
    if "--dot" in argv:
        print("digraph imports {\n  rankdir=BT;")
        for (a, b), n in sorted(edges.items()):
            print(f'  "{a}" -> "{b}" [label="{n}"];')
        print("}")
        return 0
    print("包之间的导入（模块数）：")
    for package in sorted(LAYER, key=lambda p: (LAYER[p], p)):
        targets = sorted((b for a, b in edges if a == package), key=lambda b: (LAYER[b], b))
        print(f"  {package:<14} → {', '.join(f'{b}({edges[package, b]})' for b in targets) or '—'}")
    bad, circles = violations(graph), cycles(graph)
    for line in bad:
        print(f"向上的导入：{line}")
    for circle in circles:
        print(f"循环导入：{' ↔ '.join(circle)}")
    if not bad and not circles:
        print(f"{len(graph)} 个模块，所有导入都指向下层，没有循环。")
    return 1 if bad or circles else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
