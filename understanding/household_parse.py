"""A whole household described in a message or two -> household facts and members.

People describe a family person by person, with or without punctuation ("帮我看下王大姐家，她家是
监测户。她老公在外省工地上干活，儿子十四岁读初二住校，女儿在读中职一年级"). Every word for a person
(lexicon_data/persons.yaml) starts that person's part of the text, and the facts in the part are
that person's (understanding/entities.py); statuses of the household (低保, 监测户, 危房, income)
belong to the household wherever they are said. A word for a person right before another is a
possessive ("她老公", "我儿子"): the second is the person. "两个老的" are two people; "一个读初中一个
读小学" after it fills them in turn. A bare 他/她 goes on about the person before. Nobody is merged
into someone else or made up: each person word is one member, the head (我, or the 王大姐 of
"王大姐家") only once.

The text read here is canonical (after the lexicon).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from foundation import checks
from foundation.datafile import DataFileError, load_data
from understanding.entities import Entities, extract
from understanding.numerals import to_digits
from understanding.places import Place, load_gazetteer

PERSONS_FILE = Path(__file__).parent / "lexicon_data" / "persons.yaml"
HEAD = "户主"
GRANDPARENT_AGE = 60  # a 父母 this old, told of beside school children, is their grandparent
# A possessive chain: the relation to the head of "X's Y".
CHAINS = {("子女", "子女"): "孙子女", ("子女", "配偶"): "儿媳", ("配偶", "父母"): "父母", ("户主", "父母"): "父母",
          ("孙子女", "父母"): "子女"}
CHAINS_UNMARKED = {("子女", "配偶"), ("配偶", "父母"), ("孙子女", "父母")}  # possessive without 的: 儿子老婆, 老公爸妈
_AND = re.compile(r"^[和跟与同、]$|^还有$")  # "我和老公…": the first shares what is said of the second
_CLAUSE_MARKS = "，,。；;"
_ABOUT_AN_AGE = re.compile(r"^[，,\s]*(?:今年|已经|都)?[一二三四五六七八九十\d]{1,3}(?:多|几|来)岁?")
# Grandparents named from the child's side after a child, when the head's parents were already told of.
_REFERS_BACK = re.compile(r"(?:跟|和|同|由|给|靠|陪)着?$")
_ELDERS_OF_A_CHILD = {"祖父母": "父母"}
_ALL_OF_THEM = re.compile(r"[，,]\s*(?=都|全)")  # "一个读高三一个读初二，都住校": the tail is said of them all
_ASIDE = re.compile(r"[（(][^）)]*[）)]")  # "小儿子（孙子的叔叔）": who someone is, said again, is nobody new
_PRONOUN = re.compile(r"(?<!其)(?:她|他|佢)(?:们)?")  # not 其他 (the others)
_ENUMERATION = re.compile(r"(?:另外一个|另一个|一个是|一个)(?=[^个])")
_ANOTHER = re.compile(r"(?:一个|另一个|还有个|又一个|另外一个|个)$")  # "一个子女…一个子女": two people
_ONESELF = ("本人", "自己", "自个")
_PUPIL = ("幼儿园", "小学", "初中")  # stages nobody heads a household in
_SAID_OF = re.compile(r"(?:是|读|当|成了|考上)$")
_EACH_OF_THEM = re.compile(r"均|都|全都")
_TOGETHER = re.compile(r"^[，, ]*(?:今年|现在|也|已经)?[都全均]")
_COUNT = re.compile(r"([两二三四五2-5])(?:个|名|位)|(俩)个?")
_NOT_NAMES = ("我们", "你们", "他们", "她们", "咱们", "我", "你", "他", "她", "这", "那", "自己", "大家", "人")


@dataclass(frozen=True, slots=True)
class Persons:
    words: tuple[tuple[str, str], ...]  # (word, relation), longest first
    groups: tuple[tuple[str, tuple[str, ...]], ...]  # (word, the relations of the people it names)
    address: tuple[re.Pattern, ...]
    alone: tuple[str, ...]
    all_home: tuple[str, ...]
    object_verbs: tuple[str, ...]
    not_names: frozenset[str]
    died: re.Pattern
    left: re.Pattern
    students: frozenset[str]
    others: re.Pattern
    nobody: tuple[str, ...]  # "冇得崽女": a person word after these names nobody


@lru_cache(maxsize=1)
def load_persons(path: Path = PERSONS_FILE) -> Persons:
    f = str(path)
    data = checks.mapping(load_data(path), f, 1, path.name)
    checks.keys(data, f, path.name, ("relations", "groups", "address", "alone", "all_home", "object_verbs", "not_names", "gone", "students", "others", "nobody"))
    gone = checks.mapping(data["gone"], f, data.line_of("gone"), "gone")
    checks.keys(gone, f, "gone", ("died", "left"))
    relations = checks.mapping(data["relations"], f, data.line_of("relations"), "relations")
    words: dict[str, str] = {}
    for relation in relations:
        for word in checks.text_list(relations, relation, f, f"relations {relation}"):
            if word in words:
                raise DataFileError(f, relations.line_of(relation), f"'{word}' 同时是 {words[word]} 和 {relation}")
            words[word] = str(relation)
    groups: list[tuple[str, tuple[str, ...]]] = []
    raw_groups = checks.sequence(data["groups"], f, data.line_of("groups"), "groups")
    for i, raw in enumerate(raw_groups):
        raw = checks.mapping(raw, f, raw_groups.line_of(i), "group")
        checks.keys(raw, f, "group", ("words", "relations"))
        relations = tuple(checks.text_list(raw, "relations", f, "group relations", 2))
        unknown = [r for r in relations if r not in relations_of(words)]
        if unknown:
            raise DataFileError(f, raw.line_of("relations"), f"group 的关系 {unknown} 不在 relations 里")
        for word in checks.text_list(raw, "words", f, "group words"):
            groups.append((word, relations))
    address = []
    for expression in checks.text_list(data, "address", f, "address"):
        try:
            address.append(re.compile(expression))
        except re.error as exc:
            raise DataFileError(f, data.line_of("address"), f"address 的正则 '{expression}' 写错了：{exc}") from exc
    return Persons(tuple(sorted(words.items(), key=lambda wr: -len(wr[0]))), tuple(sorted(groups, key=lambda g: -len(g[0]))),
                   tuple(address), tuple(checks.text_list(data, "alone", f, "alone")), tuple(checks.text_list(data, "all_home", f, "all_home")),
                   tuple(checks.text_list(data, "object_verbs", f, "object_verbs")),
                   frozenset(checks.text_list(data, "not_names", f, "not_names")),
                   *(re.compile("|".join(map(re.escape, checks.text_list(gone, key, f, f"gone {key}", 1)))) for key in ("died", "left")),
                   frozenset(checks.text_list(data, "students", f, "students")),
                   re.compile("|".join(map(re.escape, checks.text_list(data, "others", f, "others", 1)))),
                   tuple(checks.text_list(data, "nobody", f, "nobody", 1)))


@dataclass(slots=True)
class Described:
    household: dict[str, Any] = field(default_factory=dict)
    members: list[dict[str, Any]] = field(default_factory=list)
    size: int | None = None
    region: str | None = None

    @property
    def empty(self) -> bool:
        """Nothing said about anyone: a bare "我" or "我爸" with no fact describes no household."""
        return not self.household and self.size is None and not any(len(m) > 1 for m in self.members)

    @property
    def people(self) -> int:
        return 0 if self.empty else len(self.members)


@dataclass(slots=True)
class _Mention:
    start: int
    end: int
    relation: str  # "" for a pronoun, "enum" for "一个…" filling a group
    count: int = 1
    name: str = ""
    relations: tuple[str, ...] = ()  # a group's people, when they differ (两公婆)
    owner: str = ""  # whose the person is ("孙子的爸妈": 孙子女)
    cared_for: bool = False  # right after 带/照顾: someone looked after, a member only if nobody so named was yet


def _mentions(text: str, persons: Persons, head_name: str) -> list[_Mention]:
    """Person words left to right, the longest at each place; possessives folded into the next;
    nothing inside brackets."""
    found: list[_Mention] = []
    asides = [(m.start(), m.end()) for m in _ASIDE.finditer(text)]
    # Only where some person word could start is worth a look (most of a message is none).
    starts = sorted({m.start() for m in _starts(persons).finditer(text)}
                    | ({i for i in range(len(text)) if text.startswith(head_name, i)} if head_name else set()))
    position = 0
    i = 0
    while position < len(starts):
        i = starts[position]
        position += 1
        if i < (found[-1].end if found else 0):
            continue
        if any(start <= i < end for start, end in asides):
            continue
        mention = None
        if head_name and text.startswith(head_name, i):
            mention = _Mention(i, i + len(head_name), HEAD, name=head_name)
        if mention is None:
            for word, relations in persons.groups:
                if text.startswith(word, i):
                    mention = _Mention(i, i + len(word), relations[0], len(relations), relations=relations)
                    break
        if mention is None and (m := _COUNT.match(text, i)):
            for word, relation in persons.words:
                if text.startswith(word, m.end()) and relation != HEAD:
                    mention = _Mention(i, m.end() + len(word), relation, 2 if m.group(2) else int(to_digits(m.group(1)).replace("两", "2")))
                    break
        if mention is None:
            for word, relation in persons.words:
                if text.startswith(word, i) and not text.startswith("们", i + len(word)):  # 我们 is no one person
                    mention = _Mention(i, i + len(word), relation)
                    break
        if mention is None and (m := _PRONOUN.match(text, i)) and not m.group(0).endswith("们"):
            mention = _Mention(i, m.end(), "")
        if mention is None and found and any(f.count > 1 for f in found) and (m := _ENUMERATION.match(text, i)):
            mention = _Mention(i, m.end(), "enum")
        if mention is None or (text[mention.start:mention.end] in persons.students and _SAID_OF.search(text[:i])):
            continue  # "儿子是大学生": what the son is, nobody new
        if mention.relation not in ("", "enum") and text[:i].endswith(persons.nobody):
            continue  # "冇得崽女", "没有老伴": nobody
        mention.cared_for = mention.relation not in ("", "enum", HEAD) and bool(_cares(persons).search(text[:i]))
        found.append(mention)
    # "她老公", "我儿子", "儿子的女儿", "儿子老婆": a person word followed at once by another is a
    # possessive; "儿子儿媳", "爷爷奶奶" side by side are two people.
    folded: list[_Mention] = []
    for mention in found:
        between = text[folded[-1].end:mention.start] if folded else None
        if folded and between == "" and text[mention.start:mention.end] in _ONESELF and folded[-1].relation not in ("", "enum"):
            folded[-1].end = mention.end  # "孩子本人有残疾证": the child
            continue
        if folded and mention.relation not in ("", "enum") and between in ("", "的", "家", "家的") and (
                between or folded[-1].relation in ("", HEAD) or (folded[-1].relation, mention.relation) in CHAINS_UNMARKED):
            owner = folded.pop()
            whose = owner.relation
            if whose == "" and folded and folded[-1].relation not in ("", "enum"):
                whose = folded[-1].relation  # "孙子读初二，他爸妈在外省": 他 is the grandson
            if whose not in ("", HEAD, "enum"):
                mention.relation = CHAINS.get((whose, mention.relation), mention.relation)
                mention.relations = tuple(CHAINS.get((whose, r), r) for r in mention.relations)
            mention.start, mention.owner = owner.start, whose
        folded.append(mention)
    return folded


@lru_cache(maxsize=1)
def _cares(persons: Persons) -> re.Pattern:
    """"带孙子", "照顾着个娃": the text before someone looked after ends so."""
    return re.compile(f"(?:{'|'.join(map(re.escape, persons.object_verbs))})(?:着|了)?(?:一个|一|个)?$")


def relations_of(words: dict[str, str]) -> set[str]:
    return set(words.values())


@lru_cache(maxsize=1)
def _starts(persons: Persons) -> re.Pattern:
    words = sorted({w for w, _ in persons.words} | {w for w, _ in persons.groups}, key=len, reverse=True)
    return re.compile("(?=" + "|".join([*map(re.escape, words), _PRONOUN.pattern, _COUNT.pattern, _ENUMERATION.pattern]) + ")")


def _head_name(text: str, persons: Persons) -> str:
    """王大姐 in "王大姐家", 老周 in "五保户老周，…" — never a word for a relation (老伴, 老人)."""
    relation_words = {w for w, _ in persons.words}
    for pattern in persons.address:
        for m in pattern.finditer(text):
            name = m.group(1)
            if name in persons.not_names or name in relation_words or any(w.startswith(name) or name.startswith(w) for w in relation_words if len(w) >= 2 and w.startswith("老")):
                continue
            if name not in _NOT_NAMES and not any(name.startswith(p) for p in _NOT_NAMES):
                return name
    return ""


def parse_description(text: str, region_names: Mapping[str, str], homes: Mapping[str, Place] | None = None,
                      region: str | None = None, whole: Entities | None = None) -> Described:
    """Members in the order mentioned, with their facts; the household's own facts apart. `whole`:
    the entities of the whole text when the caller has read them already (the router has)."""
    persons = load_persons()
    described = Described()
    stated_home = load_gazetteer().home_in(text)
    if stated_home is not None:  # "我们是广东韶关乡下的": where each member works is placed from there
        homes = {key: stated_home for key in {*(homes or {}), region or "", ""}}
    if whole is None:
        whole = extract(text, region_names, homes, region)
    described.size = whole.size
    described.region = whole.region
    region = whole.region or region
    described.household.update(whole.household)
    alone = any(w in text for w in persons.alone)
    if alone:
        described.size = 1
    head_name = _head_name(text, persons)
    mentions = _mentions(text, persons, head_name)
    if alone and len({m.relation for m in mentions if m.relation}) <= 1:
        # One person living alone: everything said is about them.
        relation = HEAD  # "老倌子一个人住": whoever lives alone heads the household
        # ("低保户，我七十五了一个人住": the number right after the person is their age)
        after = _facts(text[mentions[0].end:], region_names, homes, region, after_person=True) if mentions else {}
        person = {"relation": relation, **({"name": head_name} if head_name else {}), **after, **_facts(text, region_names, homes, region)}
        described.members = [_sensible(person)]
        return described
    members: list[dict[str, Any]] = []
    head: dict[str, Any] | None = None
    if head_name:
        head = {"relation": HEAD, "name": head_name}
        members.append(head)
    open_group: list[dict[str, Any]] = []
    group_members: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    # The text before the first person: a head without a person word ("今年45岁在广东打工…").
    lead = text[:mentions[0].start] if mentions else text
    if mentions and (before := _age_before(lead, lead=True)):  # "就剩一个80岁老奶奶": her age, no head's
        lead = lead[:-len(before)]
    lead_facts = _facts(lead, region_names, homes, region)
    if lead_facts.get("tekun") is False and mentions and set(lead_facts) <= {"tekun", "months_away"}:
        described.household["tekun_household"] = False  # "这户不是特困" is said of the household
        lead_facts = {}
    carried: dict[str, Any] = _facts(before, region_names, homes, region) if mentions and before else {}
    # (and what the clause before a person says of them: "还有个读初一的细伢子")
    if "school_stage" in lead_facts and head is None and mentions and mentions[0].relation in ("子女", "孙子女"):
        carried, lead_facts = lead_facts, {}  # "考的是大专，孩子本人有残疾证": the schooling is the child's
    if lead_facts.get("school_stage") in _PUPIL and head is None and not mentions:
        members.append({"relation": "子女", **lead_facts})  # "监测户 小学走读": a pupil, not the head
        lead_facts = {}
    if lead_facts and head is None and not (mentions and described.size == 1):
        head = {"relation": HEAD}
        members.append(head)
    if lead_facts and head is not None:
        head.update(lead_facts)
    sharing: list[dict[str, Any]] = []  # members waiting for the facts of the next ("我和老公")
    named: set[int] = set()
    unnamed: list[dict[str, Any]] = []  # people told of by no word we know ("家婆70岁有一级残疾证" after the son)
    refers_back = False
    by_word: dict[str, dict[str, Any]] = {}  # "我妈…我妈七十了": a word said again is the same person
    said_at: list[tuple[int, dict[str, Any]]] = []  # where each member was named, for "…、…均务农"
    for n, mention in enumerate(mentions):
        part = text[mention.end:mentions[n + 1].start if n + 1 < len(mentions) else len(text)]
        word = text[mention.start:mention.end]
        word = next((word.removesuffix(w) for w in _ONESELF if word.endswith(w) and word != w), word)
        if mention.cared_for and current is not None:
            # "老婆在家带孩子种地": what follows in the clause is still the carer's
            clause_end = min([i for i in (part.find(mark) for mark in _CLAUSE_MARKS) if i >= 0], default=len(part))
            current.update(_facts(part[:clause_end], region_names, homes, region))
            part = part[clause_end:]
            if any(m.get("relation") == mention.relation for m in members):
                continue  # looked after, and already told of
        said_of_them = re.split(r"[，,]", part)[0]
        if persons.died.search(said_of_them) or persons.left.search(said_of_them):
            # "孙子爸妈都去世了，是孤儿": nobody of the household now; the rest is about whose they were
            whose = next((m for m in reversed(members) if m.get("relation") == mention.owner), None) if mention.owner else current
            if whose is not None:
                told = _facts(part, region_names, homes, region)
                for member in (group_members if whose in group_members else [whose]):  # "两个老人…，没有劳动能力"
                    member.update(told if member is whose else _shared(told))
                if mention.count == 2 and whose.get("relation") in ("子女", "孙子女") and persons.died.search(said_of_them) \
                        and set(mention.relations) <= {"子女", "父母"}:
                    whose.setdefault("orphan", True)  # both parents died: an orphan
            continue
        # "照顾瘫在床上的老妈": the words after the verb of care describe who is cared for
        if n + 1 < len(mentions) and mentions[n + 1].cared_for is False and part.endswith("的"):
            verb = max(part.rfind(v) for v in persons.object_verbs)
            if verb >= 0 and not any(mark in part[verb:] for mark in _CLAUSE_MARKS):
                after = part[verb:]
                part = part[:verb]
                carried_next = _facts(after, region_names, homes, region)
            else:
                carried_next = {}
        else:
            carried_next = {}
        together = bool(_TOGETHER.match(part))  # "我同老公都四十几", "今年都60岁": the age too
        # "细伢子跟爷爷奶奶住，天天走路上学": the child's grandparents are the head's parents, already told
        # of; what follows is still about the child.
        referred_before = refers_back if n else False  # "跟着爷爷奶奶": both
        refers_back = bool((_REFERS_BACK.search(text[:mention.start]) or referred_before and text[mentions[n - 1].end:mention.start] == "")
                           and mention.relation in _ELDERS_OF_A_CHILD
                           and current is not None and head is not None
                           and any(m.get("relation") == _ELDERS_OF_A_CHILD[mention.relation] for m in members))
        cut = max(part.rfind(mark) for mark in _CLAUSE_MARKS)
        ahead = part[cut + 1:] if n + 1 < len(mentions) and cut >= 0 else ""
        if ahead.strip():
            part = part[:cut + 1]
        elif n + 1 < len(mentions) and (before := _age_before(part)):  # "孙子跟70多岁爷爷": the grandfather's age
            part, ahead = part[:-len(before)], before
        joined = bool(_AND.match(part.strip())) or (part == "" and n + 1 < len(mentions))  # "儿子儿媳都…"
        facts_ahead = _facts(ahead, region_names, homes, region) if ahead.strip() else {}
        tail_facts: dict[str, Any] = {}
        if mention.relation == "enum" and open_group is not None:
            head_part, *tail = _ALL_OF_THEM.split(part, maxsplit=1)
            if tail:
                part, tail_facts = head_part, _facts(tail[0], region_names, homes, region)
        part, someone_else = _another_age(part, region_names, homes, region)
        if someone_else:
            unnamed.append({"relation": "其他", **someone_else})
        facts = {**carried, **({} if joined else _facts(part, region_names, homes, region, after_person=True))}
        if word in persons.students:  # "一名小学生": the word says the school
            facts = {**_facts(word, region_names, homes, region), **facts}
        carried = {**facts_ahead, **carried_next}
        again = by_word.get(word)
        # (儿子 and 女儿 both read 子女: one with another age or school is somebody else)
        if again is not None and mention.count == 1 and not mention.relations and not _ANOTHER.search(text[:mention.start]) \
                and all(again.get(key, value) == value for key, value in facts.items()):
            again.update(facts)
            current = again
            continue
        # "户主六十五岁、老伴六十二岁均在家种地": what follows 均/都 is said of everyone in the clause
        clause_start = max(text.rfind(mark, 0, mention.start) for mark in _CLAUSE_MARKS)
        if (m := _EACH_OF_THEM.search(part)) and m.start() > 0:
            shared_tail = _shared(_facts(part[m.start():], region_names, homes, region))
            for at, member in said_at:
                if at > clause_start:
                    for key, value in shared_tail.items():
                        member.setdefault(key, value)
        if refers_back and current is not None:
            current.update(facts)
            continue
        if mention.relation == "":
            target = current or head
            if head is not None and target is not head and _at_school(target) and facts.get("work_status") not in (None, "上学"):
                target = head  # "…小女儿读四年级，她自己在家种地": a pupil does not farm; the one the family is named for does
            if target is None:
                head = target = {"relation": HEAD}
                members.append(head)
            target.update(facts)
            continue
        if mention.relation == "enum":
            if open_group:
                target = open_group.pop(0)
                target.update(facts)
                current = target
            elif current is not None:
                current.update(facts)
            for member in group_members:
                for key, value in tail_facts.items():
                    member.setdefault(key, value)
            continue
        if mention.relation == HEAD and not mention.relations:
            if head is None:
                head = {"relation": HEAD}
                members.append(head)
            head.update(facts)
            for waiting in sharing:
                waiting.update({k: v for k, v in facts.items() if k != "name" and (together or k != "age")})
            sharing = [head] if joined else []
            if joined or carried_next or (n + 1 < len(mentions) and mentions[n + 1].cared_for):
                named.add(id(head))  # "我跟孙子两个", "我一个人带个娃": the speaker is one of them
            said_at.append((mention.start, head))
            current = head
            continue
        relations = mention.relations or (mention.relation,) * max(1, mention.count)
        same = [m for m in members if m.get("relation") == mention.relation]
        if mention.count > 1 and len(set(relations)) == 1 and len(same) >= mention.count:
            for member in same[-mention.count:]:  # "俩孩子都没有残疾": the children already named
                member.update(_shared(facts))
            continue
        group = []
        for relation in relations:
            if relation == HEAD and head is not None:
                group.append(head)  # "两公婆": the head and the spouse
                continue
            member = {"relation": relation}
            if relation == HEAD:
                head = member
            members.append(member)
            group.append(member)
        if mention.count > 1:
            # "两老都七十多": both; "两公婆四十多岁": a couple, of about an age
            # "两个老人八十多了": an age about which is said of both, as with 都
            both = together or bool(_ABOUT_AN_AGE.match(part)) or len(set(relations)) > 1
            shared = facts if both else _shared(facts)
            for member in group:
                member.update(shared)
            open_group = list(group)
            group_members = list(group)
        else:
            group[0].update(facts)
            by_word.setdefault(word, group[0])
        said_at += [(mention.start, member) for member in group]
        for waiting in sharing:
            waiting.update({k: v for k, v in facts.items() if k != "name" and (together or k != "age")})
        sharing = group if joined else []
        current = group[-1]
    spouses = [m for m in members if m.get("relation") == "配偶"]
    if head is None and len(spouses) == 2:
        spouses[0]["relation"] = HEAD  # "老公45，老婆43": a couple told of by someone else, one of them heads the household
    members += unnamed
    # (an empty head nobody named is nobody; those told of from a child's side are placed after)
    members = [m for m in members if len(m) > 1 or m.get("relation") != HEAD or head_name or len(members) == 1 or id(m) in named]
    _from_the_childs_side(members)
    if any(w in text for w in persons.all_home):
        for member in members:
            if member.get("work_status") != "务工":
                member.setdefault("months_away", 0)
    described.members = [_sensible(m) for m in members]
    if alone and len(described.members) > 1:
        described.size = None  # "娭毑一个人住，崽女都在外头打工": she lives alone; the household has the children too
    if described.size == 1 and not described.members:
        described.members = [{"relation": HEAD}]
    return described


def _at_school(member: dict[str, Any]) -> bool:
    return member.get("school_stage") not in (None, "不在读")


def _another_age(part: str, region_names: Mapping[str, str], homes: Mapping[str, Place] | None,
                 region: str | None) -> tuple[str, dict[str, Any]]:
    """A later clause of a person's part that gives another age is somebody else, told of by a word
    not known here: the part up to it, and that person's facts — never merged into the one before."""
    clauses = re.split(r"(?<=[，,。；;])", part)
    age = None
    for i, clause in enumerate(clauses):
        said = _facts(clause, region_names, homes, region, after_person=i == 0).get("age")
        if said is None:
            continue
        if age is not None and said != age:
            return "".join(clauses[:i]), _facts("".join(clauses[i:]), region_names, homes, region)
        age = said
    return part, {}


_AGE_BEFORE = re.compile(r"(一[个位名]|[个位名])?[一二三四五六七八九十\d]{1,3}(?:多|几|来)?岁(?:左右)?(的)?(老)?$")
_BEFORE_A_PERSON = ("跟", "和", "同", "与", "、", "带", "带着", "还有", "有")


def _age_before(part: str, lead: bool = False) -> str:
    """The age said just before the next person word ("跟70多岁爷爷", "一个9岁的孙子"), or "": not
    right after the person before ("老婆43岁儿子15岁" is the wife's 43)."""
    m = _AGE_BEFORE.search(part)
    if m is None or m.start() == 0 and not lead:
        return ""
    said = part[:m.start()]
    if any(m.groups()) or said.endswith(_BEFORE_A_PERSON) or said[-1:] in _CLAUSE_MARKS:
        return m.group(0)
    return ""


def _from_the_childs_side(members: list[dict[str, Any]]) -> None:
    """"父母在外务工，两个孩子读小学，由祖母照料": told from the children's side, with nobody called 户主
    or 配偶, their 父母 are the couple that heads the household and the 祖父母 the head's parents; with
    a head and children, a 祖父母 is the children's grandparent, the head's parent."""
    relations = [m.get("relation") for m in members]
    if (HEAD in relations or "配偶" in relations) and "子女" in relations and "祖父母" in relations and "孙子女" not in relations:
        for member in members:  # "户主…满崽读初三，娭毑七十八": the child's grandmother is the head's mother
            if member.get("relation") == "祖父母":
                member["relation"] = "父母"
        return
    if HEAD not in relations and "配偶" not in relations and "孙子女" in relations and "祖父母" in relations:
        # "父母都在外打工，9岁孙子跟70多岁爷爷在家": the grandparents head it, the child's parents are their children
        for member, relation in zip([m for m in members if m.get("relation") == "祖父母"], (HEAD, "配偶"), strict=False):
            member["relation"] = relation
        for member in members:
            if member.get("relation") == "父母" and (member.get("age") or 0) < GRANDPARENT_AGE:
                member["relation"] = "子女"
        return
    elders = [m for m in members if m.get("relation") == "祖父母" or m.get("relation") == "父母" and (m.get("age") or 0) >= GRANDPARENT_AGE]
    earners = [m for m in members if m.get("relation") == "子女" and m.get("work_status") == "务工"]
    if HEAD not in relations and "配偶" not in relations and "孙子女" not in relations and elders and earners \
            and len(elders) + len(earners) == len(members):
        # "就剩一个80岁老奶奶在家，儿女都在外地打工": the children who earn head the household, the old one is their parent
        for member, relation in zip(earners, (HEAD, "配偶"), strict=False):
            member["relation"] = relation
        for member in elders:
            member["relation"] = "父母"
        return
    if set(relations) == {"父母"} and len(relations) == 2:  # "家里就两个老人": the old couple is the household
        for member, relation in zip(members, (HEAD, "配偶"), strict=False):
            member["relation"] = relation
        return
    if HEAD in relations or "配偶" in relations or "父母" not in relations or "子女" not in relations:
        return
    children = [m for m in members if m.get("relation") == "子女"]
    if any((m.get("age") or 0) >= 18 or m.get("school_stage") in ("本科", "研究生") for m in children):
        return
    # (a 父母 of 60 or more is a grandparent of these children, the head's own parent: "仔16岁，家婆75岁")
    parents = [m for m in members if m.get("relation") == "父母" and (m.get("age") or 0) < GRANDPARENT_AGE][:2]
    if not parents:
        return
    for member, relation in zip(parents, (HEAD, "配偶"), strict=False):
        member["relation"] = relation
    for member in members:
        if member.get("relation") == "祖父母":
            member["relation"] = "父母"


_BARE_AGE = re.compile(r"^[，,、：:是都也今年已经]{0,3}([一二三四五六七八九十百\d]{1,4})(了|岁|多)?(?=[，,。、\s\u4e00-\u9fff]|$)(?![个元块万口亩斤年月日号级层])")


def _facts(part: str, region_names: Mapping[str, str], homes: Mapping[str, Place] | None, region: str | None,
           after_person: bool = False) -> dict[str, Any]:
    """The member facts of a part of the text; right `after_person`, a bare number is their age.
    A clause about the rest of the family ("家里其他人在家") is said of nobody named."""
    others = load_persons().others
    part = "".join(c for c in re.split(r"(?<=[，,。；;])", part) if not others.search(c))
    found = extract(part, region_names, homes, region)
    member = dict(found.member)
    if after_person and "age" not in member and (m := _BARE_AGE.match(part)):  # "一个七十五，有高血压"
        value = to_digits(m.group(1))
        # "二子女", "一名": a small number run into a word is an ordinal or a count, not an age
        run_on = not m.group(2) and re.match(r"[\u4e00-\u9fff]", part[m.end():m.end() + 1] or " ")
        if value.isdigit() and 0 < int(value) <= 110 and not (int(value) < 10 and run_on):
            member["age"] = int(value)
    if "在家" in part and "months_away" not in member and member.get("work_status") != "务工":
        member["months_away"] = 0
    return member


def _shared(facts: dict[str, Any]) -> dict[str, Any]:
    """What "两个子女都读小学" says of each of them: not an age or a grade told of one."""
    return {k: v for k, v in facts.items() if k not in ("age", "school_year", "name")}


def _sensible(member: dict[str, Any]) -> dict[str, Any]:
    """Sets become sorted lists (slots are JSON); a pupil is at school."""
    out = {k: sorted(v) if isinstance(v, frozenset) else v for k, v in member.items()}
    if out.get("school_stage") not in (None, "不在读"):
        out.setdefault("work_status", "上学")
    elif "boarding" in out:
        del out["boarding"]  # "天天回家住" said of a worker is no school's boarding
    return out
