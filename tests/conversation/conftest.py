"""Fixtures for conversation tests: a chat over a real SQLite file per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.kit.world import Chat


@pytest.fixture
def chat(tmp_path: Path) -> Chat:
    return Chat(tmp_path / "chat.db")
