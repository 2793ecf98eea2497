"""`bot.py kb check`: validate the knowledge base and summarise it."""

from __future__ import annotations

import time
from collections import Counter

from policy_kb.loader import load_kb
from policy_kb.model import CATEGORIES, KnowledgeBase
from policy_kb.yamlio import KBError


def summary(kb: KnowledgeBase) -> list[str]:
    """Measures per category and region: own measures of each region, then what applies there."""
    lines = []
    regions = list(kb.regions.values())
    header = "类别".ljust(10) + "".join(r.name.ljust(8) for r in regions)
    lines.append("各地区适用的措施数（★必须/●可选）：")
    lines.append(header)
    for category in CATEGORIES:
        row = category.ljust(10 - len(category) + len(category))
        cells = []
        for region in regions:
            measures = [m for m in kb.views[region.id].measures if m.category == category]
            star = sum(m.mandatory for m in measures)
            cells.append(f"{star}★{len(measures) - star}●".ljust(8))
        lines.append(f"{row:<8}" + "".join(cells))
    totals = "".join(f"{len(kb.views[r.id].measures)}".ljust(8) for r in regions)
    lines.append(f"{'合计':<8}" + totals)
    own = Counter(m.region for m in kb.all_measures())
    lines.append("各文件自有措施：" + "，".join(f"{kb.regions[r].name} {n} 项" for r, n in own.items()))
    params = {p.id for v in kb.views.values() for p in v.parameters.values()}
    lines.append(f"参数 {len(params)} 个；文件来源 {len(kb.sources)} 份；默认地区：{kb.regions[kb.default_region].name}")
    return lines


def register(sub) -> None:
    kb = sub.add_parser("kb", help="知识库工具")
    kb_sub = kb.add_subparsers(dest="kb_command", required=True)
    kb_sub.add_parser("check", help="校验知识库并打印摘要").set_defaults(func=lambda args: run_check())


def run_check() -> int:
    started = time.perf_counter()
    try:
        kb = load_kb()
    except KBError as exc:
        print(f"知识库有错误：{exc}")
        return 1
    elapsed = (time.perf_counter() - started) * 1000
    print(f"知识库校验通过（{elapsed:.0f} 毫秒）。")
    for line in summary(kb):
        print(line)
    return 0
