"""What `python bot.py` with no sub-command does: the console chat (channels need credentials)."""

from __future__ import annotations


def register(sub) -> None:
    """No parser: this module only supplies the default action."""


def run_default() -> int:
    from app.console_cmd import run_interactive

    return run_interactive(db=None, region=None, date=None)
