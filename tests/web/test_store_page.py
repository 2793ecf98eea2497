"""Store.page_applications, the console's 待办 query: filtered, ordered and paged in the database,
on SQLite and PostgreSQL alike."""

from __future__ import annotations

import datetime as dt

from foundation.clock import at, end_of
from storage.open import open_store

DAY = dt.date(2026, 11, 23)


def test_page_applications_filters_orders_and_counts(store_url: str) -> None:
    with open_store(store_url) as store:
        store.clock = lambda: at(DAY, 10)
        for i in range(12):
            deadline = end_of(DAY + dt.timedelta(days=i - 4)) if i % 3 else None
            store.submit_application(f"k{i}", {"risk": "因病" if i % 2 else "因学"}, channel="wechat", user=f"u{i}", village="金墩村" if i < 8 else "上村",
                                     region="heqing" if i != 11 else "boluo", state="township_audit", deadline=deadline)
        store.submit_application("other", {"risk": "因病"}, channel="wechat", user="x", village="金墩村", region="heqing", state="submitted")
        apps, total, late = store.page_applications(states=["township_audit"], region="heqing", now=at(DAY, 10), limit=4, offset=0)
        assert total == 11 and late == 2 and len(apps) == 4
        deadlines = [a.deadline for a in apps]
        assert deadlines == sorted(deadlines) and deadlines[0] < at(DAY, 10)  # overdue first
        everything = store.page_applications(states=["township_audit"], region="heqing", now=at(DAY, 10), limit=50)[0]
        assert [a.deadline is None for a in everything] == sorted(a.deadline is None for a in everything)  # no deadline: last
        assert store.page_applications(states=["township_audit"], region="heqing", villages=["上村"], limit=50)[1] == 3
        assert store.page_applications(states=["township_audit"], region="heqing", risk="因学", limit=50)[1] == 6
        assert store.page_applications(states=["township_audit"], region="heqing", villages=[], limit=50)[1] == 0
        second = store.page_applications(states=["township_audit"], region="heqing", now=at(DAY, 10), limit=4, offset=4)[0]
        assert not {a.number for a in second} & {a.number for a in apps}
