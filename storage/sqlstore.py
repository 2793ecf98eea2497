"""The Store methods, written once in dialect-neutral SQL (see sql.py) for both back ends.

A back end only says how to get a connection, how to begin a transaction, whether a connection
broke, and how to keep two processes from migrating at once. Every public method is one
transaction; atomicity across processes comes from single statements that check and change a row
together (INSERT ... ON CONFLICT, UPDATE ... WHERE state = ?), never from read-then-write in Python.
"""

from __future__ import annotations

import functools
import inspect
import json
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, closing
from typing import Any, Concatenate, ParamSpec, TypeVar

from foundation.clock import local

from .records import PERSONAL_FIELDS, ROLES, Application, ApplicationEvent, Invite, Reminder, User
from .sql import Dialect, Tx, Where, migrations, upsert_sql

MESSAGE_TTL = 24 * 3600.0  # a WeChat message id is forgotten after a day
CLAIM_LEASE = 4.0  # how long a claimed message is its claimer's alone (see claim_message)
# Tables delete_personal_data changes, whose files are scrubbed after it.
STEP_TIME_GRAIN = 864  # seconds: step times are counted to a hundredth of a day
PERSONAL_TABLES = ("sessions", "profiles", "consents", "subscriptions", "reminders", "users", "applications", "application_events", "messages")
EXPIRED_SESSION = '{"expired": true}'  # the state of a session whose contents expired
CLEANUP_EVERY = 60.0  # expired rows are deleted at most this often (seconds), by one process
DEFAULT_LEASE = 30.0  # a claimed reminder not begun goes back to the queue after this (renewed per delivery)

P = ParamSpec("P")
T = TypeVar("T")


def _transaction(write: bool) -> Callable[[Callable[Concatenate[Any, Tx, P], T]], Callable[Concatenate[Any, P], T]]:
    """Makes `method(self, tx, ...)` callable as `method(self, ...)`, running it in one transaction."""

    def decorate(method: Callable[Concatenate[Any, Tx, P], T]) -> Callable[Concatenate[Any, P], T]:
        @functools.wraps(method)
        def run(self: SqlStore, *args: P.args, **kwargs: P.kwargs) -> T:
            return self._transact(lambda tx: method(self, tx, *args, **kwargs), write)

        signature = inspect.signature(method)  # so help() shows the signature callers use
        self_param, _tx, *rest = signature.parameters.values()
        run.__signature__ = signature.replace(parameters=[self_param, *rest])  # type: ignore[attr-defined]
        return run

    return decorate


reads = _transaction(write=False)  # one SELECT: a back end may run it without BEGIN, as its own snapshot
writes = _transaction(write=True)


class SqlStore(ABC):
    dialect: Dialect

    def __init__(self, url: str) -> None:
        self.url = url
        self.clock: Callable[[], float] = time.time  # tests move time by replacing this
        self._owner = uuid.uuid4().hex  # whose leases (kv_lock) are whose
        self._cleaned_at = float("-inf")
        self._sessions_swept_at = float("-inf")

    # -- what a back end provides ------------------------------------------------------
    @abstractmethod
    def _connection(self) -> AbstractContextManager[Any]:
        """A connection for one transaction, used by no one else meanwhile."""

    @abstractmethod
    def _begin(self, conn: Any, write: bool) -> None: ...

    def _is_broken(self, conn: Any) -> bool:
        """True if the connection was lost, so the transaction can be run again on a new one."""
        return False

    @abstractmethod
    def _lock_schema(self, tx: Tx) -> None:
        """Called first in migrate()'s transaction: must keep other processes out until it ends."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> SqlStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _transact(self, work: Callable[[Tx], T], write: bool) -> T:
        """Runs `work` in one transaction; if the connection broke before COMMIT, once more on a new one."""
        for last_try in (False, True):
            with self._connection() as conn:
                try:
                    self._begin(conn, write)
                    with closing(conn.cursor()) as cursor:
                        result = work(Tx(cursor, self.dialect))
                except BaseException:
                    if not self._is_broken(conn):
                        conn.rollback()
                        raise
                    if last_try:
                        raise
                    continue  # nothing was committed, so running it again is safe
                conn.commit()
                return result
        raise AssertionError("unreachable")

    # -- schema ------------------------------------------------------------------------
    @writes
    def migrate(self, tx: Tx) -> list[int]:
        """Applies the migrations this database lacks, all in one transaction; returns their versions."""
        self._lock_schema(tx)
        tx.run("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at {ts} NOT NULL)")
        done = {row["version"] for row in tx.all("SELECT version FROM schema_version")}
        applied = []
        for migration in migrations():
            if migration.version in done:
                continue
            for statement in migration.statements:
                tx.run(statement)
            tx.run("INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)", migration.version, migration.name, self.clock())
            applied.append(migration.version)
        return applied

    @reads
    def schema_version(self, tx: Tx) -> int:
        row = tx.one("SELECT MAX(version) AS version FROM schema_version")
        return row["version"] if row and row["version"] is not None else 0

    # -- rows keyed by (channel, user) -------------------------------------------------
    def _load_owned(self, tx: Tx, table: str, column: str, channel: str, user: str) -> Any:
        row = tx.one(f"SELECT {column} FROM {table} WHERE channel = ? AND user_id = ?", channel, user)
        return None if row is None else row[column]

    def _save_owned(self, tx: Tx, table: str, channel: str, user: str, column: str, value: Any) -> None:
        tx.run(upsert_sql(table, ["channel", "user_id"], [column, "updated_at"]), channel, user, value, self.clock())

    def _delete_owned(self, tx: Tx, table: str, channel: str, user: str) -> None:
        tx.run(f"DELETE FROM {table} WHERE channel = ? AND user_id = ?", channel, user)

    # -- sessions ----------------------------------------------------------------------
    @reads
    def load_session(self, tx: Tx, channel: str, user: str) -> dict[str, Any] | None:
        return _loads(self._load_owned(tx, "sessions", "state", channel, user))

    @writes
    def save_session(self, tx: Tx, channel: str, user: str, state: dict[str, Any]) -> None:
        self._save_session(tx, channel, user, state)

    def _save_session(self, tx: Tx, channel: str, user: str, state: dict[str, Any]) -> None:
        """Saves the state with its `expires_at` (when the conversation says its contents may go),
        and now and then empties the sessions whose time has passed, in the same transaction: what
        is left says only that the conversation ended, so the user's next message can be told so."""
        now = self.clock()
        tx.run(upsert_sql("sessions", ["channel", "user_id"], ["state", "updated_at", "expires_at"]), channel, user, _dumps(state), now,
               state.get("expires_at"))
        if now - self._sessions_swept_at >= CLEANUP_EVERY:
            self._sessions_swept_at = now
            tx.run("UPDATE sessions SET state = ?, expires_at = NULL WHERE expires_at < ?", EXPIRED_SESSION, now)

    @writes
    def delete_session(self, tx: Tx, channel: str, user: str) -> None:
        self._delete_owned(tx, "sessions", channel, user)

    @reads
    def session_saved_at(self, tx: Tx, channel: str, user: str) -> float | None:
        return self._load_owned(tx, "sessions", "updated_at", channel, user)

    # -- message de-duplication --------------------------------------------------------
    def claim_message(self, key: str, lease_seconds: float = CLAIM_LEASE) -> bool:
        """True for the caller that may handle the message now; False while another holds it or once it is answered.

        A claim is a lease held by this store (its process) for `lease_seconds`: if the process
        dies before saving the reply, the message is not lost, the first claim after the lease
        ends takes it over (the row's owner changes). The default of 4 s is chosen against
        WeChat's timing: WeChat waits 5 s for an answer, then retries (three tries about 5 s
        apart). A live owner answers inside its 4 s reply window (or has then said "success"
        and goes on by customer service), so a lease shorter than the retry spacing lets the
        very next retry after a death run the message, and one longer would make that retry
        wait for nothing. An owner that finishes after being taken over saves nothing
        (save_session_and_reply is False), so the user sees one answer, the new owner's.
        A key answered more than a day ago (MESSAGE_TTL) may be claimed again.
        """
        self._clean_up_now_and_then()
        return self._insert_message_key(key, lease_seconds)

    @writes
    def _insert_message_key(self, tx: Tx, key: str, lease_seconds: float) -> bool:
        now = self.clock()
        claimed = tx.run(
            "INSERT INTO messages (key, claimed_at, owner, lease_until) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET claimed_at = excluded.claimed_at, owner = excluded.owner, "
            "lease_until = excluded.lease_until, replies = NULL "
            "WHERE messages.claimed_at <= ? OR (messages.replies IS NULL AND messages.lease_until <= ?)",
            key,
            now,
            self._owner,
            now + lease_seconds,
            now - MESSAGE_TTL,
            now,
        )
        return claimed == 1

    @reads
    def holds_message(self, tx: Tx, key: str) -> bool:
        """True while this store's claim on the message stands: no other process took it over."""
        return tx.one("SELECT 1 AS held FROM messages WHERE key = ? AND owner = ?", key, self._owner) is not None

    @writes
    def save_reply(self, tx: Tx, key: str, replies: list[Any]) -> bool:
        """Keeps the replies for retries; False (nothing saved) if another store has claimed the message."""
        return self._save_reply(tx, key, replies)

    def _save_reply(self, tx: Tx, key: str, replies: list[Any]) -> bool:
        saved = tx.run(
            "INSERT INTO messages (key, claimed_at, owner, replies) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET replies = excluded.replies "
            "WHERE messages.owner = excluded.owner OR messages.owner IS NULL",
            key,
            self.clock(),
            self._owner,
            _dumps(replies),
        )
        return saved == 1

    @writes
    def save_session_and_reply(self, tx: Tx, channel: str, user: str, state: dict[str, Any], key: str, replies: list[Any]) -> bool:
        """Both or neither: False, and nothing saved, if another store took the message over
        (this one's lease ran out first); its session and reply are the ones that count."""
        if not self._save_reply(tx, key, replies):
            return False
        self._save_session(tx, channel, user, state)
        return True

    @reads
    def get_reply(self, tx: Tx, key: str) -> list[Any] | None:
        row = tx.one("SELECT replies FROM messages WHERE key = ? AND claimed_at > ?", key, self.clock() - MESSAGE_TTL)
        return None if row is None else _loads(row["replies"])

    def _clean_up_now_and_then(self) -> None:
        """Deletes expired rows; the lease makes that one process's job, once a minute, so deletes never contend."""
        now = self.clock()
        if now - self._cleaned_at < CLEANUP_EVERY:
            return
        self._cleaned_at = now
        if self.kv_lock("storage:cleanup", CLEANUP_EVERY):
            self._delete_expired(now)

    @writes
    def _delete_expired(self, tx: Tx, now: float) -> None:
        tx.run("DELETE FROM messages WHERE claimed_at <= ?", now - MESSAGE_TTL)
        tx.run("DELETE FROM kv WHERE expires_at <= ?", now)
        tx.run("DELETE FROM leases WHERE expires_at <= ?", now)

    # -- shared values with expiry, and leases -------------------------------------------
    @reads
    def kv_get(self, tx: Tx, key: str) -> str | None:
        row = tx.one("SELECT value FROM kv WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)", key, self.clock())
        return None if row is None else row["value"]

    @writes
    def kv_set(self, tx: Tx, key: str, value: str, ttl_seconds: float | None = None) -> None:
        expires_at = None if ttl_seconds is None else self.clock() + ttl_seconds
        tx.run(upsert_sql("kv", ["key"], ["value", "expires_at"]), key, value, expires_at)

    @writes
    def kv_lock(self, tx: Tx, key: str, ttl_seconds: float) -> bool:
        """Takes the lease on `key` if no one holds it (or theirs expired). True for exactly one caller at a time."""
        now = self.clock()
        taken = tx.run(
            "INSERT INTO leases (key, owner, expires_at) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at "
            "WHERE leases.expires_at <= ?",
            key,
            self._owner,
            now + ttl_seconds,
            now,
        )
        return taken == 1

    @writes
    def kv_unlock(self, tx: Tx, key: str) -> None:
        """Releases the lease if this store holds it (a lease that expired and was taken over is left alone)."""
        tx.run("DELETE FROM leases WHERE key = ? AND owner = ?", key, self._owner)

    # -- users and roles ---------------------------------------------------------------
    @reads
    def get_user(self, tx: Tx, channel: str, user: str) -> User | None:
        row = tx.one("SELECT * FROM users WHERE channel = ? AND user_id = ?", channel, user)
        return None if row is None else _user(row)

    @writes
    def set_role(
        self,
        tx: Tx,
        channel: str,
        user: str,
        role: str,
        *,
        region: str | None = None,
        villages: Iterable[str] = (),
        display_name: str | None = None,
    ) -> User:
        """Creates or updates the user; a display_name of None keeps the one stored."""
        return self._grant(tx, channel, user, role, region, villages, display_name)

    def _grant(self, tx: Tx, channel: str, user: str, role: str, region: str | None, villages: Iterable[str], display_name: str | None = None) -> User:
        _check_role(role)
        now = self.clock()
        values = {"role": role, "region": region, "villages": _dumps(list(villages)), "updated_at": now}
        if display_name is not None:
            values["display_name"] = display_name
        sql = upsert_sql("users", ["channel", "user_id"], values, ["created_at"], returning=True)
        return _user(_required(tx.one(sql, channel, user, *values.values(), now)))

    @reads
    def list_users(self, tx: Tx, *, role: str | None = None, region: str | None = None) -> list[User]:
        where = Where().equals("role", role).equals("region", region)
        return [_user(row) for row in tx.all(f"SELECT * FROM users{where} ORDER BY channel, user_id", *where.params)]

    @writes
    def revoke_role(self, tx: Tx, channel: str, user: str) -> bool:
        """Back to villager with no villages; False if the user had no other role.

        The reminders queued for the role go with it (deadline reminders of applications the user
        no longer acts on); the planner queues again whatever the user still gets as a villager.
        """
        tx.run("DELETE FROM reminders WHERE channel = ? AND user_id = ? AND kind = 'rule' AND state = 'pending'"
               " AND EXISTS (SELECT 1 FROM users WHERE channel = ? AND user_id = ? AND role <> 'villager')", channel, user, channel, user)
        changed = tx.run(
            "UPDATE users SET role = 'villager', villages = ?, updated_at = ? WHERE channel = ? AND user_id = ? AND role <> 'villager'",
            _dumps([]),
            self.clock(),
            channel,
            user,
        )
        return changed == 1

    # -- invites -----------------------------------------------------------------------
    @writes
    def create_invite(
        self, tx: Tx, role: str, villages: Iterable[str], region: str | None, code: str, expires_at: float | None = None
    ) -> Invite | None:
        """None if the code is already taken (the caller picks another)."""
        _check_role(role)
        row = tx.one(
            "INSERT INTO invites (code, role, region, villages, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (code) DO NOTHING RETURNING *",
            code,
            role,
            region,
            _dumps(list(villages)),
            self.clock(),
            expires_at,
        )
        return None if row is None else _invite(row)

    @writes
    def redeem_invite(self, tx: Tx, code: str, channel: str, user: str) -> Invite | None:
        """Marks the code used and grants its role, villages and region to the user; None if used, expired or unknown."""
        now = self.clock()
        row = tx.one(
            "UPDATE invites SET redeemed_at = ?, redeemed_channel = ?, redeemed_user = ? "
            "WHERE code = ? AND redeemed_at IS NULL AND (expires_at IS NULL OR expires_at > ?) RETURNING *",
            now,
            channel,
            user,
            code,
            now,
        )
        if row is None:
            return None
        invite = _invite(row)
        self._grant(tx, channel, user, invite.role, invite.region, invite.villages)
        return invite

    # -- consent and personal data -----------------------------------------------------
    @writes
    def set_consent(self, tx: Tx, channel: str, user: str, granted: bool) -> None:
        self._save_owned(tx, "consents", channel, user, "granted", granted)

    @reads
    def get_consent(self, tx: Tx, channel: str, user: str) -> bool | None:
        """None if the user was never asked (or deleted their data)."""
        granted = self._load_owned(tx, "consents", "granted", channel, user)
        return None if granted is None else bool(granted)

    @writes
    def save_profile(self, tx: Tx, channel: str, user: str, profile: dict[str, Any]) -> None:
        self._save_owned(tx, "profiles", channel, user, "data", _dumps(profile))

    @reads
    def load_profile(self, tx: Tx, channel: str, user: str) -> dict[str, Any] | None:
        return _loads(self._load_owned(tx, "profiles", "data", channel, user))

    def delete_personal_data(self, channel: str, user: str) -> int:
        """Deletes what identifies the user but keeps the workflow and audit rows; returns how many applications were blanked.

        Besides session, profile and consent, this deletes the user's reminder subscription and reminders
        and their display name (role and villages stay: they are permissions, not personal data). The
        values are overwritten before the rows go, and then the back end scrubs its files (`_scrub`):
        a byte search of the database afterwards finds none of the deleted numbers or names.
        """
        blanked = self._delete_personal_data(channel, user)
        self._scrub(PERSONAL_TABLES)
        return blanked

    @writes
    def _delete_personal_data(self, tx: Tx, channel: str, user: str) -> int:
        rows = tx.all("SELECT * FROM applications WHERE channel = ? AND user_id = ? ORDER BY id{for_update}", channel, user)
        apps = list(map(_application, rows))
        secrets = sorted({str(a.data[k]) for a in apps for k in PERSONAL_FIELDS if a.data.get(k)}, key=len, reverse=True)
        for app in apps:
            blanked = {key: None if key in PERSONAL_FIELDS else _without(value, secrets) for key, value in app.data.items()}
            self._replace_data(tx, app.number, blanked, "system", "personal data deleted at the applicant's request")
            for secret in secrets:  # a staff note may name the applicant or quote a number
                tx.run("UPDATE application_events SET note = REPLACE(note, ?, '***') WHERE number = ?", secret, app.number)
                # what staff were reminded of this application (…（张三，金墩村）…), and replies kept for channel retries
                tx.run("DELETE FROM reminders WHERE dedupe_key LIKE ? AND CAST(payload AS TEXT) LIKE ?", f"%{app.number}%", f"%{secret}%")
                tx.run("DELETE FROM messages WHERE CAST(replies AS TEXT) LIKE ?", f"%{secret}%")
        for table, column in (("sessions", "state"), ("profiles", "data"), ("subscriptions", "topics"), ("reminders", "payload")):
            tx.run(f"UPDATE {table} SET {column} = ? WHERE channel = ? AND user_id = ?", "{}", channel, user)  # overwritten, then deleted
        for table in ("sessions", "profiles", "consents", "subscriptions", "reminders"):
            self._delete_owned(tx, table, channel, user)
        tx.run("UPDATE users SET display_name = NULL WHERE channel = ? AND user_id = ?", channel, user)
        return len(rows)

    @abstractmethod
    def _scrub(self, tables: tuple[str, ...]) -> None:
        """Makes deleted rows unreadable in the back end's files (old row versions, logs); see the back ends."""

    # -- applications ------------------------------------------------------------------
    @writes
    def submit_application(
        self,
        tx: Tx,
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
        """Creates the application once per idem_key: a repeat returns the stored one and False."""
        now = self.clock()
        by_channel, by_user = filled_by or (None, None)
        row = tx.one(
            "INSERT INTO applications (idem_key, channel, user_id, filled_by_channel, filled_by_user, village, region, "
            "state, data, created_at, updated_at, deadline) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (idem_key) DO NOTHING RETURNING id",
            idem_key, channel, user, by_channel, by_user, village, region, state, _dumps(data), now, now, deadline,
        )
        if row is None:  # an earlier (or concurrent, now committed) submit with this key
            return _application(_required(tx.one("SELECT * FROM applications WHERE idem_key = ?", idem_key))), False
        number = f"SQ{local(now).year}-{row['id']:06d}"  # the Beijing-time year
        tx.run("UPDATE applications SET number = ? WHERE id = ?", number, row["id"])
        actor = ":".join(filled_by or (channel, user))
        self._add_event(tx, number, now, actor, None, state, "submitted")
        return _application(_required(tx.one("SELECT * FROM applications WHERE id = ?", row["id"]))), True

    @reads
    def get_application(self, tx: Tx, number: str) -> Application | None:
        row = tx.one("SELECT * FROM applications WHERE number = ?", number)
        return None if row is None else _application(row)

    @reads
    def list_applications(
        self,
        tx: Tx,
        *,
        user: tuple[str, str] | None = None,
        villages: Iterable[str] | None = None,
        states: Iterable[str] | None = None,
    ) -> list[Application]:
        """Filters combine with AND; None means any. `user` is (channel, user); an empty list matches nothing."""
        channel, user_id = user or (None, None)
        where = Where().equals("channel", channel).equals("user_id", user_id).any_of("village", villages).any_of("state", states)
        return [_application(row) for row in tx.all(f"SELECT * FROM applications{where} ORDER BY id", *where.params)]

    @reads
    def page_applications(
        self, tx: Tx, *, states: Iterable[str], region: str | None = None, villages: Iterable[str] | None = None, risk: str | None = None,
        now: float = 0.0, limit: int = 50, offset: int = 0,
    ) -> tuple[list[Application], int, int]:
        """The console's 待办 page (index applications_console_todo: region, state, deadline, id)."""
        where = Where().equals("region", region).any_of("state", states).any_of("village", villages)
        if risk is not None:
            where.holds("{data_risk} = ?", risk)
        counts = _required(tx.one(f"SELECT COUNT(*) AS total, COUNT(CASE WHEN deadline <= ? THEN 1 END) AS late FROM applications{where}",
                                  now, *where.params))
        rows = tx.all(f"SELECT * FROM applications{where} ORDER BY deadline IS NULL, deadline, id LIMIT ? OFFSET ?", *where.params, limit, offset)
        return [_application(row) for row in rows], int(counts["total"]), int(counts["late"] or 0)

    @writes
    def transition(
        self, tx: Tx, number: str, from_state: str, to_state: str, actor: str, note: str = "", deadline: float | None = None
    ) -> Application | None:
        """Moves the application only if it is still in from_state (else None), and records the move.

        The deadline is replaced (None clears it): a deadline belongs to the state.
        """
        now = self.clock()
        row = tx.one(
            "UPDATE applications SET state = ?, deadline = ?, version = version + 1, updated_at = ? WHERE number = ? AND state = ? RETURNING *",
            to_state,
            deadline,
            now,
            number,
            from_state,
        )
        if row is None:
            return None
        if from_state != to_state:
            self._count_step(tx, row, from_state, now)
        self._add_event(tx, number, now, actor, from_state, to_state, note)
        return _application(row)

    @writes
    def update_application_data(self, tx: Tx, number: str, version: int, data: dict[str, Any], actor: str, note: str = "") -> Application | None:
        """Replaces the data only if nobody changed the application since `version` was read (else None)."""
        return self._replace_data(tx, number, data, actor, note, version)

    def _replace_data(self, tx: Tx, number: str, data: dict[str, Any], actor: str, note: str, version: int | None = None) -> Application | None:
        now = self.clock()
        where = Where().equals("number", number).equals("version", version)
        row = tx.one(f"UPDATE applications SET data = ?, version = version + 1, updated_at = ?{where} RETURNING *", _dumps(data), now, *where.params)
        if row is None:
            return None
        self._add_event(tx, number, now, actor, row["state"], row["state"], note)
        return _application(row)

    def _add_event(self, tx: Tx, number: str, at: float, actor: str, from_state: str | None, to_state: str, note: str) -> None:
        tx.run(
            "INSERT INTO application_events (number, at, actor, from_state, to_state, note) VALUES (?, ?, ?, ?, ?, ?)",
            number, at, actor, from_state, to_state, note,
        )

    def _count_step(self, tx: Tx, app: dict[str, Any], from_state: str, at: float) -> None:
        """A step, counted for 统计 with the time since the application's previous event."""
        previous = tx.one("SELECT at FROM application_events WHERE number = ? ORDER BY id DESC LIMIT 1", app["number"])
        if previous is not None:
            tx.run("INSERT INTO step_counts (region, village, from_state, to_state, grain, n) VALUES (?, ?, ?, ?, ?, 1) "
                   "ON CONFLICT (region, village, from_state, to_state, grain) DO UPDATE SET n = step_counts.n + 1",
                   app["region"] or "", app["village"] or "", from_state, app["state"], round((at - previous["at"]) / STEP_TIME_GRAIN))

    @writes
    def record_event(self, tx: Tx, number: str, actor: str, note: str) -> bool:
        row = tx.one("SELECT state FROM applications WHERE number = ?", number)
        if row is None:
            return False
        self._add_event(tx, number, self.clock(), actor, row["state"], row["state"], note)
        return True

    @reads
    def events(self, tx: Tx, number: str) -> list[ApplicationEvent]:
        rows = tx.all("SELECT * FROM application_events WHERE number = ? ORDER BY id", number)
        return [ApplicationEvent(r["id"], r["number"], r["at"], r["actor"], r["from_state"], r["to_state"], r["note"]) for r in rows]

    @reads
    def entries(
        self, tx: Tx, states: Iterable[str], start: float, end: float, *, region: str | None = None, villages: Iterable[str] | None = None
    ) -> list[tuple[Application, ApplicationEvent]]:
        states = list(states)
        first_moves = Where().holds("at >= ? AND at < ?", start, end).any_of("to_state", states).holds("(from_state IS NULL OR from_state <> to_state)")
        where = Where().holds(f"e.id IN (SELECT MIN(id) FROM application_events{first_moves} GROUP BY number, to_state)", *first_moves.params)
        where.equals("a.region", region).any_of("a.village", villages)
        rows = tx.all(
            "SELECT a.*, e.id AS e_id, e.at AS e_at, e.actor AS e_actor, e.from_state AS e_from, e.to_state AS e_to, e.note AS e_note "
            f"FROM application_events e JOIN applications a ON a.number = e.number{where} ORDER BY e.at, e.id", *where.params,
        )
        return [(_application(r), ApplicationEvent(r["e_id"], r["number"], r["e_at"], r["e_actor"], r["e_from"], r["e_to"], r["e_note"]))
                for r in rows]

    @reads
    def tally_applications(
        self, tx: Tx, column: str, *, region: str | None = None, villages: Iterable[str] | None = None, overdue_at: float | None = None
    ) -> list[tuple[str | None, int]]:
        key = {"state": "state", "village": "village", "risk": "{data_risk}"}[column]
        where = Where().equals("region", region).any_of("village", villages)
        if overdue_at is not None:
            where.holds("deadline <= ?", overdue_at)
        rows = tx.all(f"SELECT {key} AS k, COUNT(*) AS n FROM applications{where} GROUP BY {key} ORDER BY n DESC, k", *where.params)
        return [(r["k"], int(r["n"])) for r in rows]

    @reads
    def step_times(self, tx: Tx, *, region: str | None = None, villages: Iterable[str] | None = None) -> list[tuple[str, str, float, int]]:
        where = Where().equals("region", region).any_of("village", villages)
        rows = tx.all(f"SELECT from_state AS f, to_state AS t, grain, SUM(n) AS n FROM step_counts{where} GROUP BY from_state, to_state, grain",
                      *where.params)
        return [(r["f"], r["t"], float(r["grain"]) * STEP_TIME_GRAIN, int(r["n"])) for r in rows]

    # -- reminders ---------------------------------------------------------------------
    @writes
    def upsert_subscription(self, tx: Tx, channel: str, user: str, topics: Iterable[str]) -> None:
        self._save_owned(tx, "subscriptions", channel, user, "topics", _dumps(list(topics)))

    @reads
    def get_subscription(self, tx: Tx, channel: str, user: str) -> list[str] | None:
        return _loads(self._load_owned(tx, "subscriptions", "topics", channel, user))

    @writes
    def delete_subscription(self, tx: Tx, channel: str, user: str) -> None:
        self._delete_owned(tx, "subscriptions", channel, user)

    @writes
    def schedule_reminder(
        self, tx: Tx, channel: str, user: str, kind: str, payload: dict[str, Any], due_at: float, dedupe_key: str | None = None
    ) -> int | None:
        """Queues a reminder and returns its id; None if one with this dedupe_key was already queued."""
        row = tx.one(
            "INSERT INTO reminders (channel, user_id, kind, payload, due_at, dedupe_key) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
            channel, user, kind, _dumps(payload), due_at, dedupe_key,
        )
        return None if row is None else row["id"]

    @writes
    def claim_due(
        self, tx: Tx, now: float, limit: int, worker: str, lease_seconds: float = DEFAULT_LEASE, resend_unknown: bool = False
    ) -> list[Reminder]:
        """Marks up to `limit` due reminders 'sending' for this worker, oldest first.

        Also takes back claims whose worker's lease ran out before it began a delivery (it died, or
        stalled: its begin_delivery will then fail). A claim whose delivery was begun and whose
        lease ran out may or may not have reached the user: it is settled 'failed' with outcome
        'unknown' and never sent again, unless `resend_unknown` (the channel drops a repeated push
        with the same key), when it is claimed again like any other.
        """
        if not resend_unknown:
            tx.run(
                "UPDATE reminders SET state = 'failed', outcome = 'unknown', lease_until = NULL "
                "WHERE id IN (SELECT id FROM reminders WHERE state = 'sending' AND attempt IS NOT NULL AND lease_until <= ?{skip_locked})",
                now,
            )
        rows = tx.all(
            "UPDATE reminders SET state = 'sending', worker = ?, lease_until = ?, attempts = attempts + 1, attempt = NULL "
            "WHERE id IN (SELECT id FROM reminders "
            "WHERE (state = 'pending' AND due_at <= ?) OR (state = 'sending' AND lease_until <= ?"
            + ("" if resend_unknown else " AND attempt IS NULL")
            + ") ORDER BY due_at, id LIMIT ?{skip_locked}) RETURNING *",
            worker, now + lease_seconds, now, now, limit,
        )
        return sorted(map(_reminder, rows), key=lambda r: (r.due_at, r.id))

    @writes
    def begin_delivery(self, tx: Tx, id: int, worker: str, attempt: str, now: float, lease_seconds: float = DEFAULT_LEASE) -> bool:
        """Records, and commits, that `worker` is about to push reminder `id` (attempt `attempt`); False if the claim is no longer its own.

        Renews this worker's lease: of this reminder, and of its other claims not yet begun whose
        lease is past half (rows a sibling transaction holds are skipped, so no two wait on each other).
        """
        begun = tx.run(
            "UPDATE reminders SET attempt = ?, attempted_at = ?, lease_until = ? "
            "WHERE id = ? AND state = 'sending' AND worker = ? AND attempt IS NULL AND lease_until > ?",
            attempt, now, now + lease_seconds, id, worker, now,
        )
        if begun == 1:
            tx.run(
                "UPDATE reminders SET lease_until = ? WHERE id IN (SELECT id FROM reminders "
                "WHERE state = 'sending' AND worker = ? AND attempt IS NULL AND lease_until > ? AND lease_until < ?{skip_locked})",
                now + lease_seconds, worker, now, now + lease_seconds / 2,
            )
        return begun == 1

    @writes
    def mark_sent(self, tx: Tx, id: int, attempt: str | None = None, message_id: str | None = None) -> bool:
        """Delivered: state 'sent' and the channel's message id, in one statement.

        With `attempt`, only that attempt's row (also one settled 'unknown' meanwhile: the push did
        arrive); without, a claim not begun (callers that do not use begin_delivery).
        """
        return tx.run(
            "UPDATE reminders SET state = 'sent', sent_at = ?, lease_until = NULL, message_id = ?, outcome = NULL "
            "WHERE id = ? AND " + ("attempt = ? AND (state = 'sending' OR outcome = 'unknown')" if attempt else "state = 'sending' AND attempt IS NULL"),
            self.clock(), message_id, id, *([attempt] if attempt else []),
        ) == 1

    @writes
    def mark_failed(self, tx: Tx, id: int, retry_at: float | None, attempt: str | None = None, outcome: str = "gave_up") -> bool:
        """Not delivered: back to the queue at retry_at, or 'failed' for good (with `outcome`) if retry_at is None.

        With `attempt`, only while that attempt is the row's; without, a claim not begun.
        """
        return tx.run(
            "UPDATE reminders SET state = ?, due_at = COALESCE(?, due_at), lease_until = NULL, attempt = NULL, outcome = ? "
            "WHERE id = ? AND state = 'sending' AND " + ("attempt = ?" if attempt else "attempt IS NULL"),
            "failed" if retry_at is None else "pending", retry_at, None if retry_at is not None else outcome, id, *([attempt] if attempt else []),
        ) == 1

    @writes
    def requeue_reminder(self, tx: Tx, id: int, attempt: str, due_at: float) -> bool:
        """Back to the queue at `due_at` without having tried (the quiet hours began): the claim does not count as an attempt."""
        return tx.run(
            "UPDATE reminders SET state = 'pending', due_at = ?, lease_until = NULL, attempt = NULL, attempts = attempts - 1 "
            "WHERE id = ? AND state = 'sending' AND attempt = ?",
            due_at, id, attempt,
        ) == 1

    @reads
    def reminder_counts(self, tx: Tx) -> dict[str, int]:
        """How many reminders are in each state; 'unknown' counts the failed ones whose push may have gone out."""
        rows = tx.all(
            "SELECT CASE WHEN outcome = 'unknown' AND state = 'failed' THEN 'unknown' ELSE state END AS s, COUNT(*) AS n "
            "FROM reminders GROUP BY CASE WHEN outcome = 'unknown' AND state = 'failed' THEN 'unknown' ELSE state END"
        )
        return {row["s"]: int(row["n"]) for row in rows}

    @reads
    def reminder_delivery(self, tx: Tx, id: int) -> dict[str, Any] | None:
        """A reminder's delivery record: state, outcome, attempts, attempt, attempted_at, message_id, sent_at."""
        return tx.one("SELECT state, outcome, attempts, attempt, attempted_at, message_id, sent_at FROM reminders WHERE id = ?", id)


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _without(value: Any, secrets: list[str]) -> Any:
    """A free-text value with each of `secrets` (the applicant's name, numbers) blotted out."""
    if not isinstance(value, str):
        return value
    for secret in secrets:
        value = value.replace(secret, "***")
    return value


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _required(row: dict[str, Any] | None) -> dict[str, Any]:
    if row is None:
        raise LookupError("a row this transaction just wrote is missing")
    return row


def _pair(channel: str | None, user: str | None) -> tuple[str, str] | None:
    return None if channel is None or user is None else (channel, user)


def _user(r: dict[str, Any]) -> User:
    return User(r["channel"], r["user_id"], r["role"], r["region"], json.loads(r["villages"]), r["display_name"], r["created_at"], r["updated_at"])


def _invite(r: dict[str, Any]) -> Invite:
    redeemed_by = _pair(r["redeemed_channel"], r["redeemed_user"])
    return Invite(r["code"], r["role"], r["region"], json.loads(r["villages"]), r["created_at"], r["expires_at"], r["redeemed_at"], redeemed_by)


def _application(r: dict[str, Any]) -> Application:
    return Application(
        r["id"], r["number"], r["idem_key"], r["channel"], r["user_id"], _pair(r["filled_by_channel"], r["filled_by_user"]),
        r["village"], r["region"], r["state"], json.loads(r["data"]), r["created_at"], r["updated_at"], r["version"], r["deadline"],
    )


def _reminder(r: dict[str, Any]) -> Reminder:
    return Reminder(
        r["id"], r["channel"], r["user_id"], r["kind"], json.loads(r["payload"]), r["due_at"], r["state"], r["attempts"],
        r["dedupe_key"], r["worker"], r["lease_until"], r["sent_at"],
    )
