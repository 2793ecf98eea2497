"""The storage interface every back end implements, as one protocol per role, so that a part of
the assistant can say which of the store it needs (the conversation's sessions, the workflow's
applications, the scheduler's reminders). `Store` is all of them; both back ends implement it.

Each method is one transaction. JSON values are plain dicts/lists (stored as JSON text).
Times are Unix seconds (float).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from .records import Application, ApplicationEvent, Invite, Reminder, User


class StoreUnavailable(Exception):
    """The database did not answer in time (another process holds the lock, the server is gone):
    nothing of the transaction was kept, and trying again later may work."""


class SessionStore(Protocol):
    """Conversation sessions, per (channel, user), and the replies kept for channel retries."""

    def load_session(self, channel: str, user: str) -> dict[str, Any] | None: ...

    def save_session(self, channel: str, user: str, state: dict[str, Any]) -> None: ...

    def delete_session(self, channel: str, user: str) -> None: ...

    def session_saved_at(self, channel: str, user: str) -> float | None:
        """When the session was last saved: the user's last message, as the core saves on every one."""
        ...

    # -- message de-duplication (WeChat retries), shared across processes ---------------
    def claim_message(self, key: str) -> bool:
        """True for the caller that may handle the message; later callers get False. The claim is
        a short lease of this store (process): after it runs out unanswered, another may take over."""
        ...

    def holds_message(self, key: str) -> bool:
        """True while this store's claim on the message stands (nobody took it over)."""
        ...

    def save_reply(self, key: str, replies: list[Any]) -> bool:
        """False, saving nothing, if another store holds the message's claim."""
        ...

    def save_session_and_reply(self, channel: str, user: str, state: dict[str, Any], key: str, replies: list[Any]) -> bool:
        """save_session and save_reply in one transaction: the end of a WeChat conversation step.
        False, saving neither, if another store took the message over."""
        ...

    def get_reply(self, key: str) -> list[Any] | None: ...


class KVStore(Protocol):
    """Small shared values with expiry (the WeChat access token) and leases, across processes."""

    def kv_get(self, key: str) -> str | None: ...

    def kv_set(self, key: str, value: str, ttl_seconds: float | None = None) -> None: ...

    def kv_lock(self, key: str, ttl_seconds: float) -> bool:
        """A lease: True for exactly one caller (across processes) until it expires or kv_unlock."""
        ...

    def kv_unlock(self, key: str) -> None:
        """Releases the lease if this store holds it."""
        ...



class PeopleStore(Protocol):
    """Users and their roles, invite codes, consent, saved households, and deleting personal data."""

    def get_user(self, channel: str, user: str) -> User | None: ...

    def set_role(
        self, channel: str, user: str, role: str, *, region: str | None = None, villages: Iterable[str] = (), display_name: str | None = None
    ) -> User: ...

    def list_users(self, *, role: str | None = None, region: str | None = None) -> list[User]: ...

    def revoke_role(self, channel: str, user: str) -> bool: ...

    def create_invite(self, role: str, villages: Iterable[str], region: str | None, code: str, expires_at: float | None = None) -> Invite | None:
        """None if the code is already taken."""
        ...

    def redeem_invite(self, code: str, channel: str, user: str) -> Invite | None:
        """Works once per code, even with concurrent redeemers; grants the invite's role to the user."""
        ...

    def set_consent(self, channel: str, user: str, granted: bool) -> None: ...

    def get_consent(self, channel: str, user: str) -> bool | None: ...

    def save_profile(self, channel: str, user: str, profile: dict[str, Any]) -> None: ...

    def load_profile(self, channel: str, user: str) -> dict[str, Any] | None: ...

    def delete_personal_data(self, channel: str, user: str) -> int:
        """Deletes session, profile, consent, reminders; blanks name/phone/id_number in the user's applications."""
        ...



class ApplicationStore(Protocol):
    """Applications to be included in monitoring (申请纳入监测) and their audit trail."""

    def submit_application(
        self,
        idem_key: str,
        data: dict[str, Any],
        *,
        channel: str,
        user: str,
        village: str | None = None,
        region: str | None = None,
        filled_by: tuple[str, str] | None = None,
        state: str = "submitted",
        deadline: float | None = None,
    ) -> tuple[Application, bool]:
        """(application, created); a repeated idem_key returns the stored application and False."""
        ...

    def get_application(self, number: str) -> Application | None: ...

    def list_applications(
        self, *, user: tuple[str, str] | None = None, villages: Iterable[str] | None = None, states: Iterable[str] | None = None
    ) -> list[Application]: ...

    def page_applications(
        self, *, states: Iterable[str], region: str | None = None, villages: Iterable[str] | None = None, risk: str | None = None,
        now: float = 0.0, limit: int = 50, offset: int = 0,
    ) -> tuple[list[Application], int, int]:
        """One page of the applications in `states` (and `region`, `villages`, data's `risk` where given), by
        deadline (overdue first, none last), then oldest; with how many match and how many are overdue at `now`.
        The web console's 待办: filtered and paged in the database."""
        ...

    def transition(
        self, number: str, from_state: str, to_state: str, actor: str, note: str = "", deadline: float | None = None
    ) -> Application | None:
        """Compare-and-set on the state, plus an audit event; None if the state was no longer from_state."""
        ...

    def update_application_data(self, number: str, version: int, data: dict[str, Any], actor: str, note: str = "") -> Application | None:
        """Optimistic locking: None if the application changed since `version`."""
        ...

    def events(self, number: str) -> list[ApplicationEvent]: ...

    def entries(
        self, states: Iterable[str], start: float, end: float, *, region: str | None = None, villages: Iterable[str] | None = None
    ) -> list[tuple[Application, ApplicationEvent]]:
        """The first move of each application into each of `states` within [start, end), by time: the
        monthly report's households, found in one query instead of one audit log per application."""
        ...

    def tally_applications(
        self, column: str, *, region: str | None = None, villages: Iterable[str] | None = None, overdue_at: float | None = None
    ) -> list[tuple[str | None, int]]:
        """How many applications per `column` ("state", "village" or "risk"), counted in the database;
        with `overdue_at`, only those whose deadline has passed by then."""
        ...

    def step_times(self, *, region: str | None = None, villages: Iterable[str] | None = None) -> list[tuple[str, str, float, int]]:
        """(from_state, to_state, seconds since the application's previous event to a hundredth of a
        day, how many) for the state changes: what 统计's median days per step are counted from."""
        ...

    def record_event(self, number: str, actor: str, note: str) -> bool:
        """An audit event that changes nothing (a refused step, a full number shown); False if no such application."""
        ...



class ReminderStore(Protocol):
    """Subscriptions and the reminder queue."""

    def upsert_subscription(self, channel: str, user: str, topics: Iterable[str]) -> None: ...

    def get_subscription(self, channel: str, user: str) -> list[str] | None: ...

    def delete_subscription(self, channel: str, user: str) -> None: ...

    def schedule_reminder(
        self, channel: str, user: str, kind: str, payload: dict[str, Any], due_at: float, dedupe_key: str | None = None
    ) -> int | None:
        """The new reminder's id; None if dedupe_key was already queued."""
        ...

    def claim_due(self, now: float, limit: int, worker: str, lease_seconds: float = 30.0, resend_unknown: bool = False) -> list[Reminder]:
        """Marks due reminders 'sending' for this worker; each goes to one worker (again only after its lease runs out,
        and only if no delivery was begun: a begun one whose lease ran out is settled 'unknown', unless resend_unknown)."""
        ...

    def begin_delivery(self, id: int, worker: str, attempt: str, now: float, lease_seconds: float = 30.0) -> bool:
        """Commits that the push of `id` starts now (attempt id), renewing the worker's leases; False if the claim is gone."""
        ...

    def mark_sent(self, id: int, attempt: str | None = None, message_id: str | None = None) -> bool:
        """Delivered: 'sent' and the channel's message id in one step."""
        ...

    def mark_failed(self, id: int, retry_at: float | None, attempt: str | None = None, outcome: str = "gave_up") -> bool:
        """Requeue at retry_at, or give up ('failed', with outcome) if None."""
        ...

    def requeue_reminder(self, id: int, attempt: str, due_at: float) -> bool:
        """Back to the queue at due_at, not counted as an attempt (quiet hours began before the push)."""
        ...

    def reminder_counts(self) -> dict[str, int]:
        """Reminders per state, with 'unknown' for those whose worker died mid-push."""
        ...

    def reminder_delivery(self, id: int) -> dict[str, Any] | None: ...


class Store(SessionStore, KVStore, PeopleStore, ApplicationStore, ReminderStore, Protocol):
    url: str
    local: bool  # calls take microseconds (a file on this machine): async code may make them on its event loop
    clock: Any  # Callable[[], float]: the time rows are stamped with

    def close(self) -> None: ...
