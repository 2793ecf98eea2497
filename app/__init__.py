"""Command-line wiring: the sub-commands behind bot.py."""
