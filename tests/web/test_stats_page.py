"""统计 page: counts per stage, village, risk type, overdue, median days, each with an SVG chart; scoped."""

from __future__ import annotations

import asyncio

from channels.web.stats_page import median_of_counted
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


def test_the_median_of_counted_step_times() -> None:
    assert median_of_counted([(1.0, 2), (6.0, 1)]) == 1.0  # 1, 1, 6
    assert median_of_counted([(4.0, 1), (1.0, 1)]) == 2.5  # 1, 4: the mean of the middle two
    assert median_of_counted([(2.0, 3)]) == 2.0
