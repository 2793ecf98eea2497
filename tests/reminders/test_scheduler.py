"""The dispatcher: quiet hours, restarts, catch-up caps, retries, and the pushers."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from collections import Counter
from collections.abc import Iterator

import pytest

from app.cli import main
from channels.push import AdapterPusher
from conversation.messages import Reply
from foundation.clock import at
from policy_kb.loader import default_kb
from reminders.pusher import ConsolePusher
from reminders.scheduler import MAX_ATTEMPTS, Scheduler, not_at_night, quiet
from storage.open import open_store
from storage.sqlstore import SqlStore
from tests.kit.clock import TestClock
from tests.kit.world import RecordingPusher

DAY = dt.date(2026, 12, 3)
HOUR = 3600.0


class Killed(BaseException):
    """The process died here."""


class DyingPusher(RecordingPusher):
    """The process dies during its `dies_at`-th push; a dead process pushes nothing more."""

    def __init__(self, dies_at: int) -> None:
        super().__init__()
        self.dies_at = dies_at
        self.calls = 0

    async def send(self, channel: str, user: str, texts: list[str]) -> bool:
        self.calls += 1
        if self.calls >= self.dies_at:
            raise Killed()
        return await super().send(channel, user, texts)


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    with open_store(store_url) as opened:
        yield opened


def scheduler(store: SqlStore, pusher, **options) -> Scheduler:
    return Scheduler(store, default_kb(), pusher, plan_every=0, **options)


def queue(store: SqlStore, count: int, due: float, kind: str = "status") -> None:
    for i in range(count):
        store.schedule_reminder("wechat", f"u{i % 7}", kind, {"texts": [f"提醒{i}"]}, due, dedupe_key=f"t:{i}")


def killed_mid_run(store: SqlStore, pusher: DyingPusher, now: float) -> None:
    """300 reminders due, and a process that dies in the middle of pushing them."""
    queue(store, 300, now)
    with pytest.raises(Killed):
        scheduler(store, pusher, batch=50).run_once(now)


def sent_texts(pusher: RecordingPusher) -> Counter[str]:
    return Counter(text for texts in pusher.got.values() for text in texts)


def test_quiet_hours() -> None:
    assert not quiet(at(DAY, 20, 59)) and quiet(at(DAY, 21)) and quiet(at(DAY, 7, 59)) and not quiet(at(DAY, 8))
    next_morning = at(DAY + dt.timedelta(days=1), 8)
    assert not_at_night(at(DAY, 22, 30)) == next_morning
    assert not_at_night(at(DAY + dt.timedelta(days=1), 3)) == next_morning
    assert not_at_night(at(DAY, 12)) == at(DAY, 12)


def test_nothing_is_pushed_at_night(store: SqlStore) -> None:
    queue(store, 3, at(DAY, 22))
    pusher = RecordingPusher()
    run = scheduler(store, pusher)
    assert run.run_once(at(DAY, 22, 5)).sent == 0
    assert run.run_once(at(DAY + dt.timedelta(days=1), 7, 59)).sent == 0
    assert run.run_once(at(DAY + dt.timedelta(days=1), 8)).sent == 3


def test_a_killed_dispatcher_sends_none_twice(store_url: str) -> None:
    """Killed in the middle of a push, with other pushes in flight: those are marked, the dead one is never sent again.

    It may have reached the user (the process died before the channel answered): with no way to know,
    it is settled 'unknown' rather than risk a second copy. What the dead process had claimed but not
    begun goes out from the next process once the claim's 30 s lease is over.
    """
    now = at(DAY, 10)
    with open_store(store_url) as store:
        dying = DyingPusher(dies_at=120)
        killed_mid_run(store, dying, now)
    with open_store(store_url) as store:  # the next process, once the dead one's claims have expired
        again = RecordingPusher()
        early = scheduler(store, again, batch=50).run_once(now + 29)  # what it had not claimed, or gave back as it died
        late = scheduler(store, again, batch=50).run_once(now + 31)  # its claims not begun, once their lease is over
        counts = store.reminder_counts()
    both = sent_texts(dying) + sent_texts(again)
    lost = set(f"提醒{i}" for i in range(300)) - set(both)  # the pushes it was dying in (raised Killed)
    assert set(both.values()) == {1} and 1 <= len(lost) <= 8
    assert early.sent + late.sent == 300 - len(lost) - sum(sent_texts(dying).values()) and late.sent > 0
    assert counts == {"sent": 300 - len(lost), "unknown": len(lost)}


def test_an_idempotent_receiver_gets_the_dead_ones_push_again_with_its_key(store_url: str) -> None:
    """A channel that drops a repeated key: the push the dead process was in is sent again, under the same key."""
    class Receiver(DyingPusher):
        idempotent = True

        def __init__(self, dies_at: int) -> None:
            super().__init__(dies_at)
            self.keys: list[str] = []

        async def send(self, channel: str, user: str, texts: list[str], key: str) -> str:
            self.keys.append(key)
            await super().send(channel, user, texts)
            return f"msg-{texts[0]}"

    now = at(DAY, 10)
    with open_store(store_url) as store:
        dying = Receiver(dies_at=120)
        killed_mid_run(store, dying, now)
        dead_key = dying.keys[-1]
        again = Receiver(dies_at=10**9)
        scheduler(store, again, batch=50).run_once(now + 31)
        assert dead_key in again.keys  # resent with the key the receiver knows
        assert store.reminder_counts() == {"sent": 300}
        assert store.reminder_delivery(int(dead_key.split(":")[1]))["message_id"].startswith("msg-提醒")
    assert sent_texts(dying) + sent_texts(again) == Counter(f"提醒{i}" for i in range(300))


def test_quiet_hours_are_checked_before_each_push(store_url: str) -> None:
    """A dispatch that starts at 20:59:58 with 300 due: each push reads the clock; none goes out at 21:00 or later."""
    start = at(DAY, 20, 59) + 58

    class Slow(RecordingPusher):
        """Each push takes 0.1 s of the test's clock, and notes when it went out."""

        def __init__(self) -> None:
            super().__init__()
            self.times: list[float] = []

        async def send(self, channel: str, user: str, texts: list[str]) -> bool:
            self.times.append(clock.now())
            clock.advance(0.1)
            return await super().send(channel, user, texts)

    clock = TestClock(start)
    with open_store(store_url) as store:
        queue(store, 300, start - 60)
        pusher = Slow()
        report = scheduler(store, pusher, clock=clock).run_once(start)
        assert pusher.times and max(pusher.times) < at(DAY, 21)
        assert report.sent == len(pusher.times) < 100 and report.held == 100 - report.sent  # the rest of its batch went back
        assert scheduler(store, pusher, clock=clock).run_once(clock.now()).sent == 0
        clock.at = at(DAY + dt.timedelta(days=1), 8)
        morning = scheduler(store, pusher, clock=clock).run_once(clock.at)
        assert morning.sent == 300 - report.sent
    assert sent_texts(pusher) == Counter(f"提醒{i}" for i in range(300))


def test_a_stopped_dispatcher_is_continued_by_the_next_one(store_url: str) -> None:
    now = at(DAY, 10)
    pushers = [RecordingPusher(), RecordingPusher()]
    with open_store(store_url) as store:
        queue(store, 250, now)
        assert scheduler(store, pushers[0], max_per_run=100).run_once(now).capped
    with open_store(store_url) as store:
        assert scheduler(store, pushers[1]).run_once(now).sent == 150
    assert sent_texts(pushers[0]) + sent_texts(pushers[1]) == Counter(f"提醒{i}" for i in range(250))


def test_catch_up_sends_only_the_latest_missed_occurrence(store: SqlStore) -> None:
    store.set_role("wechat", "u1", "villager")
    store.upsert_subscription("wechat", "u1", ["健康", "医保"])
    store.save_profile("wechat", "u1", {"household": {"members": [{"relation": "户主", "age": 60, "chronic_diseases": ["糖尿病"]}]}})
    pusher = RecordingPusher()
    report = scheduler(store, pusher).run_once(at(dt.date(2026, 11, 20), 10))  # down since January: four follow-ups missed
    assert (report.planned, report.sent) == (1, 1)
    [text] = pusher.got[("wechat", "u1")]
    assert "季度" in text and "退订" in text


def test_at_most_max_per_run(store: SqlStore) -> None:
    now = at(DAY, 10)
    queue(store, 250, now)
    run = scheduler(store, RecordingPusher(), max_per_run=100, batch=30)
    reports = [run.run_once(now) for _ in range(4)]
    assert [(r.sent, r.capped) for r in reports] == [(100, True), (100, True), (50, False), (0, False)]


def test_stale_and_unsubscribed_reminders_are_dropped(store: SqlStore) -> None:
    now = at(DAY, 10)
    store.upsert_subscription("wechat", "fresh", ["健康"])
    for user, expires in (("fresh", now + HOUR), ("stale", now - 1), ("unsubscribed", now + HOUR)):
        payload = {"texts": [user], "rule": "chronic_followup", "topic": "健康", "expires_at": expires}
        store.schedule_reminder("wechat", user, "rule", payload, now - HOUR, dedupe_key=user)
    pusher = RecordingPusher()
    report = scheduler(store, pusher).run_once(now)
    assert (report.sent, report.dropped) == (1, 2) and list(pusher.got) == [("wechat", "fresh")]


def test_unreachable_users_are_retried_later_then_given_up(store: SqlStore) -> None:
    now = at(DAY, 10)
    queue(store, 1, now)
    pusher = RecordingPusher()
    pusher.unreachable.add(("wechat", "u0"))
    run = scheduler(store, pusher)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        report = run.run_once(now)
        assert (report.retried, report.dropped) == ((1, 0) if attempt < MAX_ATTEMPTS else (0, 1))
        assert run.run_once(now).retried == 0  # not again before the back-off
        now = not_at_night(now + HOUR * attempt)
    pusher.unreachable.clear()
    assert run.run_once(now + 30 * 24 * HOUR).sent == 0


def test_a_failing_channel_is_retried(store: SqlStore) -> None:
    class Broken(RecordingPusher):
        async def send(self, channel: str, user: str, texts: list[str]) -> bool:
            raise ConnectionError("api down")

    now = at(DAY, 10)
    queue(store, 2, now)
    assert scheduler(store, Broken()).run_once(now).retried == 2
    assert scheduler(store, RecordingPusher()).run_once(now + HOUR).sent == 2


def test_pushers_route_by_channel() -> None:
    class Adapter:
        def __init__(self) -> None:
            self.got: list[tuple[str, list[Reply]]] = []

        async def send_push(self, user: str, replies: list[Reply]) -> bool:
            self.got.append((user, replies))
            return True

    wechat, out = Adapter(), io.StringIO()
    pusher = AdapterPusher({"wechat": wechat})
    assert asyncio.run(pusher.send("wechat", "o1", ["你好"])) and wechat.got == [("o1", [Reply("你好")])]
    assert not asyncio.run(pusher.send("telegram", "42", ["你好"]))
    assert asyncio.run(AdapterPusher({}, ConsolePusher(out)).send("console", "me", ["提醒一下"]))
    assert "console:me" in out.getvalue() and "提醒一下" in out.getvalue()


def test_reminders_run_once_command(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with open_store(store_url) as store:
        queue(store, 2, 0)
    assert main(["reminders", "run", "--once", "--print", "--db", store_url]) == 0
    out = capsys.readouterr().out
    assert "计划 0 条" in out and ("发送 2 条" in out or quiet(store.clock()))
