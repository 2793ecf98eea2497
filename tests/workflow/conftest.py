"""Workflow tests run on SQLite and on PostgreSQL (TEST_POSTGRES_URL; skipped when unset)."""

from tests.workflow.stores import store_url  # noqa: F401  (the fixture)
