"""Fixtures for the knowledge-base tests (kept here, not in tests/conftest.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # so `pytest` works as well as `python -m pytest`
    sys.path.insert(0, str(ROOT))

from policy_kb.loader import DATA_DIR, SOURCES_DIR, load_kb, squeeze  # noqa: E402


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def kb():
    """The project's knowledge base, loaded once for the session."""
    return load_kb()


@pytest.fixture(scope="session")
def source_texts() -> dict[str, str]:
    """Seed texts by file name, with all whitespace removed (as the loader compares quotes)."""
    return {p.name: squeeze(p.read_text(encoding="utf-8")) for p in SOURCES_DIR.glob("*.txt")}


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA_DIR
