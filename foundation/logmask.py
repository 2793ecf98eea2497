"""Keeps phone and ID numbers out of logs: every log record is masked when it is created.

A record factory (not a handler filter) so it covers every logger and every handler, including
ones configured later; tracebacks are formatted and masked up front too, since an exception
message may quote what a villager typed.
"""

from __future__ import annotations

import logging
from typing import Any

from foundation.privacy import mask_text

_formatter = logging.Formatter()


def masked_record(record: logging.LogRecord) -> logging.LogRecord:
    """The record with its message (and traceback text) masked; arguments are merged into the message."""
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: leave it for logging's own error report
        return record
    record.msg, record.args = mask_text(message), None
    if record.exc_info and not record.exc_text:
        record.exc_text = mask_text(_formatter.formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = mask_text(record.stack_info)
    return record


def install_log_masking() -> None:
    """Masks every record from now on in this process; calling it again changes nothing."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "masks_personal_numbers", False):
        return

    def create(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return masked_record(factory(*args, **kwargs))

    create.masks_personal_numbers = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(create)
