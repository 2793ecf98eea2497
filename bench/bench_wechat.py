"""WeChat webhook throughput: the real server (`bot.py wechat`, safe mode, fresh SQLite store)
in one process, the load generator (bench/wechat_load.py: 64 connections, signed and
encrypted text questions from distinct users, plus a stand-in WeChat API for the
customer-service parts of long answers) in another, all on 127.0.0.1.

Targets: ≥ 1,000 messages/s, p99 ≤ 50 ms, no errors.
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


def run() -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        api_port = free_port()
        env = os.environ | CONFIG | {"DATABASE_URL": f"sqlite:///{tmp}/bench.db", "PYTHONUNBUFFERED": "1",
                                     "WECHAT_API_BASE_URL": f"http://127.0.0.1:{api_port}/cgi-bin/"}
        server, base = start_server(env, Path(tmp) / "server.log")
        try:
            load = subprocess.run([sys.executable, "-m", "bench.wechat_load", f"{base}/wechat",
                                   "--seconds", str(SECONDS), "--connections", str(CONNECTIONS), "--api-port", str(api_port)],
                                  cwd=ROOT, env=env, capture_output=True, text=True, timeout=SECONDS + 120, check=True)
            metrics = urllib.request.urlopen(f"{base}/metrics", timeout=10).read().decode()
        finally:
            server.terminate()
            server.wait(timeout=30)
    result = json.loads(load.stdout.strip().splitlines()[-1])
    server_errors = sum(int(float(v)) for v in re.findall(r'^fanpin_errors_total\{channel="wechat"\} (\S+)$', metrics, re.M))
    rate, p50, p99, errors = result["rate"], result["p50_ms"], result["p99_ms"], result["errors"] + server_errors

    def verdict(ok: bool) -> str:
        return "ok" if ok else "missed"

    rows = [
        ("messages/s", f"{rate:.0f} (target ≥ 1000: {verdict(rate >= 1000)})"),
        ("latency p50", f"{p50:.1f} ms"),
        ("latency p99", f"{p99:.1f} ms (target ≤ 50 ms: {verdict(p99 <= 50)})"),
        ("errors", f"{errors} of {result['messages']} (target 0: {verdict(errors == 0)})"),
        ("customer-service parts", str(result["service_messages"])),
    ]
    if result["first_error"]:
        rows.append(("first error", result["first_error"]))
    return rows


if __name__ == "__main__":
    for label, figure in run():
        print(f"{label}: {figure}")
