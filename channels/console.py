"""The console channel: a terminal chat for local use, and JSON lines for programs and tests.

`--jsonl` reads one JSON object per line, {"user": "<id>", "text": "<message>"}, and writes
exactly one JSON object per input line, flushed: {"user": "<id>", "replies": ["...", ...]}.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import ClassVar, TextIO

from channels.base import Adapter
from conversation.messages import ChannelLimits, Incoming, Reply

BAD_LINE = "输入格式不对：每行应为 {\"user\": \"...\", \"text\": \"...\"}"
BAD_USER = "user 不对：应为 1 到 64 个字符的字符串（不含空白和控制字符）。"
BAD_TEXT = "text 不对：应为字符串。"
USER_ID = re.compile(r"[^\s\x00-\x1f\x7f\ud800-\udfff]{1,64}")


class ConsoleAdapter(Adapter):
    channel: ClassVar[str] = "console"
    limits: ClassVar[ChannelLimits] = ChannelLimits(max_chars=4000, buttons=False)

    async def send_push(self, user: str, replies: list[Reply]) -> bool:
        print(f"[提醒 → {user}]")
        for reply in replies:
            print(reply.as_text(), "\n", flush=True)
        return True

    async def run_jsonl(self, source: TextIO, sink: TextIO) -> None:
        """One answer line per input line, whatever the line holds: a line that is not a message
        gets an error line, and the next line is read."""
        for line in source:
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                user, text = data["user"], data.get("text", "")
            except (ValueError, KeyError, TypeError):
                self._write(sink, None, [BAD_LINE])
                continue
            if not isinstance(user, str) or not USER_ID.fullmatch(user):
                self._write(sink, None, [BAD_USER])
                continue
            if not isinstance(text, str):
                self._write(sink, user, [BAD_TEXT])
                continue
            replies = await self.converse(Incoming(self.channel, user, text))
            self._write(sink, user, [r.as_text() for r in replies])

    @staticmethod
    def _write(sink: TextIO, user: str | None, replies: list[str]) -> None:
        sink.write(json.dumps({"user": user, "replies": replies}, ensure_ascii=False) + "\n")
        sink.flush()

    async def run_interactive(self, user: str = "console-user") -> None:
        print("防止返贫政策助手（控制台）。输入“菜单”查看功能，Ctrl+D 退出。\n")
        self._show(await self.converse(Incoming(self.channel, user, "", kind="follow")))
        loop = asyncio.get_running_loop()
        while True:
            try:
                text = await loop.run_in_executor(None, input, "> ")
            except (EOFError, KeyboardInterrupt):
                print()
                return
            self._show(await self.converse(Incoming(self.channel, user, text)))

    @staticmethod
    def _show(replies: list[Reply]) -> None:
        for reply in replies:
            print(reply.as_text(), "\n", flush=True)
