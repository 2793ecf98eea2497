"""Argument parsing for bot.py. Each sub-command is a module `app/<name>_cmd.py` exposing
`register(subparsers)`, which adds its parser and sets `func(args) -> int`; so adding a
command never touches this file.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from pathlib import Path

import app
from foundation.logmask import install_log_masking


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bot.py", description="防止返贫政策助手")
    sub = parser.add_subparsers(dest="command")
    for info in sorted(pkgutil.iter_modules([str(Path(app.__file__).parent)]), key=lambda i: i.name):
        if info.name.endswith("_cmd"):
            importlib.import_module(f"app.{info.name}").register(sub)
    return parser


def main(argv: list[str]) -> int:
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8")
    install_log_masking()  # phone and ID numbers never reach a log in full
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        from app.default_cmd import run_default

        return run_default()
    return args.func(args)
