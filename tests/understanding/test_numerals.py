"""Chinese numerals read as people say amounts, ages and counts (understanding/numerals.py)."""

from __future__ import annotations

import pytest

from understanding.numerals import to_digits


@pytest.mark.parametrize("said, digits", [
    ("孩子十七岁", "孩子17岁"), ("七十三岁", "73岁"), ("一百零五岁", "105岁"), ("三口人", "3口人"),
    ("收入一万二", "收入12000"), ("六千五", "6500"), ("三百五", "350"), ("两万五", "25000"), ("4万5", "45000"),
    ("一点五万", "15000"), ("3.5万", "35000"), ("一千零五十", "1050"), ("一万零五百", "10500"),
    ("二零二六年", "2026年"), ("百分之五十", "50%"), ("读初二", "读初2"), ("第二个", "第2个"), ("两个孩子", "2个孩子"),
])
def test_numerals(said: str, digits: str) -> None:
    assert to_digits(said) == digits


@pytest.mark.parametrize("text", ["万一", "俩娃", "没有数字", "5个月"])
def test_text_without_a_number_is_left_alone(text: str) -> None:
    assert to_digits(text) == text
