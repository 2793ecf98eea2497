"""Phone and ID numbers: validated when typed, masked when shown, masked in every log line."""

from __future__ import annotations

import logging

import pytest

from app.cli import build_parser
from foundation.logmask import install_log_masking
from foundation.privacy import mask_id, mask_phone, mask_text, normalize_id_number, normalize_phone


@pytest.mark.parametrize("typed, phone", [
    ("13812345678", "13812345678"), ("138 1234 5678", "13812345678"), ("138-1234-5678", "13812345678"),
    ("+86 138 1234 5678", "13812345678"), ("１３８１２３４５６７８", "13812345678"),
    ("1381234567", None), ("23812345678", None), ("12812345678", None), ("138123456789", None), ("电话", None),
])
def test_mainland_mobile_numbers(typed: str, phone: str | None) -> None:
    assert normalize_phone(typed) == phone


@pytest.mark.parametrize("typed, id_number", [
    ("11010519491231002X", "11010519491231002X"), ("11010519491231002x", "11010519491231002X"),
    ("440524188001010014", "440524188001010014"),
    ("110105194912310021", None),  # wrong check character
    ("110105194913310028", None),  # month 13
    ("11010519491231002", None), ("1101051949123100212", None),
])
def test_resident_id_numbers_with_gb11643_check(typed: str, id_number: str | None) -> None:
    assert normalize_id_number(typed) == id_number


def test_masks() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_id("440105198001011234") == "4401**********1234"
    assert mask_phone(None) == mask_id("") == ""
    text = "张三 13812345678，身份证 11010519491231002X，订单号 213812345678901，金额 6500"
    assert mask_text(text) == "张三 138****5678，身份证 1101**********002X，订单号 213812345678901，金额 6500"


def test_log_lines_never_carry_full_numbers(caplog: pytest.LogCaptureFixture) -> None:
    build_parser()  # the app entry installs the masking
    install_log_masking()  # and installing again changes nothing
    log = logging.getLogger("test.personal")
    with caplog.at_level(logging.INFO):
        log.info("user typed %s and %s", "13812345678", "11010519491231002X")
        try:
            raise ValueError("bad phone 13900001111")
        except ValueError:
            log.exception("handling %s failed", {"phone": "13700002222"})
    text = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
    assert "138****5678" in text and "1101**********002X" in text and "139****1111" in text and "137****2222" in text
    for full in ("13812345678", "11010519491231002X", "13900001111", "13700002222"):
        assert full not in text
