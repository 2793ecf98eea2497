"""WeChat webhook throughput: the real server (`bot.py wechat`, safe mode, a fresh SQLite
store) as one process and as two processes on one SQLite file, started as docs/scaling.md
starts them; the load generator (bench/wechat_load.py: 64 connections, signed and encrypted
text questions from distinct users, plus a stand-in WeChat API for the customer-service
parts of long answers) in another process, all on 127.0.0.1. With two servers the generator
sends each user to one of them by a hash of the openid, as nginx's `hash $arg_openid` does.

The headline figures send at least 1,000 distinct questions (bench/wechat_load.py `varied`), so
nearly every message is understood afresh; the same run with 8 repeated questions (mostly
understanding-cache hits) is shown beside them, as the figure of earlier reports.

Targets (the two-process run with varied questions, which uses both cores of the machine):
≥ 1,000 messages/s, p99 ≤ 50 ms, no errors.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SECONDS = 10
CONNECTIONS = 64
CONFIG = {"WECHAT_TOKEN": "bench-token", "WECHAT_APP_ID": "wxbench0000000000", "WECHAT_APP_SECRET": "bench-secret", "WECHAT_AES_KEY": "B" * 43}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Starts `bot.py wechat` on a free port (its output to `log`) and waits for /healthz."""
    with log.open("wb") as out:
        server = subprocess.Popen([sys.executable, "bot.py", "wechat", "--host", "127.0.0.1", "--port", "0"],
                                  cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while not (found := re.search(r"http://127\.0\.0\.1:\d+", log.read_text(encoding="utf-8", errors="replace"))):
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise RuntimeError(f"the server did not start: {log.read_text(encoding='utf-8', errors='replace')[-2000:]}")
        time.sleep(0.1)
    base = found.group(0)
    urllib.request.urlopen(f"{base}/healthz", timeout=10).read()
    return server, base


def measure(processes: int, questions: str = "varied") -> dict[str, Any]:
    """One load run against `processes` servers sharing one fresh SQLite file; the server-side
    error count from /metrics is added to the generator's."""
    with tempfile.TemporaryDirectory() as tmp:
        api_port = free_port()
        env = os.environ | CONFIG | {"DATABASE_URL": f"sqlite:///{tmp}/bench.db", "PYTHONUNBUFFERED": "1",
                                     "WECHAT_API_BASE_URL": f"http://127.0.0.1:{api_port}/cgi-bin/"}
        servers: list[tuple[subprocess.Popen[bytes], str]] = []
        try:
            for n in range(processes):
                servers.append(start_server(env, Path(tmp) / f"server{n}.log"))
            load = subprocess.run([sys.executable, "-m", "bench.wechat_load", *(f"{base}/wechat" for _, base in servers),
                                   "--seconds", str(SECONDS), "--connections", str(CONNECTIONS), "--api-port", str(api_port), "--uvloop",
                                   "--questions", questions],
                                  cwd=ROOT, env=env, capture_output=True, text=True, timeout=SECONDS + 180, check=True)
            metrics = "".join(urllib.request.urlopen(f"{base}/metrics", timeout=10).read().decode() for _, base in servers)
        finally:
            for server, _ in servers:
                server.terminate()
                server.wait(timeout=30)
    result = json.loads(load.stdout.strip().splitlines()[-1])
    result["errors"] += sum(int(float(v)) for v in re.findall(r'^fanpin_errors_total\{channel="wechat"\} (\S+)$', metrics, re.M))
    return result


def run() -> list[tuple[str, str]]:
    def verdict(ok: bool) -> str:
        return "ok" if ok else "missed"

    rows = []
    for processes, questions in ((1, "varied"), (2, "varied"), (2, "fixed")):
        r = measure(processes, questions)
        rate, p99, errors = r["rate"], r["p99_ms"], r["errors"]
        name = ("1 process" if processes == 1 else f"{processes} processes") + f", {r['distinct_questions']} distinct questions"
        if questions == "fixed":
            rows += [(f"{name} (cached): messages/s", f"{rate:.0f}"), (f"{name} (cached): latency p50 / p99", f"{r['p50_ms']:.1f} / {p99:.1f} ms")]
            continue
        rows += [
            (f"{name}: messages/s", f"{rate:.0f}" + (f" (target ≥ 1000: {verdict(rate >= 1000)})" if processes == 2 else "")),
            (f"{name}: latency p50 / p99", f"{r['p50_ms']:.1f} / {p99:.1f} ms" + (f" (target p99 ≤ 50 ms: {verdict(p99 <= 50)})" if processes == 2 else "")),
            (f"{name}: errors", f"{errors} of {r['messages']}" + (f" (target 0: {verdict(errors == 0)})" if processes == 2 else "")),
            (f"{name}: load generator CPU", f"{r['generator_cpu_ms_per_message']:.3f} ms a message"),
        ]
        if r["first_error"]:
            rows.append((f"{name}: first error", r["first_error"]))
    return rows


if __name__ == "__main__":
    for label, figure in run():
        print(f"{label}: {figure}")
