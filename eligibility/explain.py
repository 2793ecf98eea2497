"""A measure's conditions in words, for answering one question: what the measure requires
("年龄不低于18岁、年龄加贷款年限不超过65"), and, for the facts a question stated, whether they
meet it and which requirement they fail ("不符合：要不是特困供养人员").

The words come from the household model (`say`, `label` and `unit` in policy_kb/facts.yaml) and the
parameters' figures for the day, so a changed figure or a new fact needs no change here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from policy_kb.conditions import UNPUBLISHED, All, AnyMember, AnyOf, Leaf, Node, Not
from policy_kb.facts import fact_model
from policy_kb.topics import number

AUDIENCE = frozenset({"household.monitored"})  # who the 明白纸 speaks to; said once, apart
_COMPARE_WORDS = {"ge": "不低于", "gt": "超过", "le": "不超过", "lt": "低于"}


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the stated facts say about a measure: holds True/False/None, the requirements they fail,
    the stated facts that meet it, and the requirements still open."""

    holds: bool | None
    failing: tuple[str, ...]
    met: tuple[str, ...]
    open: tuple[str, ...]


def _value(leaf: Leaf, params: dict[str, Any]) -> Any:
    if leaf.param is None:
        return leaf.operand
    value = params.get(leaf.param)
    return None if value is UNPUBLISHED else value


def requirement(node: Node, params: dict[str, Any]) -> str:
    """What a condition asks, in words."""
    if isinstance(node, Leaf):
        return _leaf_text(node, params)
    if isinstance(node, Not):
        return f"{requirement(node.child, params)}的除外"
    if isinstance(node, AnyMember):
        inner = requirement(node.child, params)
        return f"家里没有人{being(inner)}" if node.negate else f"家里有人{being(inner)}"
    if isinstance(node, AnyOf):
        return "或".join(requirement(c, params) for c in node.children)
    if isinstance(node, All):
        return "、".join(requirement(c, params) for c in node.children if not (c.facts <= AUDIENCE))
    return ""


_WHO_ONE_IS = ("户", "人员", "对象", "家庭", "孤儿", "儿童", "军人", "老人")
_SAYS_A_VERB = ("家里", "有", "没", "不", "是", "在", "想", "能", "已")


def being(wanted: str) -> str:
    """"是低保户", "是一级或二级残疾": a condition that names what someone is takes 是 after 如果 or
    家里有人; "有残疾证", "想找工作", "家里有人…" do not."""
    if wanted.startswith(_SAYS_A_VERB):
        return wanted
    first = re.split(r"[或、（(]", wanted, maxsplit=1)[0]
    return f"是{wanted}" if first.endswith(_WHO_ONE_IS) or wanted.split("（")[0].endswith("级残疾") else wanted


def _leaf_text(leaf: Leaf, params: dict[str, Any]) -> str:
    model = fact_model()
    specs = [model.get(p) for p in leaf.paths]
    label = "加".join(s.label if s else p for s, p in zip(specs, leaf.paths, strict=True))
    spec = specs[0]
    value = _value(leaf, params)
    if leaf.op in _COMPARE_WORDS:
        if value is None:
            return f"{label}符合当地标准（文件没公布今年的数）"
        unit = spec.unit if spec else ""  # a sum is in the unit of its first addend: 年龄加贷款期限不超过65岁
        if leaf.of:
            other = model.get(leaf.of)
            return f"{label}{_COMPARE_WORDS[leaf.op]}{other.label if other else leaf.of}的{number(float(value))}%"  # a share in per cent, as the engine reads it
        return f"{label}{_COMPARE_WORDS[leaf.op]}{number(float(value))}{unit}"
    if spec is None:
        return label
    if leaf.op == "is":
        return spec.phrase(bool(value))
    if leaf.op in ("eq", "in"):
        values = value if isinstance(value, list) else [value]
        if spec.say_any and set(values) == set(spec.values[1:]):
            return spec.say_any
        return spec.phrase("或".join(map(str, values))) if spec.say else f"{label}是{'或'.join(map(str, values))}"
    if leaf.op in ("ne", "not_in"):
        values = value if isinstance(value, list) else [value]
        if spec.say_any and values == [spec.values[0]]:
            return spec.say_any
        if len(values) == 1 and (said := dict(spec.say_not).get(str(values[0]))):
            return said  # "有劳动能力", not "就业情况不是无劳动能力"
        return f"{label}不是{'或'.join(map(str, values))}"
    if leaf.op in ("contains", "contains_any"):
        values = value if isinstance(value, list) else [value]
        return f"{label}有{'或'.join(map(str, values))}"
    return label


@dataclass(frozen=True, slots=True)
class Bound:
    """A limit on one fact that follows from a sum condition and the facts stated: 年龄加贷款年限不超过
    65 with age 58 gives 贷款年限最多7年; with age unknown, `ask` names it."""

    path: str
    text: str  # "" while the other addends are unknown
    ask: str  # the fact to ask first, or ""


def bounds(node: Node, household: dict, member: dict, params: dict[str, Any]) -> list[Bound]:
    """For each sum condition (`fact: [a, b], le: …`) among the measure's requirements, the limit on
    its last addend given the others."""
    model = fact_model()
    out: list[Bound] = []
    for part in conditions(node):
        if not (isinstance(part, Leaf) and len(part.paths) > 1 and part.op in ("le", "lt")):
            continue
        limit = _value(part, params)
        if limit is None:
            continue
        *others, target = part.paths
        known = [(household if p.startswith("household.") else member).get(p.split(".", 1)[1]) for p in others]
        spec = model.get(target)
        if spec is None:
            continue
        missing = [p for p, v in zip(others, known, strict=True) if v is None]
        if missing:
            out.append(Bound(target, "", missing[0]))
            continue
        most = float(limit) - sum(float(v) for v in known) - (1 if part.op == "lt" and spec.type == "int" else 0)
        said = "、".join(model.get(p).phrase(v) for p, v in zip(others, known, strict=True) if model.get(p))  # type: ignore[union-attr]
        text = f"按{said}，{spec.label}最多{number(max(0.0, most))}{spec.unit}（{requirement(part, params)}）" if most >= 0 \
            else f"按{said}，已经超过了（{requirement(part, params)}）"
        out.append(Bound(target, text, ""))
    return out


def conditions(node: Node) -> list[Node]:
    """The measure's requirements one by one (the parts of its top-level `all`), without the audience."""
    parts = node.children if isinstance(node, All) else [node]
    return [p for p in parts if not (p.facts <= AUDIENCE)]


def verdict(node: Node, household: dict, member: dict, params: dict[str, Any]) -> Verdict:
    """The measure for the facts a question stated; the audience (监测对象) is left out: it is said apart."""
    h = {"monitored": True, **household}
    members = [member]
    failing: list[str] = []
    met: list[str] = []
    open_: list[str] = []
    for part in conditions(node):
        value = part.ev(h, member, params, members)
        text = requirement(part, params)
        (failing if value is False else met if value is True else open_).append(text)
    holds = False if failing else (None if open_ else True)
    return Verdict(holds, tuple(failing), tuple(met), tuple(open_))
