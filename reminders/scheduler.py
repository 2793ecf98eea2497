"""Plans due reminders into the store's queue and dispatches them: none lost, none twice, none at night.

Planning is idempotent: every reminder has a dedupe key (rule + user + period), so planning
again, in any number of processes, queues nothing twice. Only the latest occurrence of a rule is
planned, and only while it is fresh (`fresh_days`), so after downtime a user gets one catch-up
reminder per rule, not a backlog; a queued one that went stale meanwhile is dropped on dispatch.

Dispatching is exactly-once where it can be and at-most-once where it cannot, never twice:

1. claim_due takes a batch for this worker with a short lease (30 s). A claim whose worker dies
   before beginning a delivery returns to the queue when the lease ends: nothing was sent.
2. Just before each push, begin_delivery commits an attempt id on the row (and renews this
   worker's leases: a slow batch keeps its claims, a dead worker's come back within 30 s). If the
   claim is no longer this worker's (its lease ran out and another took it), it is skipped.
3. The clock is read again right before the push: if the quiet hours (21:00-08:00 Beijing) have
   begun, the reminder goes back to the queue for 08:00 (requeue_reminder), not counted as a try.
4. After the push, mark_sent writes state 'sent' and the channel's message id in one statement,
   for this attempt only; a push the channel refused (False) or that raised is requeued or given up.

The one window no database can close is a worker killed between the channel accepting a push and
step 4 (at most `concurrency` pushes per worker). Such a row stays 'sending' with its attempt, and
when its lease ends it is settled 'failed' with outcome 'unknown' and never pushed again: WeChat
and Telegram offer no idempotency key, so resending could deliver twice, and a reminder missed is
better than one twice. (If the worker was only slow and reports later, mark_sent still records the
delivery.) A pusher whose receiver drops repeats (`idempotent = True`, see reminders/pusher.py)
gets a key per reminder instead, and those rows are claimed and sent again with the same key: for
it, exactly once.
Between 21:00 and 08:00 Beijing time nothing is pushed; what falls due then goes out at 08:00.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from eligibility.engine import Engine
from eligibility.household import Household, parse_household
from foundation.clock import DAY, Clock, add_working_days, at, last_day_of, local, short
from foundation.datafile import DataFileError
from policy_kb.model import KnowledgeBase
from reminders.pusher import Pusher, delivered
from reminders.rules import Rule, load_rules
from storage.base import Store
from storage.records import Reminder, User
from workflow.access import Actor
from workflow.desk import Desk
from workflow.views import who

log = logging.getLogger(__name__)

RULE_KIND = "rule"
QUIET_FROM = dt.time(21, 0)
QUIET_UNTIL = dt.time(8, 0)
MAX_ATTEMPTS = 5
RETRY_AFTER = 3600.0  # seconds, times the attempts so far
NOTICE_LOOKBACK = 2 * DAY  # how far back planning looks for status notices a crash may have lost
PLAN_LEASE = "reminders:plan"
T = TypeVar("T")


def quiet(ts: float) -> bool:
    moment = local(ts).time()
    return moment >= QUIET_FROM or moment < QUIET_UNTIL


def not_at_night(ts: float) -> float:
    """`ts`, or 08:00 after it if it falls in the quiet hours."""
    if not quiet(ts):
        return ts
    moment = local(ts)
    day = moment.date() if moment.time() < QUIET_UNTIL else moment.date() + dt.timedelta(days=1)
    return at(day, QUIET_UNTIL.hour, QUIET_UNTIL.minute)


async def _in_thread(call: Callable[..., T], *args: object) -> T:
    """A blocking store call in a worker thread. Shielded: if the dispatch is cancelled meanwhile, the call
    still runs to the end (the event loop waits for its threads when it closes), so a push that went out is
    still marked sent.
    """
    return await asyncio.shield(asyncio.get_running_loop().run_in_executor(None, call, *args))


class _Moment:
    """The time during a dispatch: its start, plus what has passed on the scheduler's clock since."""

    def __init__(self, start: float, clock: Clock) -> None:
        self.start = start
        self.clock = clock
        self.started = clock.now()

    def __call__(self) -> float:
        return self.start + (self.clock.now() - self.started)


@dataclass(slots=True)
class RunReport:
    planned: int = 0
    sent: int = 0
    retried: int = 0
    dropped: int = 0
    held: int = 0  # requeued for 08:00: the quiet hours began during the dispatch
    capped: bool = False  # the run stopped at max_per_run with more due


class Scheduler:
    def __init__(self, store: Store, kb: KnowledgeBase, pusher: Pusher, *, worker: str | None = None, max_per_run: int = 1000,
                 batch: int = 100, concurrency: int = 8, lease_seconds: float = 30.0, plan_every: float = 600.0,
                 rules: tuple[Rule, ...] | None = None, clock: Clock | None = None) -> None:
        """concurrency: users pushed to at once; plan_every: seconds between plannings across all processes (a store lease), 0: every run."""
        self.store = store
        self.pusher = pusher
        self.engine = Engine(kb)
        self.clock = clock or Clock()
        self.desk = Desk(store, kb, self.engine, self.clock)
        self.worker = worker or f"reminders-{uuid.uuid4().hex[:8]}"
        self.max_per_run = max_per_run
        self.batch = batch
        self.concurrency = concurrency
        self.lease_seconds = lease_seconds
        self.plan_every = plan_every
        self.rules = rules if rules is not None else load_rules()

    # -- one run -------------------------------------------------------------------------------
    def run_once(self, now: float) -> RunReport:
        """Plan and dispatch as of `now` (for tests and `reminders run --once`)."""
        return asyncio.run(self.tick(now))

    async def tick(self, now: float) -> RunReport:
        planned = self.plan(now) if self.plan_every <= 0 or self.store.kv_lock(PLAN_LEASE, self.plan_every) else 0
        report = await self.dispatch(now)
        report.planned = planned
        return report

    async def run_forever(self, stop: asyncio.Event, interval: float = 60.0) -> None:
        while not stop.is_set():
            try:
                report = await self.tick(self.clock.now())
            except Exception:  # a database hiccup must not end the loop
                log.exception("reminders: a run failed")
                report = RunReport()
            if report.planned or report.sent or report.retried or report.dropped or report.held:
                log.info("reminders: planned %d, sent %d, retry %d, dropped %d, held for 08:00 %d", report.planned, report.sent, report.retried,
                         report.dropped, report.held)
            try:
                await asyncio.wait_for(stop.wait(), timeout=1.0 if report.capped else interval)
            except TimeoutError:
                pass

    # -- planning ------------------------------------------------------------------------------
    def plan(self, now: float) -> int:
        """Queues what is due by `now` and not queued yet; returns how many were new."""
        today = local(now).date()
        queued = self.desk.queue_missed_notices(now - NOTICE_LOOKBACK)
        subscribers = [(u, topics) for u in self.store.list_users() if (topics := self.store.get_subscription(u.channel, u.user))]
        for user, topics in subscribers:
            household = self._household(user)
            for rule in self.rules:
                if rule.before_deadline is None and rule.topic in topics and rule.serves(user.role, household is not None):
                    queued += self._plan_calendar(rule, user, household, now, today)
        queued += self._plan_deadlines([(u, t) for u, t in subscribers if u.role != "villager"], now)
        return queued

    def _plan_calendar(self, rule: Rule, user: User, household: Household | None, now: float, today: dt.date) -> int:
        day = rule.latest(today)
        if day is None:
            return 0
        due = at(day, rule.send_at.hour, rule.send_at.minute)
        if not due <= now < due + rule.fresh_days * DAY:
            return 0
        if rule.for_households and not rule.matches(household, self._params(household, user, today)):
            return 0
        return self._queue(rule, user, rule.text, due, due + rule.fresh_days * DAY, day.isoformat())

    def _plan_deadlines(self, staff: list[tuple[User, list[str]]], now: float) -> int:
        rules = [r for r in self.rules if r.before_deadline is not None]
        states = [s for s, state in self.desk.workflow.states.items() if state.deadline]
        if not rules or not staff:
            return 0
        queued = 0
        for app in self.store.list_applications(states=states):
            if app.deadline is None or app.deadline <= now:
                continue
            last_day = last_day_of(app.deadline)
            for rule in rules:
                due = at(add_working_days(last_day, -(rule.before_deadline or 0)), rule.send_at.hour, rule.send_at.minute)
                expires = min(app.deadline, due + rule.fresh_days * DAY)
                if not due <= now < expires:
                    continue
                text = rule.text.format(number=app.number, who=who(app), state=self.desk.workflow.states[app.state].label, day=short(last_day))
                for user, topics in staff:
                    actor = Actor(user.channel, user.user, user.role, user.region, tuple(user.villages))
                    if rule.topic in topics and user.role in rule.audience and self.desk.steps_for(actor, app):
                        queued += self._queue(rule, user, text, due, expires, f"{app.number}:{last_day.isoformat()}")
        return queued

    def _queue(self, rule: Rule, user: User, text: str, due: float, expires: float, period: str) -> int:
        payload = {"texts": [f"{text}\n{self.desk.texts['reminder_footer']}"], "rule": rule.id, "topic": rule.topic, "expires_at": expires}
        key = f"{RULE_KIND}:{rule.id}:{user.channel}:{user.user}:{period}"
        return self.store.schedule_reminder(user.channel, user.user, RULE_KIND, payload, not_at_night(due), dedupe_key=key) is not None

    def _household(self, user: User) -> Household | None:
        saved = (self.store.load_profile(user.channel, user.user) or {}).get("household")
        if saved is None:
            return None
        try:
            return parse_household(saved, f"<profile {user.channel}>")
        except DataFileError as exc:
            log.warning("reminders: a saved household cannot be read (%s); household rules skipped for this user", exc.reason)
            return None

    def _params(self, household: Household | None, user: User, today: dt.date) -> dict[str, float | None]:
        region = (household.region if household else None) or user.region
        try:
            return self.engine.plan(region, today).params
        except KeyError:
            return self.engine.plan(None, today).params

    # -- dispatching ---------------------------------------------------------------------------
    async def dispatch(self, now: float) -> RunReport:
        """Pushes up to max_per_run due reminders; nothing in the quiet hours.

        `now` is the time the dispatch starts; as it runs, time goes on by this scheduler's clock,
        and each push checks the quiet hours at its own moment.
        """
        report = RunReport()
        moment = _Moment(now, self.clock)

        handled = 0
        while handled < self.max_per_run:
            if quiet(moment()):
                return report
            batch = await _in_thread(self.store.claim_due, moment(), min(self.batch, self.max_per_run - handled), self.worker,
                                     self.lease_seconds, self.idempotent)
            if not batch:
                return report
            await self._deliver_batch(batch, moment, report)
            handled += len(batch)
        report.capped = True
        return report

    @property
    def idempotent(self) -> bool:
        """The receiver drops a repeated push with the same key: a push a crash left unknown may be sent again."""
        return getattr(self.pusher, "idempotent", False) is True

    async def _deliver_batch(self, batch: list[Reminder], moment: _Moment, report: RunReport) -> None:
        """Users in parallel (a channel API call takes a while), each user's reminders in order."""
        per_user: dict[tuple[str, str], list[Reminder]] = {}
        for reminder in batch:
            per_user.setdefault((reminder.channel, reminder.user), []).append(reminder)
        slots = asyncio.Semaphore(self.concurrency)

        async def deliver_in_order(reminders: list[Reminder]) -> None:
            async with slots:
                for reminder in reminders:
                    await self._deliver(reminder, moment, report)

        await asyncio.gather(*(deliver_in_order(reminders) for reminders in per_user.values()))

    async def _deliver(self, reminder: Reminder, moment: _Moment, report: RunReport) -> None:
        attempt = uuid.uuid4().hex
        if not await _in_thread(self.store.begin_delivery, reminder.id, self.worker, attempt, moment(), self.lease_seconds):
            return  # our claim ran out and another worker has it
        try:
            stale = await _in_thread(self._stale, reminder, moment())
        except asyncio.CancelledError:  # the dispatch was cancelled before the push: nothing went out, give it back
            await _in_thread(self.store.requeue_reminder, reminder.id, attempt, reminder.due_at)
            raise
        if stale:
            await _in_thread(self.store.mark_failed, reminder.id, None, attempt, "stale")
            report.dropped += 1
            return
        now = moment()  # read just before the push: the quiet hours may have begun during the dispatch
        if quiet(now):
            await _in_thread(self.store.requeue_reminder, reminder.id, attempt, not_at_night(now))
            report.held += 1
            return
        texts = list(reminder.payload["texts"])
        try:
            if self.idempotent:
                result = await self.pusher.send(reminder.channel, reminder.user, texts, key=f"reminder:{reminder.id}")  # type: ignore[call-arg]
            else:
                result = await self.pusher.send(reminder.channel, reminder.user, texts)
        except Exception:
            log.exception("reminders: pushing reminder %d on %s failed", reminder.id, reminder.channel)
            result = False
        ok, message_id = delivered(result)
        if ok:
            await _in_thread(self.store.mark_sent, reminder.id, attempt, message_id)
            report.sent += 1
            return
        retry = None if reminder.attempts >= MAX_ATTEMPTS else not_at_night(moment.start + RETRY_AFTER * reminder.attempts)
        await _in_thread(self.store.mark_failed, reminder.id, retry, attempt)
        report.retried += retry is not None
        report.dropped += retry is None

    def _stale(self, reminder: Reminder, now: float) -> bool:
        """A rule reminder that is no longer worth sending: past its freshness, or the user unsubscribed."""
        if reminder.kind != RULE_KIND:
            return False
        if now >= reminder.payload.get("expires_at", float("inf")):
            return True
        return reminder.payload.get("topic") not in (self.store.get_subscription(reminder.channel, reminder.user) or [])
