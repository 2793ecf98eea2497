"""The declarative condition language of the knowledge base (see FORMAT.md).

Conditions are parsed once at load time into small node objects whose `ev` attribute is a
closure: evaluating a household is then a few function calls per measure, with no `eval` and
no tree walking. Evaluation is three-valued (True, False, None for unknown); when a result is
unknown, `missing()` names the facts that would decide it, so a dialog asks only those.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from foundation.datafile import DataFileError, LineDict, line_of
from policy_kb.facts import FactModel, FactSpec

# ev(household_facts, member_facts_or_None, params, members_or_None) -> True | False | None
Evaluator = Callable[[dict, "dict | None", dict, "list | None"], "bool | None"]
# A missing fact: (member index or None for household facts, fact path).
Missing = tuple["int | None", str]

MEMBERS_FACT = "household.members"
FLOOR_SUFFIX = "_min"  # a fact `<name>_min` is a lower bound of the numeric fact <name> while it is unknown
CEILING_SUFFIX = "_max"  # and `<name>_max` an upper bound (a pupil at 初中 is not yet 18)
PARAM_PREFIX = "param:"  # a Missing path naming a parameter whose value is not published


class _Unpublished:
    """The value of a parameter that is in force but whose figure the texts do not give
    (监测标准 after 2021, 岳阳's 老年人 age): a comparison with it is undecided, not false."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNPUBLISHED"


UNPUBLISHED = _Unpublished()

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}
_LEAF_OPS = ("is", "eq", "ne", "in", "not_in", "contains", "contains_any", "known", *_COMPARE)
_GROUPS = ("all", "any", "not", "any_member", "no_member")


class Node:
    """A parsed condition. `ev` is set by each subclass at construction."""

    ev: Evaluator
    params: frozenset[str]
    facts: frozenset[str]

    def missing(self, h: dict, m: dict | None, p: dict, ms: list | None, mi: int | None, out: list) -> None:
        raise NotImplementedError

    def reasons(self, h: dict, m: dict | None, p: dict, ms: list | None, mi: int | None, out: list) -> None:
        """The facts that made this (true) condition true: (member index or None, path).

        Only what argues *for* a measure: the parts under `not` are exclusions and say nothing.
        """
        raise NotImplementedError

    def support(self, h: dict, m: dict | None, p: dict, ms: list | None, mi: int | None, out: list) -> None:
        """For an undecided condition: the facts that already argue for it (what is "almost" there)."""
        children = getattr(self, "children", ())
        for child in children:
            value = child.ev(h, m, p, ms)
            if value is True:
                child.reasons(h, m, p, ms, mi, out)
            elif value is None:
                child.support(h, m, p, ms, mi, out)


class Leaf(Node):
    def __init__(self, paths: tuple[str, ...], op: str, operand: Any, param: str | None, line: int | None = None,
                 of: str | None = None) -> None:
        self.line = line
        self.paths = paths
        self.op = op
        self.operand = operand
        self.param = param
        self.of = of
        self.params = frozenset([param] if param else [])
        self.facts = frozenset(paths) | ({of} if of else set())
        self.ev = _compile_leaf(paths, op, operand, param, of)

    def __reduce__(self):
        """Pickled as its definition; the closure is compiled again when loaded."""
        return (Leaf, (self.paths, self.op, self.operand, self.param, self.line, self.of))

    def missing(self, h, m, p, ms, mi, out):
        for path in self.paths + ((self.of,) if self.of else ()):
            scope, name = path.split(".", 1)
            source = h if scope == "household" else (m or {})
            if source.get(name) is None:
                out.append((None if scope == "household" else mi, path))
        if self.param is not None and p.get(self.param) is UNPUBLISHED:
            out.append((None, PARAM_PREFIX + self.param))

    def reasons(self, h, m, p, ms, mi, out):
        if self.op == "known":
            return  # "not yet appraised" is no fact about the household
        for path in self.paths:
            household = path.startswith("household.")
            if (h if household else (m or {})).get(path.split(".", 1)[1]) is not None:
                out.append((None if household else mi, path))

    def support(self, h, m, p, ms, mi, out):
        if self.ev(h, m, p, ms) is True:
            self.reasons(h, m, p, ms, mi, out)
        elif self.of is not None and (h if self.of.startswith("household.") else (m or {})).get(self.of.split(".", 1)[1]) is None:
            self.reasons(h, m, p, ms, mi, out)  # a stated bill argues for "more than 25% of the local income", unknown as that is


class _Group(Node):
    """`all` stops at the first False, `any` at the first True; otherwise an unknown part
    makes the whole unknown."""

    decisive: bool

    def __init__(self, children: list[Node]) -> None:
        self.children = children
        self.params = frozenset().union(*(c.params for c in children))
        self.facts = frozenset().union(*(c.facts for c in children))
        evs = tuple(c.ev for c in children)
        decisive = self.decisive

        def ev(h, m, p, ms):
            result: bool | None = not decisive
            for child in evs:
                value = child(h, m, p, ms)
                if value is decisive:
                    return decisive
                if value is None:
                    result = None
            return result

        self.ev = ev

    def missing(self, h, m, p, ms, mi, out):
        for child in self.children:
            if child.ev(h, m, p, ms) is None:
                child.missing(h, m, p, ms, mi, out)

    def __reduce__(self):
        return (type(self), (self.children,))


class All(_Group):
    decisive = False

    def reasons(self, h, m, p, ms, mi, out):
        for child in self.children:
            child.reasons(h, m, p, ms, mi, out)


class AnyOf(_Group):
    decisive = True

    def reasons(self, h, m, p, ms, mi, out):
        for child in self.children:  # the first alternative that holds is the reason
            if child.ev(h, m, p, ms) is True:
                child.reasons(h, m, p, ms, mi, out)
                return


class Not(Node):
    def __init__(self, child: Node) -> None:
        self.child = child
        self.params = child.params
        self.facts = child.facts
        inner = child.ev

        def ev(h, m, p, ms):
            value = inner(h, m, p, ms)
            return None if value is None else not value

        self.ev = ev

    def __reduce__(self):
        return (Not, (self.child,))

    def missing(self, h, m, p, ms, mi, out):
        self.child.missing(h, m, p, ms, mi, out)

    def reasons(self, h, m, p, ms, mi, out):
        """An exclusion that does not apply ("特困人员除外" for someone who is not) is no reason."""

    def support(self, h, m, p, ms, mi, out):
        """Nor is an exclusion that might not apply."""


class AnyMember(Node):
    """Some member satisfies the child; with `negate`, no member does."""

    def __init__(self, child: Node, negate: bool) -> None:
        self.child = child
        self.negate = negate
        self.params = child.params
        self.facts = child.facts | {MEMBERS_FACT}
        inner = child.ev

        def ev(h, m, p, ms):
            if ms is None:
                return None
            result: bool | None = False
            for member in ms:
                value = inner(h, member, p, ms)
                if value is True:
                    result = True
                    break
                if value is None:
                    result = None
            if negate and result is not None:
                return not result
            return result

        self.ev = ev

    def __reduce__(self):
        return (AnyMember, (self.child, self.negate))

    def missing(self, h, m, p, ms, mi, out):
        if ms is None:
            out.append((None, MEMBERS_FACT))
            return
        for index, member in enumerate(ms):
            if self.child.ev(h, member, p, ms) is None:
                self.child.missing(h, member, p, ms, index, out)

    def reasons(self, h, m, p, ms, mi, out):
        if self.negate or ms is None:
            return
        for index, member in enumerate(ms):
            if self.child.ev(h, member, p, ms) is True:
                self.child.reasons(h, member, p, ms, index, out)

    def support(self, h, m, p, ms, mi, out):
        if self.negate or ms is None:
            return
        for index, member in enumerate(ms):
            value = self.child.ev(h, member, p, ms)
            if value is True:
                self.child.reasons(h, member, p, ms, index, out)
            elif value is None:
                self.child.support(h, member, p, ms, index, out)


def _getter(paths: tuple[str, ...]) -> Callable[[dict, dict | None], Any]:
    def one(path: str) -> Callable[[dict, dict | None], Any]:
        scope, name = path.split(".", 1)
        if scope == "household":
            return lambda h, m: h.get(name)
        return lambda h, m: m.get(name) if m is not None else None

    if len(paths) == 1:
        return one(paths[0])
    parts = tuple(one(path) for path in paths)

    def total(h, m):
        values = [get(h, m) for get in parts]
        return None if None in values else sum(values)

    return total


def _limit(limit: Any) -> bool | None:
    """None: compare; False: the parameter is not in force; UNPUBLISHED: undecided."""
    if limit is None:
        return False
    if limit is UNPUBLISHED:
        return None
    return True


def _compile_leaf(paths: tuple[str, ...], op: str, operand: Any, param: str | None, of: str | None = None) -> Evaluator:
    """One closure per leaf, reading the fact directly: leaves are most of the evaluation time."""
    if len(paths) > 1 or op == "known" or of is not None:
        get = _getter(paths)
        if op == "known":
            return lambda h, m, p, ms: (get(h, m) is not None) == operand
        compare = _COMPARE[op]
        base = _getter((of,)) if of is not None else None

        def ev_sum(h, m, p, ms):
            value, limit = get(h, m), p.get(param)
            usable = _limit(limit)
            if not usable:
                return usable
            if base is not None:  # {param: rate, of: fact}: the rate (a percentage) of that fact
                of_value = base(h, m)
                if of_value is None:
                    return None
                limit = limit / 100 * of_value
            if value is None:
                return None
            return compare(value, limit)

        return ev_sum
    scope, name = paths[0].split(".", 1)
    household = scope == "household"
    if param is not None:
        compare = _COMPARE[op]

        floor_name, ceiling_name = name + FLOOR_SUFFIX, name + CEILING_SUFFIX
        lower_bound = op in ("ge", "gt")

        def ev_param(h, m, p, ms):
            source = h if household else m
            value = source.get(name)
            limit = p.get(param)
            if limit is None:
                return False  # not in force on this date
            if limit is UNPUBLISHED:
                return None
            if value is None:
                # Not known, but known to be at least (age_min: a 户主 is grown up) or at most so much
                # (age_max: a pupil at 初中 is a minor): that may decide it.
                floor, ceiling = source.get(floor_name), source.get(ceiling_name)
                if floor is not None:
                    if lower_bound and compare(floor, limit):
                        return True
                    if not lower_bound and not compare(floor, limit):
                        return False
                if ceiling is not None:
                    if not lower_bound and compare(ceiling, limit):
                        return True
                    if lower_bound and not compare(ceiling, limit):
                        return False
                return None
            return compare(value, limit)

        return ev_param
    if op in ("is", "eq"):
        def ev(h, m, p, ms):
            value = (h if household else m).get(name)
            return None if value is None else value == operand
    elif op == "ne":
        def ev(h, m, p, ms):
            value = (h if household else m).get(name)
            return None if value is None else value != operand
    elif op in ("in", "not_in"):
        allowed, inside = frozenset(operand), op == "in"

        def ev(h, m, p, ms):
            value = (h if household else m).get(name)
            return None if value is None else (value in allowed) == inside
    elif op == "contains":
        def ev(h, m, p, ms):
            value = (h if household else m).get(name)
            return None if value is None else operand in value
    else:  # contains_any
        wanted = frozenset(operand)

        def ev(h, m, p, ms):
            value = (h if household else m).get(name)
            return None if value is None else not wanted.isdisjoint(value)
    return ev


class ConditionParser:
    """Parses and validates conditions against the fact model; errors name file and line."""

    def __init__(self, facts: FactModel) -> None:
        self.facts = facts

    def parse(self, raw: Any, file: str, line: int | None, member_context: bool) -> Node:
        if not isinstance(raw, dict) or len(raw) == 0:
            raise DataFileError(file, line_of(raw) or line, f"条件应为映射，如 {{fact: member.age, ge: {{param: ...}}}}，实际是 {raw!r}")
        here = line_of(raw) or line
        if "fact" in raw:
            return self._leaf(raw, file, here, member_context)
        if len(raw) != 1:
            raise DataFileError(file, here, f"条件只能有一个键（{', '.join(_GROUPS)} 或 fact），实际有 {', '.join(map(str, raw))}")
        (key, body), = raw.items()
        at = raw.line_of(key) if isinstance(raw, LineDict) else here
        if key in ("all", "any"):
            if not isinstance(body, list) or not body:
                raise DataFileError(file, at, f"'{key}' 后应为非空的条件列表")
            children = [self.parse(item, file, line_of(body, i) or at, member_context) for i, item in enumerate(body)]
            return All(children) if key == "all" else AnyOf(children)
        if key == "not":
            return Not(self.parse(body, file, at, member_context))
        if key in ("any_member", "no_member"):
            if member_context:
                raise DataFileError(file, at, f"'{key}' 只能用于户级条件（target: household），不能嵌套在成员条件中")
            return AnyMember(self.parse(body, file, at, True), negate=key == "no_member")
        raise DataFileError(file, at, f"未知的条件 '{key}'（允许：{', '.join(_GROUPS)} 或 fact）")

    def _fact(self, path: Any, file: str, line: int | None, member_context: bool) -> FactSpec:
        if not isinstance(path, str):
            raise DataFileError(file, line, f"fact 应为事实名（如 member.age），实际是 {path!r}")
        spec = self.facts.get(path)
        if spec is None:
            raise DataFileError(file, line, f"未知的事实 '{path}'（见 eligibility/facts.yaml）")
        if spec.scope == "member" and not member_context:
            raise DataFileError(file, line, f"成员事实 '{path}' 只能用在 target: member 的措施或 any_member 条件里")
        return spec

    def _leaf(self, raw: LineDict, file: str, line: int | None, member_context: bool) -> Leaf:
        ops = [k for k in raw if k != "fact"]
        if len(ops) != 1 or ops[0] not in _LEAF_OPS:
            raise DataFileError(file, line, f"事实条件需要且只能有一个运算符（{', '.join(_LEAF_OPS)}），实际是 {', '.join(map(str, ops)) or '无'}")
        op = ops[0]
        operand = raw[op]
        raw_paths = raw["fact"]
        paths = tuple(raw_paths) if isinstance(raw_paths, list) else (raw_paths,)
        specs = [self._fact(p, file, line, member_context) for p in paths]
        if len(specs) > 1 and (op not in _COMPARE or not all(s.numeric for s in specs)):
            raise DataFileError(file, line, "多个事实相加只能用于数字事实的 gt/ge/lt/le 比较")
        spec = specs[0]
        param = None
        of = None
        if op == "known":
            if not isinstance(operand, bool):
                raise DataFileError(file, line, "known 后应为 true 或 false")
        elif op in _COMPARE:
            if not spec.numeric:
                raise DataFileError(file, line, f"'{spec.path}' 不是数字，不能用 {op} 比较")
            if not (isinstance(operand, dict) and set(operand) in ({"param"}, {"param", "of"}) and isinstance(operand["param"], str)):
                raise DataFileError(file, line, f"{op} 后应为 {{param: 参数名}}（或 {{param: 比例参数, of: 事实}}）：政策中的数字都要写成带出处的参数，不能直接写 {operand!r}")
            param = operand["param"]
            if "of" in operand:
                of_spec = self._fact(operand["of"], file, line, member_context)
                if not of_spec.numeric:
                    raise DataFileError(file, line, f"of 后的 '{of_spec.path}' 不是数字事实")
                of = of_spec.path
        elif op == "is":
            if spec.type != "bool" or not isinstance(operand, bool):
                raise DataFileError(file, line, f"'is' 只用于是/否事实并且后面是 true/false（{spec.path} 是 {spec.type}）")
        elif op in ("eq", "ne"):
            self._check_value(spec, operand, file, line)
        elif op in ("in", "not_in", "contains_any"):
            if not isinstance(operand, list) or not operand:
                raise DataFileError(file, line, f"'{op}' 后应为非空列表")
            if op == "contains_any" and spec.type != "set":
                raise DataFileError(file, line, f"'contains_any' 只用于多选事实（{spec.path} 是 {spec.type}）")
            for value in operand:
                self._check_value(spec, value, file, line, element=op == "contains_any")
        elif op == "contains":
            if spec.type != "set":
                raise DataFileError(file, line, f"'contains' 只用于多选事实（{spec.path} 是 {spec.type}）")
            self._check_value(spec, operand, file, line, element=True)
        return Leaf(paths, op, operand, param, line, of)

    @staticmethod
    def _check_value(spec: FactSpec, value: Any, file: str, line: int | None, element: bool = False) -> None:
        if spec.type in ("enum", "set"):
            if value not in spec.values:
                raise DataFileError(file, line, f"'{value}' 不是 {spec.path} 的可选值（{'、'.join(spec.values)}）")
            return
        if spec.numeric:
            raise DataFileError(file, line, f"'{spec.path}' 是数字：请用 gt/ge/lt/le 和 {{param: 参数名}}")
        if spec.type == "bool":
            raise DataFileError(file, line, f"'{spec.path}' 是是/否事实：请用 is: true/false")
        if not isinstance(value, str):
            raise DataFileError(file, line, f"'{spec.path}' 的比较值应为文本")


def param_line(node: Node, param: str) -> int | None:
    """The line of the first leaf that compares with `param`, for error messages."""
    if isinstance(node, Leaf):
        return node.line if param in node.params else None
    children = getattr(node, "children", None) or [getattr(node, "child", None)]
    for child in children:
        if child is not None and (line := param_line(child, param)):
            return line
    return None


def unique_missing(items: list[Missing]) -> list[Missing]:
    """Deduplicate while keeping the order in which the conditions mention the facts."""
    seen: set[Missing] = set()
    out: list[Missing] = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


def default_violations(node: Node, defaults: dict[str, Any], params: dict[str, Any] | None = None) -> list[tuple[Leaf, Any]]:
    """Leaves a defaulted fact can make argue *for* the condition: a default that grants.

    Polarity is followed through `not` and `no_member`: `{not: {fact: member.soldier, is: true}}`
    with the default `soldier: false` holds by default, so it is a violation; `{fact: member.orphan,
    is: true}` with the default `false` can only make the condition fail, which is allowed.
    """
    found: list[tuple[Leaf, Any]] = []

    def walk(n: Node, positive: bool) -> None:
        if isinstance(n, Leaf):
            for path in n.paths:
                if path not in defaults:
                    continue
                value = defaults[path]
                scope, name = path.split(".", 1)
                facts = {name: value}
                outcome = n.ev(facts if scope == "household" else {}, facts if scope == "member" else {}, params or {}, None)
                if outcome is (True if positive else False):
                    found.append((n, value))
            return
        if isinstance(n, Not):
            walk(n.child, not positive)
        elif isinstance(n, AnyMember):
            walk(n.child, positive != n.negate)
        else:
            for child in getattr(n, "children", ()):
                walk(child, positive)

    walk(node, True)
    return found
