"""Fixtures of the WeChat tests: each runs on both stores, through a counting Assistant."""

from __future__ import annotations

import pytest

from tests.channels.channel_testkit import Counting


@pytest.fixture
def db_url(store_url: str) -> str:
    """Every WeChat test on both stores: the adapter makes a local store's calls (SQLite) on its
    event loop and sends a remote one's (PostgreSQL) to worker threads."""
    return store_url


@pytest.fixture
def core(make_assistant) -> Counting:
    return Counting(make_assistant())
