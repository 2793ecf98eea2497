"""Applications as rows for `bot.py admin export`: everything a county office tabulates, numbers masked."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from foundation.clock import last_day_of, local
from foundation.privacy import mask_id, mask_phone, mask_text
from storage.records import Application
from workflow.access import PROXY_CHANNEL
from workflow.model import Workflow

COLUMNS = ("number", "state", "state_label", "region", "village", "created", "updated", "deadline", "name", "phone", "id_number",
           "size", "income", "income_per_head", "risk", "risk_detail", "filled_by_cadre", "confirmed_by_applicant")


def row(app: Application, workflow: Workflow) -> dict[str, Any]:
    d = app.data
    return {
        "number": app.number, "state": app.state, "state_label": workflow.states[app.state].label,
        "region": app.region, "village": app.village,
        "created": local(app.created_at).strftime("%Y-%m-%d %H:%M"), "updated": local(app.updated_at).strftime("%Y-%m-%d %H:%M"),
        "deadline": last_day_of(app.deadline).isoformat() if app.deadline else "",
        "name": d.get("name") or "", "phone": mask_phone(d.get("phone")), "id_number": mask_id(d.get("id_number")),
        "size": d.get("size"), "income": d.get("income"), "income_per_head": d.get("income_per_head"),
        "risk": d.get("risk"), "risk_detail": mask_text(d.get("risk_detail") or ""),
        "filled_by_cadre": app.filled_by is not None, "confirmed_by_applicant": app.channel != PROXY_CHANNEL or bool(d.get("account")),
    }


def export(apps: list[Application], workflow: Workflow, fmt: str) -> str:
    rows = [row(a, workflow) for a in apps]
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=1)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
