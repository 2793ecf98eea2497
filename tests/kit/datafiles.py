"""Broken copies of shipped data files, for the tests that a mistake names its file, line and reason."""

from __future__ import annotations

from pathlib import Path


def broken(tmp_path: Path, source: Path, old: str, new: str) -> Path:
    """A copy of `source` in `tmp_path` with the first `old` replaced by `new`."""
    text = source.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / source.name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    """The first line of `path` that holds `needle`, counted from 1."""
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)
