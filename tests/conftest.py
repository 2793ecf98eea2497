"""Fixtures shared by every test folder."""

from tests.store_backends import store_url  # noqa: F401  (the SQLite/PostgreSQL store fixture)
