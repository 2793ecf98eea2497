"""`bot.py entitlements household.yaml`: what a household is entitled to, in Chinese or JSON."""

from __future__ import annotations

import datetime as dt
import json

from eligibility.engine import Engine
from eligibility.household import load_household
from eligibility.report import result_json, result_text
from foundation.clock import Clock
from foundation.datafile import DataFileError
from policy_kb.loader import default_kb


def parse_date(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise SystemExit(f"日期格式不对：{text!r}，请写成 YYYY-MM-DD") from None


def register(sub) -> None:
    ent = sub.add_parser("entitlements", help="计算一户家庭可享受的政策")
    ent.add_argument("household", help="家庭 YAML 文件")
    ent.add_argument("--region", help="地区（如 博罗县 或 boluo）")
    ent.add_argument("--date", help="按哪天的政策计算，YYYY-MM-DD，默认今天")
    ent.add_argument("--json", action="store_true", help="输出 JSON")
    ent.set_defaults(func=lambda a: run_entitlements(a.household, a.region, a.date, a.json))


def run_entitlements(path: str, region: str | None, date: str | None, as_json: bool) -> int:
    on = parse_date(date) or Clock().today()  # today in Beijing time, whatever the server's zone
    try:
        kb = default_kb()
        household = load_household(path)
        region_id = kb.resolve_region(region or household.region).id
    except DataFileError as exc:
        print(f"错误：{exc}")
        return 2
    except KeyError as exc:
        names = "、".join(r.name for r in kb.regions.values())
        print(f"错误：不认识的地区 {exc}，可选：{names}")
        return 2
    result = Engine(kb).evaluate(household, region_id, on)
    if as_json:
        print(json.dumps(result_json(result), ensure_ascii=False, indent=2))
    else:
        labels = [household.member_label(i) for i in range(len(household.members or []))]
        print(result_text(result, labels, kb.view(region_id).parameters))
    return 0
