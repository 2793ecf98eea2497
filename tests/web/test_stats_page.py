"""统计 page: counts per stage, village, risk type, overdue, median days, each with an SVG chart; scoped."""

from __future__ import annotations

import asyncio

from tests.web.conftest import overdue_audit, signed_in


def test_stats_counts_and_charts_in_scope(site) -> None:
    async def scenario() -> None:
        overdue_audit(site)
        site.submit("boluo", name="王五", village="某村", region="boluo")
        async with signed_in(site, "township") as staff:
            status, page = await staff.get("/console/stats")
        assert status == 200
        assert "共1件，超期1件" in page and "<svg" in page and "<script" not in page
        assert "某村" not in page and "金墩村" in page
        assert "<td>走访排查完成</td><td>1.0</td>" in page  # median days per step, from the audit log

    asyncio.run(scenario())
