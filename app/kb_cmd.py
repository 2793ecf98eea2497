"""`bot.py kb check`: validate the knowledge base and summarise it."""

from __future__ import annotations

import time
import unicodedata
from collections import Counter

from foundation.datafile import DataFileError
from policy_kb.loader import load_kb
from policy_kb.model import CATEGORIES, KnowledgeBase


def pad(text: str, width: int) -> str:
    """Pad to a terminal width: Chinese characters take two columns."""
    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(0, width - used)


def summary(kb: KnowledgeBase) -> list[str]:
    """Measures per category and region (★ mandatory / ● optional as the 明白纸 marks them,
    ◇ the county's and township's own, which have no such marks), then each file's own."""
    regions = list(kb.regions.values())
    first, cell = 18, 12
    lines = ["各地区适用的措施数（★必须/●可选：明白纸；◇县乡文件自己的措施）：", pad("类别", first) + "".join(pad(r.name, cell) for r in regions)]
    for category in CATEGORIES:
        cells = []
        for region in regions:
            measures = [m for m in kb.views[region.id].measures if m.category == category]
            marks = Counter(m.mandatory for m in measures)
            cells.append(pad(f"{marks[True]}★{marks[False]}●{marks[None]}◇", cell))
        lines.append(pad(category, first) + "".join(cells))
    lines.append(pad("合计", first) + "".join(pad(str(len(kb.views[r.id].measures)), cell) for r in regions))
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
    except DataFileError as exc:
        print(f"知识库有错误：{exc}")
        return 1
    elapsed = (time.perf_counter() - started) * 1000
    print(f"知识库校验通过（{elapsed:.0f} 毫秒）。")
    for line in summary(kb):
        print(line)
    return 0
