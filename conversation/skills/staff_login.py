"""后台登录: a one-time link to the staff web console (channels/web/), asked for in the chat.

The link carries a random token valid for `LINK_TTL` seconds; the store keeps only its hash (kv,
with that ttl), and the console takes a kv_lock on the hash when the link is used, so it opens
one session once. Only staff (cadre, township, county) get a link; a villager is told why not.
`bot.py admin login-link` issues the same link from the command line.
Reader: the words of staff_login.yaml.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from pathlib import Path

from conversation.context import Context
from conversation.messages import Reply
from conversation.skill import Outcome, Skill
from foundation.datafile import load_data
from foundation.text import clean
from storage.base import Store
from workflow.access import Actor

TEXTS_FILE = Path(__file__).with_name("staff_login.yaml")
LINK_TTL = 600.0  # ten minutes
DEFAULT_BASE_URL = "http://127.0.0.1:8080/console/"


def base_url() -> str:
    """Where the console is reached from outside (CONSOLE_BASE_URL), always ending in /."""
    url = os.environ.get("CONSOLE_BASE_URL", "").strip() or DEFAULT_BASE_URL
    return url if url.endswith("/") else url + "/"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_key(digest: str) -> str:
    return f"console:login:{digest}"


def issue_login_link(store: Store, actor: Actor, now: float, url: str | None = None) -> str | None:
    """A fresh one-time login link for `actor`, or None if they are not staff."""
    if not actor.staff:
        return None
    token = secrets.token_urlsafe(32)
    record = {"channel": actor.channel, "user": actor.user, "expires_at": now + LINK_TTL}
    store.kv_set(link_key(token_hash(token)), json.dumps(record), LINK_TTL)
    return f"{url or base_url()}login?t={token}"


def _texts() -> dict:
    return dict(load_data(TEXTS_FILE))


def login_command(ctx: Context, said: str) -> Outcome | None:
    texts = _texts()
    if clean(said) not in texts["words"]:
        return None
    link = issue_login_link(ctx.store, ctx.actor, ctx.services.clock.now())
    if link is None:
        return Outcome([Reply(texts["not_staff"])])
    return Outcome([Reply(texts["link"].format(url=link, minutes=int(LINK_TTL // 60)))])


SKILL = Skill(name="staff_login", readers=(login_command,))
