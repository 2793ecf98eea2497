"""What one message costs the store, counted: a question is one load and one save; a submission
adds the check for another open application and the one write that stores it. And the session a long check leaves is small."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.wiring import assistant
from conversation.messages import ChannelLimits, Incoming
from storage.open import open_store
from tests.kit.clock import TestClock

LIMITS = ChannelLimits(max_chars=4000)
APPLY = ["申请纳入监测", "同意", "张三", "金墩村", "13812345678", "跳过", "4", "2万", "1", "老伴住院"]


class CountingStore:
    """The real store, counting every call made on it."""

    def __init__(self, store: Any) -> None:
        object.__setattr__(self, "_store", store)
        object.__setattr__(self, "calls", [])

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._store, name)
        if not callable(value):
            return value

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return value(*args, **kwargs)

        return counted

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._store, name, value)


def bot(tmp_path: Path) -> tuple[Any, CountingStore]:
    store = CountingStore(open_store(str(tmp_path / "calls.db")))
    return assistant(store, region="heqing", clock=TestClock()), store  # type: ignore[arg-type]


def say(core: Any, store: CountingStore, text: str, user: str = "u1") -> list[str]:
    store.calls.clear()
    core.handle(Incoming("test", user, text), LIMITS)
    return list(store.calls)


def test_a_question_is_one_load_and_one_save(tmp_path: Path) -> None:
    core, store = bot(tmp_path)
    for question in ("娃读初中住校一学期补多少", "外出打工路费补多少", "菜单", "1", "家庭医生签约怎么弄"):
        assert say(core, store, question) == ["load_session", "save_session"], question


def test_a_submission_is_the_open_application_check_and_one_write(tmp_path: Path) -> None:
    """Before storing, the household's open applications are read (one open application per
    household): the user's role, their applications and the 代填 ones they confirmed."""
    core, store = bot(tmp_path)
    for answer in APPLY:
        say(core, store, answer)
    calls = say(core, store, "1")  # 确认提交
    assert calls == ["load_session", "get_user", "list_applications", "kv_get", "submit_application", "save_session"], calls
    assert len(store._store.list_applications(user=("test", "u1"))) == 1
    assert say(core, store, "1") == ["load_session", "save_session"]  # a double tap: told, nothing written


def test_a_long_household_check_leaves_a_small_session(tmp_path: Path) -> None:
    core, store = bot(tmp_path)
    for text in ("家庭核查", "2", "我家6口人是监测户，我45岁在广东打工，老婆43岁在家种地，儿子14岁读初中住校，女儿17岁读中职二年级，"
                 "老父亲72岁有二级残疾证，孙子5岁读幼儿园", "1", "1", "2", "1", "1", "2", "1"):
        core.handle(Incoming("test", "u2", text), LIMITS)
    size = len(json.dumps(store._store.load_session("test", "u2"), ensure_ascii=False).encode())
    assert size <= 4096, f"the session is {size} bytes"
