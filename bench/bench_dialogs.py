"""The conversation through its full path: understand → dialog → eligibility → render → save.

Every figure is set beside a floor measured in the same run, because the machines are noisy:
- per message: every question of tests/data/questions.yaml (and the held-out sets) sent by its
  own user to an Assistant over a real SQLite file, the understanding cache cleared, so each is a
  new question (median and p99);
- understanding a question, against its floor: `jieba.lcut` of the question plus
  `rapidfuzz.process.extractOne` over every example question of the knowledge base;
- start-up to the first reply: `bot.py console --jsonl` in a new process, timed from launch to
  the first output line, against its floor: a process that loads jieba with the project's own
  dictionary and rapidfuzz; and the console's peak resident memory after the whole set;
- understanding: top-1 accuracy on the question set, and the plain-ratio baseline.
Targets: understanding ≤ 3× its floor at p50, p99 ≤ 3 ms per message, start-up ≤ 1.5× its floor,
memory ≤ 200 MB, accuracy ≥ 95%.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from figures import percentile, target

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "tests" / "data" / "questions.yaml"
STARTS = 5


DAY = dt.date(2026, 11, 22)
FLOOR_SCRIPT = """
import glob, logging, os, jieba
jieba.setLogLevel(logging.WARNING)
jieba.set_dictionary(sorted(glob.glob(".cache/jieba-top*.txt"), key=os.path.getmtime)[-1])
jieba.dt.tmp_dir = ".cache"
jieba.initialize()
from rapidfuzz import fuzz, process
print("ready", flush=True)
"""


def questions() -> list[str]:
    """The tuning set and the held-out sets: varied questions, none repeated."""
    import yaml

    from understanding.evaluation import load_questions

    texts = [q.text for q in load_questions(QUESTIONS)]
    for path in sorted((ROOT / "tests" / "heldout").glob("*questions*.yaml")):
        texts += [str(case["q"]) for case in yaml.safe_load(path.read_text(encoding="utf-8")) or []]
    return list(dict.fromkeys(texts))


def per_message() -> tuple[list[float], list[float], list[float]]:
    """Full messages (ms), and understanding alone beside its floor (ms), on new questions."""
    import jieba
    from rapidfuzz import fuzz, process

    from app.wiring import assistant
    from conversation.messages import ChannelLimits, Incoming
    from storage.open import open_store
    from tests.kit.clock import TestClock

    texts = questions()
    with tempfile.TemporaryDirectory() as folder:
        core = assistant(open_store(str(Path(folder) / "bench.db")), clock=TestClock(today=DAY))
        understander = core.services.understander
        examples = [e for m in core.services.kb.all_measures() for e in m.examples]
        limits = ChannelLimits(max_chars=2000)
        for text in texts[:20]:  # warm up (plans, region statistics)
            core.handle(Incoming("bench", "warm", text), limits)
        times, understood, floor = [], [], []
        for round_ in range(3):
            understander.clear_cache()  # measure the work, not the cache
            for i, text in enumerate(texts):
                started = time.perf_counter()
                core.handle(Incoming("bench", f"u{round_}-{i}", text), limits)
                times.append((time.perf_counter() - started) * 1000)
            understander.clear_cache()
            for text in texts:
                started = time.perf_counter()
                jieba.lcut(text)
                process.extractOne(text, examples, scorer=fuzz.ratio)
                middle = time.perf_counter()
                understander.route(text, "base", DAY)
                floor.append((middle - started) * 1000)
                understood.append((time.perf_counter() - middle) * 1000)
        return times, understood, floor


def start_floor() -> list[float]:
    """Launch to ready of a process that loads jieba with the project's dictionary and rapidfuzz."""
    starts = []
    for _ in range(STARTS):
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", FLOOR_SCRIPT], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert proc.stdout
        proc.stdout.readline()
        starts.append(time.perf_counter() - started)
        proc.wait(timeout=30)
    return starts


def start_up_and_memory() -> tuple[list[float], float]:
    from understanding.evaluation import load_questions

    lines = [json.dumps({"user": f"u{i}", "text": q.text}, ensure_ascii=False) for i, q in enumerate(load_questions(QUESTIONS))]
    starts, peak = [], 0.0
    for _ in range(STARTS):
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            proc = subprocess.Popen([sys.executable, "bot.py", "console", "--jsonl", "--db", str(Path(folder) / "s.db")],
                                    cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8")
            assert proc.stdin and proc.stdout
            proc.stdin.write(lines[0] + "\n")
            proc.stdin.flush()
            proc.stdout.readline()
            starts.append(time.perf_counter() - started)
            for line in lines[1:]:
                proc.stdin.write(line + "\n")
                proc.stdin.flush()
                proc.stdout.readline()
            peak = max(peak, _peak_rss_mb(proc.pid))
            proc.stdin.close()
            proc.wait(timeout=30)
    return starts, peak


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def accuracy() -> tuple[float, float, int]:
    from eligibility.engine import Engine
    from policy_kb.loader import default_kb
    from understanding.evaluation import evaluate, load_questions
    from understanding.router import Understander

    kb = default_kb()
    report = evaluate(Understander(kb, Engine(kb)), load_questions(QUESTIONS), DAY)
    return report.accuracy, report.baseline, report.total


def run() -> list[tuple[str, str]]:
    times, understood, floor = per_message()
    floors = start_floor()
    starts, peak = start_up_and_memory()
    method, baseline, total = accuracy()
    p99 = percentile(times, 0.99)
    start, start_floor_s = statistics.median(starts), statistics.median(floors)
    read, read_floor = statistics.median(understood), statistics.median(floor)
    return [
        (f"per message, full path, new questions (median of {len(times)})", f"{statistics.median(times):.2f} ms"),
        ("per message, p99", f"{p99:.2f} ms {target(p99, 3)}"),
        ("understanding a new question (median)", f"{read:.3f} ms, p99 {percentile(understood, 0.99):.3f} ms"),
        ("  floor: jieba.lcut + extractOne over the examples", f"{read_floor:.3f} ms; ratio {read / read_floor:.1f}× {target(read / read_floor, 3, '×')}"),
        (f"start-up to first reply (median of {STARTS})", f"{start:.2f} s"),
        ("  floor: jieba with the project dictionary + rapidfuzz", f"{start_floor_s:.2f} s; ratio {start / start_floor_s:.1f}× "
                                                                 f"{target(start / start_floor_s, 1.5, '×')}"),
        ("peak resident memory after the question set", f"{peak:.0f} MB {target(peak, 200, 'MB')}"),
        (f"top-1 accuracy on {total} questions (tuning set)", f"{method:.1%} {target(method * 100, 95, '%', higher_is_better=True)}"),
        ("baseline: plain fuzz.ratio over examples", f"{baseline:.1%} (gain {100 * (method - baseline):+.1f} points)"),
    ]
