"""Who is asking, and what they may see and do.

A villager sees only their own applications (and those a cadre filled in for them once they
confirmed them); a cadre only those of their villages; township and county reviewers those of
their region; an admin everything. Roles come from one-time invite codes (`bot.py admin invite`).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from foundation.text import normalize_width
from storage.base import Store
from storage.records import Application, Invite

PROXY_CHANNEL = "proxy"  # owner channel of an application a cadre filled in (代填), until the villager confirms it
CODE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I or O: they read as 1 and 0
INVITE_IN_TEXT = re.compile(r"^(?:邀请码)?\s*[:：]?\s*([A-Za-z]{4})\s*[-－—]?\s*(\d{4})$")
_VILLAGE_TAIL = re.compile(r"(村民委员会|村委会|村委)$")
_PUNCT = re.compile(r"[\s,.，。、;；:：!！?？\"'“”]+")


@dataclass(frozen=True, slots=True)
class Actor:
    channel: str
    user: str
    role: str = "villager"
    region: str | None = None
    villages: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        """How the audit log names the actor."""
        return f"{self.channel}:{self.user}"

    @property
    def staff(self) -> bool:
        return self.role in ("cadre", "township", "county")


def actor_of(store: Store, channel: str, user: str) -> Actor:
    record = store.get_user(channel, user)
    if record is None:
        return Actor(channel, user)
    return Actor(channel, user, record.role, record.region, tuple(record.villages))


def normalize_village(text: str) -> str:
    """One spelling per village, so "金墩", "金墩村" and "金墩村委会" match: ends in 村 unless it is a 社区 or 组."""
    name = _VILLAGE_TAIL.sub("村", _PUNCT.sub("", normalize_width(text)))
    if name and not name.endswith(("村", "社区", "组", "居委会")):
        name += "村"
    return name


def applicant_account(app: Application) -> tuple[str, str] | None:
    """The chat account of the applicant: the owner, or for 代填 the villager who confirmed it."""
    if app.channel != PROXY_CHANNEL:
        return app.channel, app.user
    account = app.data.get("account")
    if not account:
        return None
    channel, user = str(account).split(":", 1)
    return channel, user


def is_applicant(actor: Actor, app: Application) -> bool:
    return applicant_account(app) == (actor.channel, actor.user)


def in_scope(actor: Actor, app: Application) -> bool:
    """May `actor` see `app` because of their role (not as its applicant)?"""
    if actor.role == "admin":
        return True
    if actor.role == "cadre":  # a village is known by its county: two counties may both have a 金墩村
        return actor.region is not None and app.region == actor.region and app.village in actor.villages
    if actor.role in ("township", "county"):
        return actor.region is not None and app.region == actor.region
    return False


def can_see(actor: Actor, app: Application) -> bool:
    """The applicant, staff whose scope covers it, and the cadre who filled it in while they are still a cadre."""
    filled_it = actor.role == "cadre" and app.filled_by == (actor.channel, actor.user)
    return is_applicant(actor, app) or in_scope(actor, app) or filled_it


def scope_filter(actor: Actor) -> dict[str, Any] | None:
    """`in_scope` as store filters (region, villages) for queries that count or join in the
    database; None when the role covers nothing."""
    if actor.role == "admin":
        return {}
    if actor.region is None or actor.role not in ("cadre", "township", "county"):
        return None
    return {"region": actor.region, "villages": list(actor.villages)} if actor.role == "cadre" else {"region": actor.region}


def scoped_applications(store: Store, actor: Actor, states: list[str] | None = None) -> list[Application]:
    """The applications `actor`'s role covers (villages or region), optionally only in `states`."""
    if actor.role == "cadre":
        apps = store.list_applications(villages=list(actor.villages), states=states)
    elif actor.role in ("township", "county", "admin"):
        apps = store.list_applications(states=states)
    else:
        return []
    return [a for a in apps if in_scope(actor, a)]


def new_invite_code() -> str:
    """ABCD-1234: easy to read out over the phone and to type on a phone keyboard."""
    letters = "".join(secrets.choice(CODE_LETTERS) for _ in range(4))
    return f"{letters}-{secrets.randbelow(10_000):04d}"


def invite_code_in(text: str) -> str | None:
    """The code if the whole message is one ("邀请码 ABCD-1234", "abcd1234"), in its canonical form."""
    match = INVITE_IN_TEXT.match(normalize_width(text).strip())
    return f"{match.group(1).upper()}-{match.group(2)}" if match else None


def create_invite(store: Store, role: str, villages: list[str], region: str | None, expires_at: float | None) -> Invite:
    """A fresh code; picks another in the unlikely case that one is taken. Every role but admin
    needs a region: a village is only known by its county."""
    if region is None and role != "admin":
        raise ValueError("an invite for a village or a region role needs the region")
    while True:
        invite = store.create_invite(role, [normalize_village(v) for v in villages], region, new_invite_code(), expires_at)
        if invite is not None:
            return invite
