"""`bot.py admin`: invite codes, the staff list, revoking, exporting with masked numbers."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from app.cli import main
from storage.open import open_store


def admin(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["admin", *args])
    return code, capsys.readouterr().out


def test_invite_list_revoke(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = admin(capsys, "invite", "--role", "cadre", "--village", "金墩", "--region", "鹤庆县", "--db", store_url)
    assert code == 0 and "金墩村" in out
    invite = re.search(r"邀请码 ([A-Z]{4}-\d{4})", out)
    assert invite is not None
    with open_store(store_url) as store:
        assert store.redeem_invite(invite.group(1), "wechat", "c1") is not None
        assert store.redeem_invite(invite.group(1), "wechat", "c2") is None
    assert admin(capsys, "list", "--db", store_url) == (0, "wechat\tc1\tcadre\theqing\t金墩村\n")
    assert admin(capsys, "revoke", "wechat", "c1", "--db", store_url)[0] == 0
    assert "还没有工作人员" in admin(capsys, "list", "--db", store_url)[1]
    assert admin(capsys, "revoke", "wechat", "c1", "--db", store_url)[0] == 1


@pytest.mark.parametrize("args, message", [
    (["--role", "cadre", "--region", "鹤庆县"], "--village"),
    (["--role", "cadre", "--village", "金墩村"], "同名的村"),
    (["--role", "township"], "--region"),
    (["--role", "county", "--region", "火星县"], "不认识的地区"),
])
def test_invite_mistakes(tmp_path, capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    code, out = admin(capsys, "invite", *args, "--db", str(tmp_path / "a.db"))
    assert code == 2 and message in out


def test_export_masks_phone_and_id(store_url: str, capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    with open_store(store_url) as store:
        store.submit_application("k", {"name": "张三", "phone": "13812345678", "id_number": "11010519491231002X", "risk": "因病"},
                                 channel="wechat", user="v1", village="金墩村", region="heqing")
    code, out = admin(capsys, "export", "--db", store_url)
    [row] = json.loads(out)
    assert code == 0 and (row["phone"], row["id_number"], row["state_label"]) == ("138****5678", "1101**********002X", "已提交，等待村里走访排查")
    target = tmp_path / "apps.csv"
    assert admin(capsys, "export", "--format", "csv", "--out", str(target), "--db", store_url)[0] == 0
    text = target.read_text(encoding="utf-8")
    assert "13812345678" not in text and "11010519491231002X" not in text
    assert next(csv.DictReader(io.StringIO(text)))["number"] == "SQ2026-000001"
