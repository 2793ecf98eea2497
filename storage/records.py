"""Plain records the store returns. Times are Unix seconds (float), the same in every back end."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ROLES = ("villager", "cadre", "township", "county", "admin")
REMINDER_STATES = ("pending", "sending", "sent", "failed")
# Keys of an application's data that identify the applicant; blanked by delete_personal_data.
PERSONAL_FIELDS = ("name", "phone", "id_number")


@dataclass(frozen=True, slots=True)
class User:
    channel: str
    user: str
    role: str
    region: str | None
    villages: list[str]
    display_name: str | None
    created_at: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class Invite:
    code: str
    role: str
    region: str | None
    villages: list[str]
    created_at: float
    expires_at: float | None
    redeemed_at: float | None
    redeemed_by: tuple[str, str] | None  # (channel, user)


@dataclass(frozen=True, slots=True)
class Application:
    id: int
    number: str  # e.g. SQ2026-000123
    idem_key: str
    channel: str
    user: str
    filled_by: tuple[str, str] | None  # (channel, user) of whoever filled it in for the applicant (代填)
    village: str | None
    region: str | None
    state: str
    data: dict[str, Any]
    created_at: float
    updated_at: float
    version: int
    deadline: float | None


@dataclass(frozen=True, slots=True)
class ApplicationEvent:
    id: int
    number: str
    at: float
    actor: str
    from_state: str | None  # None for the submission itself
    to_state: str
    note: str


@dataclass(frozen=True, slots=True)
class Reminder:
    id: int
    channel: str
    user: str
    kind: str
    payload: dict[str, Any]
    due_at: float
    state: str
    attempts: int
    dedupe_key: str | None
    worker: str | None
    lease_until: float | None
    sent_at: float | None
