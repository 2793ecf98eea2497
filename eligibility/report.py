"""Entitlement results as Chinese text (for people) and as JSON-ready dicts (for programs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eligibility.engine import (
    AUDIENCE,
    AmountResult,
    Entitlement,
    Result,
    Undecided,
    expiry_warning,
    format_date,
    format_number,
    reason_text,
)
from eligibility.explain import being, bounds, conditions, requirement
from eligibility.household import Household
from policy_kb.conditions import PARAM_PREFIX, Leaf, Missing, Not
from policy_kb.facts import fact_model
from policy_kb.model import Measure, Ref, Source


def citation(ref: Ref, sources: dict[str, Source], quote: bool = True) -> str:
    source = sources[ref.source]
    number = f"（{source.number}）" if source.number else ""
    date = f"，{source.date_label}" if source.date_label else ""
    text = f"《{source.title}》{number}{date}，{ref.section}"
    return f"{text}：“{ref.quote}”" if quote else text


def amount_text(amount: AmountResult) -> str:
    """"初中寄宿：750元/生/学期（每年1500元，2024年春季起）"."""
    yearly = amount.per_year
    extras = []
    if yearly is not None and amount.period != "year":
        extras.append(f"每年{format_number(yearly)}元")
    if amount.date_text:
        extras.append(amount.date_text)
    extra = f"（{'，'.join(extras)}）" if extras else ""
    return f"{amount.label}：{amount.text}{extra}"


def amount_lines(measure: Measure, amounts: list[AmountResult], sources: dict[str, Source], indent: str = "") -> list[str]:
    """An amount per line; its note under it; its own source where it is not the measure's sentence."""
    lines = []
    for amount in amounts:
        lines.append(f"{indent}金额：{amount_text(amount)}")
        if amount.note:
            lines.append(f"{indent}  说明：{amount.note}")
        if amount.ref is not None and amount.ref.source != measure.source.source:
            lines.append(f"{indent}  依据：{citation(amount.ref, sources)}")
    return lines


def missing_label(item: Missing, member_labels: list[str], kb_parameters: dict | None = None) -> str:
    index, path = item
    if path == "household.members":
        return "家庭成员情况"
    if path.startswith(PARAM_PREFIX):
        parameter = (kb_parameters or {}).get(path[len(PARAM_PREFIX):])
        return parameter.label if parameter is not None else path[len(PARAM_PREFIX):]
    spec = fact_model().get(path)
    label = spec.label if spec else path
    if index is not None and index < len(member_labels):
        return f"{member_labels[index]}的{label}"
    return label


def kind_label(measure: Measure, sources: dict[str, Source]) -> str:
    """★必须落实 / ●可以争取 for the 明白纸; the document's name for a county's or township's own measure."""
    if measure.mandatory is None:
        return sources[measure.source.source].title
    return "必须落实" if measure.mandatory else "可以争取"


def entitlement_lines(e: Entitlement, sources: dict[str, Source], number: int, show_warnings: bool = True) -> list[str]:
    who = f" —— {e.member_label}" if e.member_label else ""
    lines = [f"{number}. {e.measure.mark}{e.measure.title}{who}", f"   内容：{e.measure.gives}"]
    lines += amount_lines(e.measure, e.amounts, sources, "   ")
    why = e.why
    if why:
        lines.append(f"   原因：{why}")
    lines.append(f"   怎么办：{e.measure.how_to_apply}")
    lines.append(f"   负责：{'、'.join(e.measure.responsible)}")
    lines.append(f"   依据：{citation(e.measure.source, sources, quote=False)}")
    if e.measure.notes:
        lines.append(f"   说明：{e.measure.notes}")
    if show_warnings:
        lines.extend(f"   {w}" for w in e.warnings)
    return lines


def undecided_line(u: Undecided, member_labels: list[str], parameters: dict) -> str:
    """"老人（72岁）：申请纳入特困供养——要看：符合特困供养条件（由乡镇民政部门认定）"."""
    who = f"{u.member_label}：" if u.member_label else ""
    needs = []
    model = fact_model()
    for item in u.missing:
        spec = model.get(item[1])
        label = missing_label(item, member_labels, parameters)
        if spec is not None and spec.judged_by:
            label += f"（由{spec.judged_by}认定）"
        elif item[1].startswith(PARAM_PREFIX):
            value = parameters[item[1][len(PARAM_PREFIX):]].values[-1]
            label += f"（{value.unknown}）" if value.unknown else ""
        needs.append(label)
    return f"{who}{u.measure.mark}{u.measure.title}——要看：{'、'.join(dict.fromkeys(needs))}"


def result_blocks(result: Result, member_labels: list[str], skipped: tuple[str, ...] | list[str] = (),
                  parameters: dict | None = None) -> list[str]:
    """A household's entitlements as blocks of text, ★ first, each measure one block; the CLI
    prints them, the chat packs them into messages. `skipped` are facts the user could not give.
    An expired document's warning is said once, at the top, naming its measures."""
    mandatory = [e for e in result.entitlements if e.measure.mandatory is True]
    county = [e for e in result.entitlements if e.measure.mandatory is None]
    optional = [e for e in result.entitlements if e.measure.mandatory is False]
    head = [f"{result.region.name} · 按{format_date(result.date)}的政策：必须落实（★）{len(mandatory)} 项，"
            f"县乡文件的措施 {len(county)} 项，可以争取（●）{len(optional)} 项。"]
    if not result.entitlements:
        head.append("按现有信息，暂时没有确定能享受的措施。")
    total = result.per_year_total
    if total:
        head.append(f"按学期、按年发的补助，合计每年约{format_number(total)}元（不含一次性、封顶类和比例类）。")
    expired: dict[str, list[str]] = {}
    for e in result.entitlements:
        for source in e.expired:
            expired.setdefault(source, []).append(e.measure.title)
    for source, titles in expired.items():
        head.append(f"注意：{expiry_warning(result.sources[source])}涉及：{'、'.join(dict.fromkeys(titles))}。")
    blocks = ["\n".join(head)]
    number = 0
    for title, group in (("★ 必须落实", mandatory), ("县乡文件的措施", county), ("● 可以争取", optional)):
        if group:
            blocks.append(f"{title}（{len(group)} 项）")
        for e in group:
            number += 1
            lines = entitlement_lines(e, result.sources, number, show_warnings=False)
            if e.measure_ended:
                lines += [f"   {w}" for w in e.warnings]
            blocks.append("\n".join(lines))
    unsure = [missing_label(m, member_labels, parameters) for m in result.deciding_facts]
    if unsure or skipped:
        blocks.append("还需要核实：" + "、".join(dict.fromkeys([*unsure, *skipped])) + "。请找结对帮扶人或村干部确认。")
    return blocks


# -- the compact result: what a phone shows first ---------------------------------------------------
PHONE_CHARS = 600  # a WeChat screen
MANY_NUMBERS = 5  # more item numbers than this are said the short way
NEAR_MISSES = 3  # "差一点" lines in the first message, more while the screen has room
NEAR_MISSES_MOST = 6
NEAR_MISS_TITLES = 4
LABEL_CHARS = 14  # an amount's label short enough to show beside its measure's title
HOUSEHOLD_LINE = 60  # a household item longer than this with its figures shows its title (figures on request)
NEAR_MISSES_KEPT = 2  # "差一点" lines that keep their room when items say what they give
# Whom a document is for (监测对象, 低保户…): a reason every household of the kind has, not this family's own.
STATUSES = frozenset({"household.monitored", "household.dibao", "household.tekun_household", "household.poverty_alleviated",
                      "member.relation"})
# Who someone is and what they do: facts every family has, so an item they open (督促参保 for a farmer)
# is no more this family's than any other's. What follows from the family's own situation (残疾,
# 留守, 想创业, 住院) is said.
EVERYDAY = frozenset({"member.age", "member.work_status", "member.work_place", "member.insurance", "member.school_stage",
                      "member.school_year", "member.boarding", "member.can_farm", "member.months_away", "member.outside_county",
                      "member.works_away", "household.has_earner"})
SITUATIONS = frozenset({"自主创业", "失业", "无劳动能力"})  # values of those facts that are a situation of their own


def _short_unit(unit: str) -> str:
    """"元/生/学期" reads "元/学期" on a phone line; the details keep the text's unit."""
    return unit.replace("/生", "").replace("/人", "")


def amount_brief(amount: AmountResult) -> str:
    number = format_number(amount.value) + _short_unit(amount.unit)
    return {"cap": f"最高{number}", "floor": f"最低{number}"}.get(amount.kind, number)


def item_brief(e: Entitlement) -> str:
    """"教育助学补贴750元/学期" or, with several amounts, "教育助学补贴（全日制中职1000元/期、雨露计划1500元/期）"."""
    if not e.amounts:
        return e.measure.title
    if len(e.amounts) == 1:
        label = e.amounts[0].label
        # A measure with one amount line: its label says what the figure is ("外出期间电话、微信沟通").
        # With several, the line was picked by the member's facts, which the member's line already shows.
        # A programme's own name (雨露计划) is what the family applies for, so it is always said.
        named = any(line.named for line in e.measure.amounts if line.parameter == e.amounts[0].parameter)
        if (named or len(e.measure.amounts) == 1) and label and label not in e.measure.title and e.measure.title not in label \
                and len(label) <= LABEL_CHARS:
            return f"{e.measure.title}（{label}{amount_brief(e.amounts[0])}）"  # 远程随访（外出期间电话、微信沟通最低1次）
        return f"{e.measure.title}{amount_brief(e.amounts[0])}"
    return f"{e.measure.title}（{'、'.join(f'{a.label}{amount_brief(a)}' for a in e.amounts)}）"


def member_brief(household: Household, index: int) -> str:
    """"儿子（14岁，初中住校）": who the line is about, in the words that matter for it."""
    member = (household.members or [])[index]
    label = household.member_label(index)
    parts = []
    if member.get("age") is not None:
        parts.append(f"{member['age']}岁")
    stage = member.get("school_stage")
    if stage not in (None, "不在读"):
        parts.append(f"{stage}{'住校' if member.get('boarding') is True else ''}")
    elif stage == "不在读" and member.get("age") is not None and member["age"] < 18:
        parts.append("没上学")
    elif member.get("work_status") not in (None, "上学", "其他"):
        place = member.get("work_place")
        parts.append(f"{place}{member['work_status']}" if place and member["work_status"] == "务工" else str(member["work_status"]))
    if member.get("disability") not in (None, "无"):
        parts.append(f"{member['disability']}残疾")
    if member.get("tekun"):
        parts.append("特困")
    if member.get("orphan"):
        parts.append("孤儿")  # read from "爸妈都去世了": shown, so it can be corrected
    return f"{label}（{'，'.join(parts)}）" if parts else label


def _short_label(household: Household, index: int) -> str:
    """"子女（13岁）", or "子女（小学）" when no age was told: enough to tell two children apart."""
    member = (household.members or [])[index]
    age, stage = member.get("age"), member.get("school_stage")
    if age is not None:
        return f"{household.member_label(index)}（{age}岁）"
    return f"{household.member_label(index)}（{stage}）" if stage not in (None, "不在读") else household.member_label(index)


@dataclass(frozen=True, slots=True)
class Item:
    """One numbered item of a result: the entitlement it shows (the first of them when several
    members get it alike) and whom the line names."""

    e: Entitlement
    who: str  # "户主（务工）", "每人", "子女（13岁）、子女（9岁）", "全家"


def numbered_items(result: Result) -> tuple[list[Item], list[Item]]:
    """The items numbered in the order the chat shows them, so the numbers on a phone run 1, 2, 3:
    each member's own ★ and county items, those several members get alike (said once), the
    household's, then the ● ones ("更多"), those that follow from what was said first."""
    household = result.household
    firm = [e for e in result.entitlements if e.measure.mandatory is not False]
    optional = [e for e in result.entitlements if e.measure.mandatory is False]
    order = {None: 10_000}
    firm.sort(key=lambda e: (order.get(e.member, e.member), e.measure.rank))  # type: ignore[arg-type]
    alike: dict[tuple[str, str], list[Entitlement]] = {}
    for e in firm:
        if e.member is not None:
            alike.setdefault((e.measure.id, item_brief(e)), []).append(e)
    shared = {key: group for key, group in alike.items() if len(group) > 1}
    own = [Item(e, member_brief(household, e.member)) for e in firm
           if e.member is not None and (e.measure.id, item_brief(e)) not in shared]
    own.sort(key=lambda item: item.e.member)  # type: ignore[arg-type, return-value]
    lines: dict[str, list[Item]] = {}  # the same people's items next to each other, on one line
    for group in shared.values():
        everyone = len(group) == len(household.members or [])
        who = "每人" if everyone else "、".join(_short_label(household, e.member) for e in group)  # type: ignore[arg-type]
        lines.setdefault(who, []).append(Item(group[0], who))
    together = [item for items in lines.values() for item in items]
    whole = [Item(e, "全家") for e in firm if e.member is None]
    optional.sort(key=lambda e: not e.reasons)  # stable: the ones that follow from what was said first
    more = [Item(e, e.member_label or "全家") for e in optional]
    return [*own, *together, *whole], more


def requirement_of(measure: Measure, path: str, params: dict, household: dict | None = None, member: dict | None = None,
                   members: list | None = None) -> str:
    """What the part of a measure's condition that reads `path` and is still open asks, in words
    ("年龄不超过59岁" when 年满16 is already known)."""
    parts = [p for p in conditions(measure.when) if path in p.facts]
    if household is not None:
        parts = [p for p in parts if p.ev(household, member, params, members) is None] or parts
    return requirement(parts[0], params) if parts else ""


def near_misses(result: Result, parameters: dict, limit: int = NEAR_MISSES, mentioned: frozenset[str] = frozenset()) -> list[str]:
    """"差一点": measures one fact away, each with that fact, the same fact for several members said
    once ("户主、配偶如果医疗保险不是职工医保，还能享受城乡居民医保资助参保（50%）"); first those that
    read what was told (a medical bill for 再救助), one fact away before two, then ★, those with an
    amount, those the description named, the money at stake, how many it concerns."""
    model = fact_model()
    groups: dict[tuple[str, str], dict] = {}
    for u in result.undecided:
        missing = [m for m in u.missing if m[1] != "household.members"]
        if any((spec := model.get(m[1])) is not None and spec.type == "set" for m in missing):
            continue  # not "if someone falls ill"
        if not (len(missing) == 1 or len(missing) == 2 and u.measure.id in mentioned):
            continue  # 差一点 is one fact away; two for what the description named ("想申请小额信贷": 劳动能力 and 年限)
        said = list(dict.fromkeys(_wanted(u, path) for _, path in missing))
        wanted = "、".join(w for w in said if not w.startswith("按"))
        if limits := [w for w in said if w.startswith("按")]:  # "按45岁，贷款期限最多20年…，如果有劳动能力"
            wanted = "，".join(limits + ([f"如果{being(wanted)}"] if wanted else []))
        title = u.measure.title + _amounts_for(u, parameters)
        mandatory, paid = u.measure.mandatory is not False, bool(u.measure.amounts)
        group = groups.setdefault((wanted, title), {"who": [], "rank": (_reads_stated(u), len(missing) == 1, mandatory, paid,
                                                                        u.measure.id in mentioned, _money(u.measure, parameters))})
        who = u.member_label if u.member is not None else ""
        if who and who not in group["who"]:
            group["who"].append(who)
    ranked = sorted(groups.items(), key=lambda kv: (*(not flag for flag in kv[1]["rank"][:5]), -kv[1]["rank"][5], -len(kv[1]["who"])))
    lines = []
    by_want: dict[tuple[str, str], list[str]] = {}
    for (wanted, title), group in ranked:
        key = ("、".join(group["who"]), wanted)
        if key not in by_want and len(by_want) >= limit:
            continue
        by_want.setdefault(key, []).append(title)
    for (who, wanted), titles in by_want.items():
        more = ""
        if len(titles) > NEAR_MISS_TITLES:  # one fact that opens many: the first few, and how many more
            titles, more = titles[:NEAR_MISS_TITLES], f"等{len(titles)}项"
        if wanted == "当地今年公布的标准":
            lines.append(f"{who}{'：' if who else ''}{'、'.join(titles)}{more}要看当地今年公布的标准。")
        else:
            lead = f"{who}{wanted}，" if wanted.startswith("按") else f"{who}如果{being(wanted)}，"
            lines.append(f"{lead}还能享受{'、'.join(titles)}{more}。")
    return lines


def _wanted(u: Undecided, path: str) -> str:
    """What one open fact of a near miss would have to be, in words ("按63岁，贷款期限最多2年")."""
    if path.startswith(PARAM_PREFIX):
        return "当地今年公布的标准"
    spec = fact_model().get(path)
    judged = f"（由{spec.judged_by}认定）" if spec is not None and spec.judged_by else ""
    members = u.household.members
    member = members[u.member] if u.member is not None and members else {}
    bound = next((b for b in bounds(u.measure.when, u.household.facts, member or {}, u.params) if b.path == path and b.text), None)
    if bound is not None:
        return bound.text  # "按63岁，贷款期限最多2年（年龄加贷款期限不超过65）"
    said = requirement_of(u.measure, path, u.params, u.household.facts, member, members) or (spec.label if spec else path)
    if said.endswith("的除外"):
        said = f"不是{said.removesuffix('的除外')}"  # after 如果: "不是低保户", not "低保户的除外"
    return said + judged


def _reads_stated(u: Undecided) -> bool:
    """Whether the measure's condition or its amounts read something the household told, beyond who
    it is for: such a near miss is about this family (a stated bill for 再救助, a stated 二级残疾 for
    the 100% premium), not one any family could have."""
    members = u.household.members or []
    member = members[u.member] if u.member is not None and u.member < len(members) else {}
    paths = u.measure.when.facts.union(*(line.when.facts for line in u.measure.amounts if line.when is not None)) - AUDIENCE
    for path in paths:
        scope, _, name = path.partition(".")
        if (scope == "household" and name in u.household.facts) or (scope == "member" and name in member):
            return True
    return False


def _amounts_for(u: Undecided, parameters: dict) -> str:
    """The figures an undecided measure would give this member ("（监测对象50%）"), from the amount
    lines the known facts already select."""
    members = u.household.members
    member = members[u.member] if u.member is not None and members else None
    found: list[tuple[float, str]] = []
    for line in u.measure.amounts:
        if line.when is not None and line.when.ev(u.household.facts, member, u.params, members) is not True:
            continue
        parameter, value = parameters.get(line.parameter), u.params.get(line.parameter)
        if parameter is None or not isinstance(value, int | float):
            continue
        number = format_number(value) + _short_unit(parameter.unit)
        number = (line.label if line.named else "") + {"cap": f"最高{number}", "floor": f"最低{number}"}.get(parameter.kind, number)
        found.append((float(value), number))
    if u.measure.pick == "highest" and found:  # 就高不重复: the one figure they would get
        found = [max(found)]
    texts = [t for t in dict.fromkeys(text for _, text in found) if t not in u.measure.title]  # not "100%推荐（100%）"
    return f"（{'、'.join(texts)}）" if texts and len(texts) <= 2 else ""


def _money(measure: Measure, parameters: dict) -> float:
    values = []
    for line in measure.amounts:
        parameter = parameters.get(line.parameter)
        if parameter is not None and parameter.unit.startswith("元") and parameter.values and parameter.values[-1].value:
            values.append(float(parameter.values[-1].value))
    return max(values, default=0.0)


def _which(numbers: list[int], items: int) -> str:
    """"第3、5项", or for most of the list "除第13项外的各项", or "全部各项": short on a phone."""
    if len(numbers) == items:
        return "全部各项"
    others = [n for n in range(1, items + 1) if n not in numbers]
    if len(numbers) > MANY_NUMBERS and len(others) < len(numbers):
        return f"除第{'、'.join(map(str, others))}项外的各项"
    return f"第{'、'.join(map(str, numbers))}项"


def _brief_or_title(e: Entitlement) -> str:
    brief = item_brief(e)
    return brief if len(brief) <= HOUSEHOLD_LINE else e.measure.title


def _item_lines(firm: list[Item]) -> list[tuple[str, list[str]]]:
    """"户主（务工）", ["1.★外出务工一次性交通补贴最高400元", …]: a member's or several members'
    items on one line; the household's one line each."""
    out: list[tuple[str, list[str]]] = []
    for number, item in enumerate(firm, 1):
        e = item.e
        not_given = "".join(f"（{text.rstrip('。')}）" for text in e.ruled_out) if e.member is not None else ""  # why a figure is missing, once
        text = f"{number}.{e.measure.mark}{_brief_or_title(e)}{not_given}"
        if out and out[-1][0] == item.who and item.who != "全家":
            out[-1][1].append(text)
        else:
            out.append((item.who, [text]))
    return out


EXCLUDED_LINES = 2
GIVES_LINES = 3  # "第N项：…" lines, the items the description named first


def _excluded_lines(result: Result) -> list[str]:
    """"不享受：子女（20岁，大专）城乡居民养老保险全额资助（在校生除外）": a money measure one stated
    limit keeps from a member, with the limit, so the cadre can tell the family why."""
    lines = []
    household = result.household
    for x in result.excluded[:EXCLUDED_LINES]:
        part, parameters = x.part, x.params
        if isinstance(part, Not):
            why = f"{requirement(part.child, parameters)}的除外"
        elif isinstance(part, Leaf) and part.op == "eq":
            why = "在校生除外"
        elif isinstance(part, Leaf) and len(part.paths) > 1:
            member = (household.members or [])[x.member]
            found = next((b.text for b in bounds(part, household.facts, member, parameters) if b.text), "")
            why = found or f"要{requirement(part, parameters)}"
        else:
            why = f"要{requirement(part, parameters)}"
        lines.append(f"不享受：{member_brief(household, x.member)}{x.measure.title}（{why}）")
    return lines


def _own_reasons(e: Entitlement) -> list[str]:
    """The reasons that are this family's own situation, not who they are or what they do
    (自主创业 and 失业 are; 务工 and 务农 every family has)."""
    household, members = e.household.facts, e.household.members or []
    out = []
    for who, path in e.reasons:
        scope, name = path.split(".", 1)
        value = (household if who is None else members[who]).get(name) if scope == "member" or who is None else None
        if path in STATUSES or path in EVERYDAY and value not in SITUATIONS:
            continue
        out.append(path)
    return out


def _what_they_give(items: list[Item], room: int, mentioned: frozenset[str]) -> list[str]:
    """"第2项：进城稳定就业的，可在就业地申请公租房，实物保障或租赁补贴。": what the items that
    follow from this family's own situation (a wish to start a business, a stay in hospital) or
    that the description named give, while the screen has room; the named first. One any
    household of its kind gets waits for its number."""
    picked = []
    for number, item in enumerate(items, 1):
        own = _own_reasons(item.e)
        named = item.e.measure.id in mentioned
        gives = item.e.measure.gives
        # an item with figures says them on its line; its text only when it adds no figure (不设封顶线)
        if (named or own) and gives and not (item.e.amounts and any(c.isdigit() for c in gives)):
            picked.append((not named, item.e.measure.mandatory is True, -len(own), number, gives))
    out: list[str] = []
    for *_, number, gives in sorted(picked)[:GIVES_LINES]:
        line = f"第{number}项：{gives}"
        if len(line) + 1 > room:
            continue
        out.append(line)
        room -= len(line) + 1
    return out


def compact_result(result: Result, parameters: dict, limit: int = PHONE_CHARS, mentioned: frozenset[str] = frozenset()) -> str:
    """The first result message: a header, one line per member with that member's ★ items, the
    household's ★ items, where to look next, and "差一点" — at most `limit` characters (lines
    that do not fit are counted, not cut)."""
    firm, optional = numbered_items(result)
    stars = sum(1 for item in firm if item.e.measure.mandatory)
    county = len(firm) - stars
    head = f"{result.region.name} · {format_date(result.date)}：★必须落实{stars}项"
    head += f"，县乡文件{county}项" if county else ""
    head += f"，●可以争取{len(optional)}项"
    total = result.per_year_total
    head += f"；按学期、按年发的合计每年约{format_number(total)}元。" if total else "。"
    lines = [head]
    expired: dict[str, list[int]] = {}
    for number, item in enumerate([*firm, *optional], 1):
        for source in item.e.expired:
            expired.setdefault(source, []).append(number)
    items = len(firm) + len(optional)
    for source, numbers in expired.items():
        which = "" if len(numbers) == items else f"（{_which(numbers, items)}）"
        lines.append(f"注意：{expiry_warning(result.sources[source])}{which}")
    for source in dict.fromkeys(u.measure.source.source for u in result.undecided):  # said of the 差一点 too
        if source not in expired and result.sources[source].expired_on(result.date):
            lines.append(f"注意：{expiry_warning(result.sources[source])}")
    if not result.entitlements:
        lines.append("按现有情况，暂时没有确定能享受的措施。")
    for who, texts in _item_lines(firm):
        lines.append(f"{who}：{'；'.join(texts)}")
    lines += _excluded_lines(result)
    # ● items that follow from what was said (临时救助 for a big medical bill) are named; the ones every
    # monitored household has (政策宣传) wait for "更多".
    specific = [(number, item) for number, item in enumerate(optional, len(firm) + 1) if item.e.reasons or item.e.measure.id in mentioned]
    if specific:
        lines.append("可以争取：" + "；".join(f"{number}.{_brief_or_title(item.e)}" for number, item in specific))
    rest = len(optional) - len(specific)
    tail = "回复编号看怎么办" + (f"；回复“更多”看全部{len(optional)}项可以争取的●" if rest else "") + "。"
    misses = near_misses(result, parameters, limit=NEAR_MISSES_MOST, mentioned=mentioned)
    kept_for = len(tail) + sum(len(m) + 4 for m in misses[:NEAR_MISSES_KEPT]) + 2  # the first 差一点 lines keep their room
    lines += _what_they_give([*firm, *optional], limit - len("\n".join(lines)) - kept_for, mentioned)
    body = "\n".join(lines)
    if len(body) + len(tail) + 1 > limit:  # too many items for a screen: keep whole lines, count the rest
        kept: list[str] = []
        for line in lines:
            if len("\n".join([*kept, line])) + len(tail) + 40 > limit:
                break
            kept.append(line)
        hidden = len(lines) - len(kept)
        body = "\n".join(kept) + f"\n（还有{hidden}行，回复“全部”看）"
    text = f"{body}\n{tail}"
    for n, miss in enumerate(misses):  # as many "差一点" lines as the screen holds
        line = ("差一点：" if n == 0 else "") + miss
        if len(text) + len(line) + 1 > limit or n >= NEAR_MISSES and len(text) > limit * 2 // 3:
            break
        text += "\n" + line
    return text


def all_items_text(result: Result) -> str:
    """Every item, numbered as in the chat, one line each (回复“全部”)."""
    firm, optional = numbered_items(result)
    return "\n".join(f"{number}.{item.e.measure.mark}{item.who}：{item_brief(item.e)}"
                     for number, item in enumerate([*firm, *optional], 1))


def more_text(result: Result) -> str:
    """The ● items (回复“更多”), numbered after the ★ ones."""
    firm, optional = numbered_items(result)
    if not optional:
        return "没有可以争取的●项目了。"
    lines = ["可以争取（●，看家里情况）："]
    for number, item in enumerate(optional, len(firm) + 1):
        lines.append(f"{number}.{item.who}：{item_brief(item.e)}")
    lines.append("回复编号看怎么办。")
    return "\n".join(lines)


def item_detail(item: Item, number: int, sources: dict[str, Source], quote: bool = False) -> str:
    """"怎么办 3": what it is, the amounts with their dates and notes, why, how to apply, who, where
    it is written (the quote on request: "原文 3")."""
    e = item.e
    who = f"（{item.who}）" if item.who != "全家" else ""
    lines = [f"{number}. {e.measure.mark}{e.measure.title}{who}"]
    lines += amount_lines(e.measure, e.amounts, sources)
    if e.why:
        lines.append(f"原因：{e.why}")
    lines.append(f"怎么办：{e.measure.how_to_apply}")
    lines.append(f"负责：{'、'.join(e.measure.responsible)}")
    lines.append(f"依据：{citation(e.measure.source, sources)}" if quote
                 else f"依据：{citation(e.measure.source, sources, quote=False)}（回复“原文 {number}”看原文）")
    if e.measure_ended:
        lines.extend(e.warnings)
    return "\n".join(lines)


def item_source(e: Entitlement, number: int, sources: dict[str, Source]) -> str:
    """"原文 3": the sentence the measure rests on, and each amount's own sentence."""
    lines = [f"{number}. {e.measure.title}", citation(e.measure.source, sources)]
    for ref in dict.fromkeys(a.ref for a in e.amounts if a.ref is not None and a.ref != e.measure.source):
        lines.append(citation(ref, sources))
    return "\n".join(lines)


def result_text(result: Result, member_labels: list[str], parameters: dict | None = None) -> str:
    """The CLI's text: the phone's first message (without its length limit), then every item's
    details as the chat gives them on request, ★ first, and the facts still to check."""
    params = parameters or {}
    blocks = [compact_result(result, params, limit=100_000).rsplit("\n回复编号看怎么办", 1)[0]]
    firm, optional = numbered_items(result)
    groups = (("★ 必须落实", [i for i in firm if i.e.measure.mandatory]), ("县乡文件的措施", [i for i in firm if i.e.measure.mandatory is None]),
              ("● 可以争取", optional))
    numbers = {id(item): n for n, item in enumerate([*firm, *optional], 1)}
    for title, group in groups:
        if group:
            blocks.append(f"{title}（{len(group)} 项）\n" + "\n".join(
                item_detail(item, numbers[id(item)], result.sources, quote=True) for item in group))
    unsure = [missing_label(m, member_labels, params) for m in result.deciding_facts]
    if unsure:
        blocks.append("还需要核实：" + "、".join(dict.fromkeys(unsure)) + "。")
    return "\n\n".join(blocks)


def result_json(result: Result) -> dict[str, Any]:
    def ref(r: Ref | None) -> dict[str, Any] | None:
        if r is None:
            return None
        source = result.sources[r.source]
        return {"source": r.source, "file": source.file, "title": source.title, "section": r.section,
                "quote": r.quote, "date": source.date_label}

    def amount(a: AmountResult) -> dict[str, Any]:
        return {"label": a.label, "parameter": a.parameter, "value": a.value, "unit": a.unit, "period": a.period,
                "kind": a.kind, "per_year": a.per_year, "text": a.text, "since": a.since.isoformat(), "date_text": a.date_text,
                "note": a.note, "ref": ref(a.ref), "expired": list(a.expired)}

    return {
        "region": result.region.id,
        "region_name": result.region.name,
        "date": result.date.isoformat(),
        "entitlements": [
            {"measure": e.measure.id, "title": e.measure.title, "category": e.measure.category,
             "mandatory": e.measure.mandatory, "member": e.member, "member_label": e.member_label,
             "amounts": [amount(a) for a in e.amounts], "per_year": e.per_year, "why": e.why,
             "reasons": [{"member": i, "fact": f} for i, f in e.reasons],
             "gives": e.measure.gives, "how_to_apply": e.measure.how_to_apply,
             "responsible": list(e.measure.responsible), "source": ref(e.measure.source), "warnings": list(e.warnings)}
            for e in result.entitlements
        ],
        "undecided": [
            {"measure": u.measure.id, "title": u.measure.title, "member": u.member,
             "missing": [{"member": i, "fact": f} for i, f in u.missing], "judged_by": u.judged_by}
            for u in result.undecided
        ],
        "deciding_facts": [{"member": i, "fact": f} for i, f in result.deciding_facts],
        "per_year_total": result.per_year_total,
    }


__all__ = ["Item", "all_items_text", "amount_brief", "amount_lines", "amount_text", "citation", "compact_result", "entitlement_lines",
           "item_brief", "item_detail", "item_source", "kind_label", "member_brief", "missing_label", "more_text", "near_misses",
           "numbered_items", "reason_text", "result_blocks", "result_json", "result_text", "undecided_line"]
