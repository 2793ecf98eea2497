"""Fixtures of the channel tests: a real Assistant on a real SQLite file."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.wiring import assistant
from conversation.assistant import Assistant
from storage.open import open_store


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'bot.db'}"


@pytest.fixture
def make_assistant(db_url: str) -> Iterator[Callable[[], Assistant]]:
    """A real Assistant on a real SQLite file; call again for a 'restarted' one on the same file."""
    stores = []

    def make() -> Assistant:
        store = open_store(db_url)
        stores.append(store)
        return assistant(store)

    yield make
    for store in stores:
        store.close()
