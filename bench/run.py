"""Runs every benchmark module in this folder and prints its figures.

    .venv/bin/python bench/run.py            # all benchmarks
    .venv/bin/python bench/run.py kb         # only bench_kb.py

A benchmark is a sibling module named `bench_<name>.py` with a function
`run() -> list[tuple[str, str]]` returning (label, formatted figure) pairs; a figure that has a
target says so itself, e.g. "0.42 ms (target ≤ 0.5 ms: ok)". Adding a file is enough: this
script finds it.
"""

from __future__ import annotations

import importlib
import platform
import sys
import time
import unicodedata
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
for path in (str(ROOT), str(BENCH_DIR)):
    if path not in sys.path:
        sys.path.insert(0, path)


def display_width(text: str) -> int:
    """Columns a string takes in a terminal (Chinese characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def discover(only: list[str]) -> list[str]:
    names = sorted(p.stem for p in BENCH_DIR.glob("bench_*.py"))
    if only:
        wanted = {n if n.startswith("bench_") else f"bench_{n}" for n in only}
        unknown = wanted - set(names)
        if unknown:
            raise SystemExit(f"unknown benchmark(s): {', '.join(sorted(unknown))}; available: {', '.join(names)}")
        names = [n for n in names if n in wanted]
    return names


def main(argv: list[str]) -> int:
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8")
    print(f"Python {platform.python_version()} on {platform.machine()} ({platform.system()})")
    failed = 0
    for name in discover(argv):
        module = importlib.import_module(name)
        started = time.perf_counter()
        try:
            rows = module.run()
        except Exception as exc:  # one broken benchmark should not hide the others
            failed += 1
            print(f"\n[{name}] failed: {exc!r}")
            continue
        width = max((display_width(label) for label, _ in rows), default=0)
        print(f"\n[{name}] ({time.perf_counter() - started:.1f} s)")
        for label, figure in rows:
            print(f"  {label}{' ' * (width - display_width(label))}  {figure}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
