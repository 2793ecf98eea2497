"""Small validators shared by the knowledge-base and household loaders.

Each raises DataFileError naming the file, the line and, in Chinese, what is wrong.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from foundation.datafile import DataFileError, LineDict, LineList, line_of

_TYPE_NAMES = {
    str: "文本",
    bool: "true/false",
    int: "整数",
    float: "数字",
    dict: "映射（键: 值）",
    list: "列表",
    dt.date: "日期（YYYY-MM-DD）",
}


def _names(types: tuple[type, ...]) -> str:
    return " 或 ".join(_TYPE_NAMES.get(t, t.__name__) for t in types)


def mapping(value: Any, file: str, line: int | None, what: str) -> LineDict:
    if not isinstance(value, dict):
        raise DataFileError(file, line_of(value) or line, f"{what} 应为映射（键: 值），实际是 {type(value).__name__}")
    return value  # type: ignore[return-value]


def sequence(value: Any, file: str, line: int | None, what: str) -> LineList:
    if not isinstance(value, list):
        raise DataFileError(file, line_of(value) or line, f"{what} 应为列表，实际是 {type(value).__name__}")
    return value  # type: ignore[return-value]


def keys(d: LineDict, file: str, what: str, required: Iterable[str], optional: Iterable[str] = ()) -> None:
    """Reject unknown keys (typos would silently drop policy) and missing required ones."""
    required = tuple(required)
    allowed = set(required) | set(optional)
    for key in d:
        if key not in allowed:
            raise DataFileError(file, d.line_of(key), f"{what} 中有未知的键 '{key}'（允许：{', '.join(sorted(allowed))}）")
    for key in required:
        if key not in d or d[key] is None:
            raise DataFileError(file, d.line, f"{what} 缺少必填的键 '{key}'")


def typed(d: LineDict, key: str, types: tuple[type, ...], file: str, what: str, default: Any = None) -> Any:
    """Fetch d[key] and check its type; bool is not accepted where a number is expected."""
    if key not in d or d[key] is None:
        return default
    value = d[key]
    ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
    if isinstance(value, dt.datetime):
        ok = dt.datetime in types
    if not ok:
        raise DataFileError(file, d.line_of(key), f"{what} 的 '{key}' 应为 {_names(types)}，实际是 {value!r}")
    return value


def text(d: LineDict, key: str, file: str, what: str, default: str | None = None) -> str | None:
    value = typed(d, key, (str,), file, what, default)
    if key in d and isinstance(value, str) and not value.strip():
        raise DataFileError(file, d.line_of(key), f"{what} 的 '{key}' 不能为空")
    return value


def text_list(d: LineDict, key: str, file: str, what: str, minimum: int = 0) -> list[str]:
    value = d.get(key)
    if value is None:
        if minimum:
            raise DataFileError(file, d.line, f"{what} 缺少 '{key}'（至少 {minimum} 条）")
        return []
    if isinstance(value, str):
        value = [value]
    seq = sequence(value, file, d.line_of(key), f"{what} 的 '{key}'")
    out = []
    for i, item in enumerate(seq):
        if not isinstance(item, str) or not item.strip():
            raise DataFileError(file, line_of(seq, i) or d.line_of(key), f"{what} 的 '{key}' 第 {i + 1} 项应为非空文本")
        out.append(item.strip())
    if len(out) < minimum:
        raise DataFileError(file, d.line_of(key), f"{what} 的 '{key}' 至少要 {minimum} 条，现在只有 {len(out)} 条")
    return out


def date(d: LineDict, key: str, file: str, what: str) -> dt.date | None:
    value = d.get(key)
    if value is None:
        return None
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise DataFileError(file, d.line_of(key), f"{what} 的 '{key}' 应为日期 YYYY-MM-DD，实际是 {value!r}")
    return value
