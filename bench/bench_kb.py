"""Knowledge-base load time and entitlement evaluation time.

- load: `load_kb()` in a fresh Python process each time (so nothing is cached), median of
  LOAD_RUNS; the imports are timed separately. Also in one process with the fact-model cache
  cleared before each load.
- entitlements: `Engine.evaluate` for the six-member example household (examples/household.yaml)
  in its region 博罗县, after a warm-up; median and p99 over EVAL_RUNS evaluations.
"""

from __future__ import annotations

import datetime as dt
import statistics
import subprocess
import sys
import time
from pathlib import Path

from figures import percentile, target

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

LOAD_RUNS = 21
WARM_LOADS = 15
WARMUP = 500
EVAL_RUNS = 5000
LOAD_TARGET_MS = 100.0
EVAL_TARGET_MS = 0.5
HOUSEHOLD = ROOT / "examples" / "household.yaml"
REGION = "博罗县"
DATE = dt.date(2024, 9, 1)  # inside the 博罗 document's validity, after the 2024 education amounts

_CHILD = """
import time
t0 = time.perf_counter()
from policy_kb.loader import load_kb
t1 = time.perf_counter()
load_kb()
t2 = time.perf_counter()
print((t1 - t0) * 1000, (t2 - t1) * 1000)
"""


def _target(value: float, limit: float) -> str:
    return target(value, limit)


def fresh_process_loads(runs: int = LOAD_RUNS) -> tuple[list[float], list[float]]:
    imports, loads = [], []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", _CHILD], cwd=ROOT, capture_output=True, text=True, check=True).stdout
        imported, loaded = map(float, out.split())
        imports.append(imported)
        loads.append(loaded)
    return imports, loads


def in_process_loads(runs: int = WARM_LOADS) -> list[float]:
    from policy_kb.facts import fact_model
    from policy_kb.loader import load_kb

    times = []
    for _ in range(runs):
        fact_model.cache_clear()
        started = time.perf_counter()
        load_kb()
        times.append((time.perf_counter() - started) * 1000)
    return times


def evaluation_times(runs: int = EVAL_RUNS, warmup: int = WARMUP) -> tuple[list[float], int, int]:
    from eligibility.engine import Engine
    from eligibility.household import load_household
    from policy_kb.loader import load_kb

    engine = Engine(load_kb())
    household = load_household(HOUSEHOLD)
    assert household.members is not None and len(household.members) == 6
    for _ in range(warmup):
        result = engine.evaluate(household, REGION, DATE)
    clock = time.perf_counter_ns
    times = []
    for _ in range(runs):
        started = clock()
        engine.evaluate(household, REGION, DATE)
        times.append((clock() - started) / 1e6)
    return times, len(result.entitlements), len(result.undecided)


def run() -> list[tuple[str, str]]:
    imports, loads = fresh_process_loads()
    warm = in_process_loads()
    evals, entitled, undecided = evaluation_times()
    load_median = statistics.median(loads)
    eval_median = statistics.median(evals)
    eval_p99 = percentile(evals, 0.99)
    return [
        (f"KB load, fresh process (median of {len(loads)})", f"{load_median:.1f} ms {_target(load_median, LOAD_TARGET_MS)}"
         f"  [min {min(loads):.1f}, max {max(loads):.1f}]"),
        ("  imports before the load (median)", f"{statistics.median(imports):.1f} ms (not counted)"),
        (f"KB load, same process, caches cleared (median of {len(warm)})", f"{statistics.median(warm):.1f} ms"),
        (f"entitlements, 6-member household, {REGION} {DATE} (median of {len(evals)})",
         f"{eval_median:.3f} ms {_target(eval_median, EVAL_TARGET_MS)}"),
        ("  p99", f"{eval_p99:.3f} ms"),
        ("  result size", f"{entitled} entitlements, {undecided} undecided"),
    ]


if __name__ == "__main__":
    for label, figure in run():
        print(f"{label}: {figure}")
