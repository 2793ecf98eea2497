"""The Official Account's menu: menu.yaml, checked, as WeChat's menu/create call wants it, and
each click key's command for the conversation (`python bot.py wechat menu` publishes it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from channels.wechat.config import ConfigError, WeChatConfig
from channels.wechat.token import SharedTokenClient
from storage.base import KVStore

MENU_FILE = Path(__file__).with_name("menu.yaml")


def load_menu(path: Path = MENU_FILE) -> tuple[dict[str, Any], dict[str, str]]:
    """The menu for WeChat's menu/create call, and each click key's command for the core."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    commands: dict[str, str] = {}

    def button(item: dict[str, Any], top: bool) -> dict[str, Any]:
        name = item["name"]
        if len(name.encode()) > (16 if top else 60):
            raise ConfigError(f"菜单名“{name}”太长。")
        if "sub_button" in item:
            if not top or not 1 <= len(item["sub_button"]) <= 5:
                raise ConfigError(f"菜单“{name}”的二级菜单要有 1 到 5 个，且只能放在一级下。")
            return {"name": name, "sub_button": [button(sub, top=False) for sub in item["sub_button"]]}
        key, command = item["key"], item["command"]
        if key in commands or len(key.encode()) > 128:
            raise ConfigError(f"菜单 key“{key}”重复或太长。")
        commands[key] = command
        return {"type": "click", "name": name, "key": key}

    if not 1 <= len(data["button"]) <= 3:
        raise ConfigError("一级菜单要有 1 到 3 个。")
    return {"button": [button(item, top=True) for item in data["button"]]}, commands


def publish_menu(config: WeChatConfig, store: KVStore) -> dict[str, Any]:
    """Publishes channels/wechat/menu.yaml as the account's menu (`python bot.py wechat menu`)."""
    if not config.has_api:
        raise ConfigError("创建菜单需要 WECHAT_APP_ID 和 WECHAT_APP_SECRET。")
    return SharedTokenClient(config, store).menu.create(load_menu()[0])
