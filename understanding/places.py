"""Where someone works, as the transport subsidy counts it: 省外 / 省内县外 / 市内县外 / 县内.

The category depends on where the household lives as much as on where the work is: 广州 is 省外 for
a household in 鹤庆县 (云南) and 省内县外 for one in 博罗县 (广东). Home is the deployment's county
(`place` in policy_kb/data/regions.yaml) unless the message names it ("老家是南充的", "楚雄乡下的监测户"). A relative
phrase ("隔壁省", "我们市别的县", "就在本县") needs no home at all. When the place cannot be placed
for sure (a city named without its county, a home that is not known), the answer is None: the
assistant then lists the variants instead of guessing one, because a guess could grant too much.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from foundation import checks
from foundation.datafile import DataFileError, load_data

PLACES_FILE = Path(__file__).parent / "lexicon_data" / "places.yaml"
CATEGORIES = ("省外", "省内县外", "市内县外", "县内")
_WORK_NEAR = re.compile(r"务工|打工|上班|干活|做工|工地|工厂|厂|做事|做嘢")
_GOING = re.compile(r"在|去|到|跑|喺")

Place = tuple[str, str | None, str | None]  # (province, city, county); city and county may be unknown


@dataclass(frozen=True, slots=True)
class Gazetteer:
    names: tuple[tuple[str, Place], ...]  # every name, longest first
    relative: tuple[tuple[str, re.Pattern], ...]
    nearby: tuple[tuple[str, re.Pattern], ...]
    home_words: re.Pattern
    home_after: re.Pattern
    named_pattern: re.Pattern  # any name, the longest at each place
    table: dict[str, Place]

    def place(self, name: str) -> Place | None:
        return self.table.get(name)

    def _named(self, text: str) -> list[tuple[int, int, Place]]:
        """Place names in the text, left to right, the longest name at each place."""
        return [(m.start(), m.end(), self.table[m.group(0)]) for m in self.named_pattern.finditer(text)]

    def home_in(self, text: str) -> Place | None:
        """The home a message states ("老家是南充的", "楚雄乡下的监测户"), if any."""
        for start, end, where in self._places(text):
            if self.home_words.search(text[max(0, start - 4):start]) or self.home_after.match(text, end):
                return where
        return None

    def _places(self, text: str) -> list[tuple[int, int, Place]]:
        """Place names left to right; "广东韶关", a province and its city said together, is one place."""
        places = self._named(text)
        return [p for n, p in enumerate(places) if not (n + 1 < len(places) and places[n + 1][0] == p[1]
                                                        and places[n + 1][2][0] == p[2][0] and p[2][1] is None)]

    def work_place(self, text: str, home: Place | None) -> str | None:
        """The category of the work place the text names, relative to `home`; None when unsure."""
        said = [(m.end() - m.start(), -n, category) for n, (category, pattern) in enumerate(self.relative) if (m := pattern.search(text))]
        if said:  # the longest phrase: "本省外市" is 省内县外, though it holds 省外
            return max(said)[2]
        candidates: list[tuple[int, Place]] = []
        for start, end, where in self._places(text):
            if self.home_words.search(text[max(0, start - 4):start]) or self.home_after.match(text, end):
                home = where
                continue
            # The place someone works in is the one said with the work ("在丽江务工"), not the county
            # the household is of ("鹤庆县监测户……").
            near = _WORK_NEAR.search(text[end:end + 6]) or _GOING.search(text[max(0, start - 2):start])
            candidates.append((2 if near else 0 if home is not None and where == home else 1, where))
        if candidates:
            return _category(max(candidates, key=lambda c: c[0])[1], home)
        for category, pattern in self.nearby:
            if pattern.search(text):
                return category
        return None


def _category(work: Place, home: Place | None) -> str | None:
    if home is None:
        return None
    (wp, wc, wx), (hp, hc, hx) = work, home
    if wp != hp:
        return "省外"
    if wc is None or hc is None:
        return None  # a province named, same as home's: somewhere in the province
    if wc != hc:
        return "省内县外"
    if wx is None or hx is None:
        return None  # the home city named without a county: could be the home county itself
    return "县内" if wx == hx else "市内县外"


def _patterns(raw: dict, f: str, key: str) -> tuple[tuple[str, re.Pattern], ...]:
    out = []
    for category in raw:
        if category not in CATEGORIES:
            raise DataFileError(f, raw.line_of(category), f"{key} 的 '{category}' 不是 {'/'.join(CATEGORIES)} 之一")
        for expression in checks.text_list(raw, category, f, f"{key} {category}"):
            try:
                out.append((str(category), re.compile(expression)))
            except re.error as exc:
                raise DataFileError(f, raw.line_of(category), f"{key} {category} 的正则 '{expression}' 写错了：{exc}") from exc
    return tuple(out)


@lru_cache(maxsize=1)
def load_gazetteer(path: Path = PLACES_FILE) -> Gazetteer:
    """Reads places.yaml; names of one character are left out (川, 湘 are inside too many words)."""
    f = str(path)
    data = checks.mapping(load_data(path), f, 1, path.name)
    checks.keys(data, f, path.name, ("provinces", "counties", "relative", "nearby", "home", "home_after"))
    provinces = checks.mapping(data["provinces"], f, data.line_of("provinces"), "provinces")
    names: dict[str, Place] = {}
    city_province: dict[str, str] = {}
    for province in provinces:
        entry = checks.mapping(provinces[province], f, provinces.line_of(province), f"省 {province}")
        checks.keys(entry, f, f"省 {province}", ("cities",), ("aliases",))
        for alias in [province, *checks.text_list(entry, "aliases", f, f"省 {province}")]:
            names.setdefault(alias, (str(province), None, None))
        for city in checks.text_list(entry, "cities", f, f"省 {province}"):
            key = city.removesuffix("市") if city.endswith("市") and len(city) > 2 else city
            city_province[key] = str(province)
            for spelled in {city, key, key + "市"}:
                names.setdefault(spelled, (str(province), key, None))
    counties = checks.mapping(data["counties"], f, data.line_of("counties"), "counties")
    for city in counties:
        if city not in city_province:
            raise DataFileError(f, counties.line_of(city), f"counties 的 '{city}' 不在任何省的 cities 里")
        for county in checks.text_list(counties, city, f, f"{city} 的县"):
            where = (city_province[str(city)], str(city), county)
            for spelled in {county, county + "县", county + "区", county + "市"}:
                names[spelled] = where
    relative = checks.mapping(data["relative"], f, data.line_of("relative"), "relative")
    nearby = checks.mapping(data["nearby"], f, data.line_of("nearby"), "nearby")
    home = checks.text_list(data, "home", f, "home")
    home_after = checks.text_list(data, "home_after", f, "home_after")
    ordered = tuple(sorted(((n, w) for n, w in names.items() if len(n) >= 2), key=lambda nw: -len(nw[0])))
    return Gazetteer(ordered, _patterns(relative, f, "relative"), _patterns(nearby, f, "nearby"),
                     re.compile("(?:" + "|".join(map(re.escape, home)) + ")$"), re.compile("|".join(map(re.escape, home_after))),
                     re.compile("|".join(re.escape(n) for n, _ in ordered)), dict(ordered))
