"""Login links, sessions, CSRF tokens and opaque application ids of the web console.

* A login link (conversation/skills/staff_login.py issues it) is used once: the console takes a
  kv_lock on the token's hash (held longer than the link lives) and voids the stored record, so a
  second use, even a concurrent one, finds the lock taken. Only hashes are stored.
* A session is a random id in an HttpOnly, SameSite=Strict cookie (Secure behind HTTPS); the store
  keeps its hash (kv) with the account, the CSRF token and the last request's time, and forgets
  it after IDLE seconds without a request. The role is not in the session: it is read again from
  the store on every request (workflow.access.actor_of).
* Application numbers never appear in URLs: `Refs` turns SQ2026-000123 into an authenticated,
  encrypted token (HMAC-SHA256 synthetic IV and keystream) that reveals neither the number nor how
  many applications exist, and is the same for every process sharing the store's secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass

from conversation.skills.staff_login import LINK_TTL, link_key, token_hash
from foundation.clock import Clock
from storage.base import Store

IDLE = 30 * 60.0  # a session ends after 30 minutes without a request
SESSION_COOKIE = "console_session"
PRE_COOKIE = "console_login"  # the login form's CSRF token, before there is a session
USED_LOCK_TTL = LINK_TTL * 6  # a used link stays used well past its own expiry
SECRET_KEY = "console:secret"
TAG_BYTES = 9


@dataclass(frozen=True, slots=True)
class Session:
    key: str  # the kv key (hash of the cookie's id)
    channel: str
    user: str
    csrf: str
    last: float


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class Auth:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    # -- login links --------------------------------------------------------------------------
    def redeem(self, token: str) -> tuple[str, str] | str:
        """The (channel, user) a login link was issued to, or why it opens nothing: "login_used"
        (a second use) or "login_invalid" (unknown, expired, malformed)."""
        if not token or len(token) > 100:
            return "login_invalid"
        digest = token_hash(token)
        if not self.store.kv_lock(f"console:login_used:{digest}", USED_LOCK_TTL):
            return "login_used"
        raw = self.store.kv_get(link_key(digest))
        self.store.kv_set(link_key(digest), "", USED_LOCK_TTL)  # void, whatever it was
        if not raw:
            return "login_invalid"
        record = json.loads(raw)
        if record["expires_at"] <= self.clock.now():
            return "login_invalid"
        return record["channel"], record["user"]

    # -- sessions -----------------------------------------------------------------------------
    def open_session(self, channel: str, user: str) -> str:
        """A new session; returns the cookie's value (only its hash is stored)."""
        sid = secrets.token_urlsafe(32)
        record = {"channel": channel, "user": user, "csrf": secrets.token_urlsafe(24), "last": self.clock.now()}
        self.store.kv_set(self._key(sid), json.dumps(record), IDLE)
        return sid

    def session(self, sid: str | None) -> Session | None:
        """The session of this cookie if it is still alive; each call counts as activity."""
        if not sid or len(sid) > 100:
            return None
        key = self._key(sid)
        raw = self.store.kv_get(key)
        if not raw:
            return None
        record = json.loads(raw)
        now = self.clock.now()
        if now - record["last"] > IDLE:
            self.store.kv_set(key, "", 1)
            return None
        record["last"] = now
        self.store.kv_set(key, json.dumps(record), IDLE)
        return Session(key, record["channel"], record["user"], record["csrf"], now)

    def close(self, session: Session) -> None:
        self.store.kv_set(session.key, "", 1)

    def _key(self, sid: str) -> str:
        return f"console:session:{_digest(sid)}"

    # -- the secret behind refs ---------------------------------------------------------------
    def secret(self) -> bytes:
        """CONSOLE_SECRET, else one made once and kept in the store (shared by every process)."""
        configured = os.environ.get("CONSOLE_SECRET", "").strip()
        if configured:
            return configured.encode()
        stored = self.store.kv_get(SECRET_KEY)
        if not stored:
            if self.store.kv_lock(SECRET_KEY + ":init", 30):
                stored = self.store.kv_get(SECRET_KEY) or secrets.token_hex(32)
                self.store.kv_set(SECRET_KEY, stored)
            else:  # another process is making it right now
                for _ in range(50):
                    stored = self.store.kv_get(SECRET_KEY)
                    if stored:
                        break
                    time.sleep(0.05)
                stored = stored or secrets.token_hex(32)
        return stored.encode()


def same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


class Refs:
    """Application number <-> opaque URL id (deterministic, authenticated, encrypted)."""

    def __init__(self, secret: bytes) -> None:
        self._mac = hmac.new(secret, b"console-ref-mac", hashlib.sha256).digest()
        self._enc = hmac.new(secret, b"console-ref-enc", hashlib.sha256).digest()
        self._cache: dict[str, str] = {}

    def _stream(self, tag: bytes, length: int) -> bytes:
        out, counter = b"", 0
        while len(out) < length:
            out += hmac.new(self._enc, tag + counter.to_bytes(4, "big"), hashlib.sha256).digest()
            counter += 1
        return out[:length]

    def _tag(self, plain: bytes) -> bytes:
        return hmac.new(self._mac, plain, hashlib.sha256).digest()[:TAG_BYTES]

    def ref(self, number: str) -> str:
        cached = self._cache.get(number)
        if cached is None:
            plain = number.encode()
            tag = self._tag(plain)
            sealed = bytes(a ^ b for a, b in zip(plain, self._stream(tag, len(plain)), strict=True))
            cached = base64.urlsafe_b64encode(tag + sealed).decode().rstrip("=")
            if len(self._cache) < 100_000:
                self._cache[number] = cached
        return cached

    def number(self, ref: str) -> str | None:
        if not ref or len(ref) > 80:
            return None
        try:
            raw = base64.urlsafe_b64decode(ref + "=" * (-len(ref) % 4))
        except (ValueError, TypeError):
            return None
        tag, sealed = raw[:TAG_BYTES], raw[TAG_BYTES:]
        if len(tag) < TAG_BYTES or not sealed:
            return None
        plain = bytes(a ^ b for a, b in zip(sealed, self._stream(tag, len(sealed)), strict=True))
        if not hmac.compare_digest(tag, self._tag(plain)):
            return None
        try:
            number = plain.decode()
        except UnicodeDecodeError:
            return None
        return number if self.ref(number) == ref else None  # one spelling per id (base64's spare bits)
