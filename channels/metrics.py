"""Counters and a latency histogram per channel, exposed in Prometheus text format.

Written by hand so the server needs no client library. Updated from the event loop and
from worker threads, hence the lock.
"""

from __future__ import annotations

import threading
from collections import defaultdict

COUNTERS = {
    "messages": "Updates received from users.",
    "replies": "Reply parts delivered to users.",
    "errors": "Updates that failed: the core raised, delivery failed, or a request got a 500.",
    "duplicates": "Retried updates dropped without running the conversation again.",
    "refused": "Requests refused before anything was stored (forged, stale, malformed, too big, not for us), by reason.",
    "console_refused": "Web console requests refused (used or expired login link, CSRF, out of scope, not the role's step), by reason.",
}
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
PREFIX = "fanpin"


class Metrics:
    def __init__(self) -> None:
        self._counts: dict[tuple[str, str, str], int] = defaultdict(int)  # (name, channel, reason)
        self._buckets: dict[str, list[int]] = {}
        self._sums: dict[str, float] = defaultdict(float)
        self._lock = threading.Lock()

    def inc(self, name: str, channel: str, amount: int = 1, reason: str = "") -> None:
        """`reason` labels the count (refusals: why); counts without one have no such label."""
        if name not in COUNTERS:
            raise KeyError(name)
        with self._lock:
            self._counts[name, channel, reason] += amount

    def count(self, name: str, channel: str, reason: str | None = None) -> int:
        """The count for one reason, or (None) for all reasons together."""
        with self._lock:
            return sum(v for (n, c, r), v in self._counts.items() if n == name and c == channel and reason in (None, r))

    def observe(self, channel: str, seconds: float) -> None:
        """Records one reply latency; buckets are cumulative only when rendered."""
        index = next((i for i, bound in enumerate(LATENCY_BUCKETS) if seconds <= bound), len(LATENCY_BUCKETS))
        with self._lock:
            self._buckets.setdefault(channel, [0] * (len(LATENCY_BUCKETS) + 1))[index] += 1
            self._sums[channel] += seconds

    def render(self) -> str:
        with self._lock:
            counts, buckets_by_channel, sums = dict(self._counts), {c: list(b) for c, b in self._buckets.items()}, dict(self._sums)
        lines: list[str] = []
        for name, help_text in COUNTERS.items():
            metric = f"{PREFIX}_{name}_total"
            lines += [f"# HELP {metric} {help_text}", f"# TYPE {metric} counter"]
            for (counted, channel, reason), value in sorted(counts.items()):
                if counted == name:
                    labels = f'channel="{channel}"' + (f',reason="{reason}"' if reason else "")
                    lines.append(f"{metric}{{{labels}}} {value}")
        metric = f"{PREFIX}_reply_latency_seconds"
        lines += [f"# HELP {metric} Time from receiving an update to having its replies.", f"# TYPE {metric} histogram"]
        for channel, buckets in sorted(buckets_by_channel.items()):
            running = 0
            for bound, hits in zip((*LATENCY_BUCKETS, "+Inf"), buckets, strict=True):
                running += hits
                lines.append(f'{metric}_bucket{{channel="{channel}",le="{bound}"}} {running}')
            lines.append(f'{metric}_sum{{channel="{channel}"}} {sums[channel]:.6f}')
            lines.append(f'{metric}_count{{channel="{channel}"}} {running}')
        return "\n".join(lines) + "\n"
