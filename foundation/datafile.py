"""YAML reading that remembers line numbers, so every validation error can name file and line.

PyYAML's C loader is used when present (it is several times faster); mappings are built as
`LineDict` and sequences as `LineList`, which carry the line of each key or item.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import yaml

try:
    _BaseLoader: type = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml
    _BaseLoader = yaml.SafeLoader


class DataFileError(Exception):
    """A knowledge-base or household file is wrong; the message says where and why."""

    def __init__(self, file: str | Path, line: int | None, reason: str) -> None:
        self.file = str(file)
        self.line = line
        self.reason = reason
        where = f"{self.file}:{line}" if line else self.file
        super().__init__(f"{where}: {reason}")


class LineDict(dict):
    """A mapping that knows its own line and the line of each key."""

    line: int = 0
    file: str = ""
    key_lines: dict

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list):
    """A sequence that knows its own line and the line of each item."""

    line: int = 0
    file: str = ""
    item_lines: list

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


class _LineLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.file = loader.file_name
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        key_line = key_node.start_mark.line + 1
        if not isinstance(key, (str, int, float, bool)) and key is not None and not hasattr(key, "isoformat"):
            raise DataFileError(loader.file_name, key_line, f"键 {key!r} 不是简单值")
        if key in result:
            raise DataFileError(loader.file_name, key_line, f"重复的键 '{key}'（第一次在第 {result.key_lines[key]} 行）")
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_line
    return result


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.file = loader.file_name
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_yaml(path: str | Path, text: str | None = None) -> Any:
    """Parse one YAML file into LineDict/LineList trees; syntax errors become DataFileError."""
    path = Path(path)
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise DataFileError(path, None, f"无法读取文件：{exc}") from exc
    loader = _LineLoader(text)
    loader.file_name = str(path)
    try:
        return loader.get_single_data()
    except DataFileError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise DataFileError(path, line, f"YAML 语法错误：{exc.problem or exc.context}") from exc
    except yaml.YAMLError as exc:
        raise DataFileError(path, None, f"YAML 错误：{exc}") from exc
    finally:
        loader.dispose()


def line_of(container: Any, key: Any = None) -> int | None:
    """The line of `key` inside `container`, or of the container itself."""
    if isinstance(container, LineDict):
        return container.line_of(key) if key is not None else container.line
    if isinstance(container, LineList):
        return container.line_of(key) if isinstance(key, int) else container.line
    return None


class ParseCache:
    """Parsed YAML trees keyed by file path, size and modification time, kept in one pickle.

    Parsing is most of the knowledge base's load time; validation still runs on every load,
    so a stale or damaged cache can cost time but never correctness.
    """

    def __init__(self, path: Path | None) -> None:
        """With `path` None nothing is cached (knowledge bases outside the project, e.g. in tests)."""
        self.path = path
        self.entries: dict[str, tuple[int, int, Any]] = {}
        self.dirty = False
        if path is None:
            return
        try:
            with path.open("rb") as f:
                self.entries = pickle.load(f)
        except (OSError, pickle.PickleError, EOFError, AttributeError, ValueError, TypeError, ImportError):
            self.entries = {}

    def load(self, path: Path) -> Any:
        if self.path is None:
            return load_yaml(path)
        try:
            stat = path.stat()
        except OSError:
            return load_yaml(path)  # reports the missing file with its name
        key = str(path.resolve())
        found = self.entries.get(key)
        if found and found[0] == stat.st_mtime_ns and found[1] == stat.st_size:
            return found[2]
        data = load_yaml(path)
        self.entries[key] = (stat.st_mtime_ns, stat.st_size, data)
        self.dirty = True
        return data

    def save(self) -> None:
        if not self.dirty or self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial = self.path.with_suffix(f".{os.getpid()}.tmp")
            with partial.open("wb") as f:
                pickle.dump(self.entries, f, protocol=pickle.HIGHEST_PROTOCOL)
            partial.replace(self.path)
            self.dirty = False
        except OSError:
            pass  # a read-only checkout still loads, only slower


PROJECT_CACHE = Path(__file__).resolve().parent.parent / ".cache" / "data-yaml.pickle"
_shared: ParseCache | None = None


def load_data(path: str | Path) -> Any:
    """A data file of the project (texts, flows, lexicon, rules) through one shared parse cache:
    parsing YAML with line numbers is most of what reading them costs. `save_data_cache` keeps it."""
    global _shared
    if _shared is None:
        _shared = ParseCache(PROJECT_CACHE)
    return _shared.load(Path(path))


def save_data_cache() -> None:
    if _shared is not None:
        _shared.save()
