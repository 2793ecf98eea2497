"""The conversation through its full path: understand → dialog → eligibility → render → save.

- per message: every question of tests/data/questions.yaml sent by its own user to an
  Assistant over a real SQLite file (median and p99);
- start-up to the first reply: `bot.py console --jsonl` in a new process, timed from launch
  to the first output line; and its peak resident memory after answering the whole set;
- understanding: top-1 accuracy on the question set, and the plain-ratio baseline.
Targets: p99 ≤ 5 ms per message, start-up ≤ 1.5 s, memory ≤ 200 MB, accuracy ≥ 95%.
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


def per_message() -> list[float]:
    from conversation.assistant import Assistant
    from conversation.messages import ChannelLimits, Incoming
    from storage.open import open_store
    from understanding.evaluation import load_questions

    questions = load_questions(QUESTIONS)
    with tempfile.TemporaryDirectory() as folder:
        assistant = Assistant(open_store(str(Path(folder) / "bench.db")), today=dt.date(2026, 11, 22))
        limits = ChannelLimits(max_chars=2000)
        for q in questions[:20]:  # warm up caches (retriever index, plans)
            assistant.handle(Incoming("bench", "warm", q.text), limits)
        times = []
        for round_ in range(3):
            assistant._understand_cached.cache_clear()  # measure the work, not the cache
            for i, q in enumerate(questions):
                started = time.perf_counter()
                assistant.handle(Incoming("bench", f"u{round_}-{i}", q.text), limits)
                times.append((time.perf_counter() - started) * 1000)
        return times


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
    from conversation.assistant import Assistant
    from storage.open import open_store
    from understanding.evaluation import evaluate, load_questions

    with tempfile.TemporaryDirectory() as folder:
        assistant = Assistant(open_store(str(Path(folder) / "a.db")), today=dt.date(2026, 11, 22))
        report = evaluate(assistant, load_questions(QUESTIONS))
    return report.accuracy, report.baseline, report.total


def run() -> list[tuple[str, str]]:
    times = per_message()
    starts, peak = start_up_and_memory()
    method, baseline, total = accuracy()
    p99 = percentile(times, 0.99)
    start = statistics.median(starts)
    return [
        (f"per message, full path (median of {len(times)})", f"{statistics.median(times):.2f} ms"),
        ("per message, p99", f"{p99:.2f} ms {target(p99, 5)}"),
        (f"start-up to first reply (median of {STARTS})", f"{start:.2f} s {target(start, 1.5, 's')}"),
        ("peak resident memory after the question set", f"{peak:.0f} MB {target(peak, 200, 'MB')}"),
        (f"top-1 accuracy on {total} questions", f"{method:.1%} {target(method * 100, 95, '%', higher_is_better=True)}"),
        ("baseline: plain fuzz.ratio over examples", f"{baseline:.1%} (gain {100 * (method - baseline):+.1f} points)"),
    ]
