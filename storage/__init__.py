"""Persistence: one interface, SQLite (default) and PostgreSQL back ends, chosen by DATABASE_URL."""
