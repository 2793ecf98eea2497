"""WeChat settings: from the environment or a YAML file with the same keys."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

import yaml

API_BASE_URL = "https://api.weixin.qq.com/cgi-bin/"


class ConfigError(ValueError):
    """Missing or unknown settings; the message is Chinese, for the operator."""


@dataclass(frozen=True)
class WeChatConfig:
    """Settings from the environment or a YAML file with the same keys (the file wins):
    WECHAT_TOKEN (required), WECHAT_APP_ID and WECHAT_APP_SECRET (for the API),
    WECHAT_AES_KEY (safe mode), WECHAT_TEMPLATE_ID and WECHAT_TEMPLATE_FIELD (pushes
    outside the 48-hour window: the template's one text field, default "content"),
    WECHAT_API_BASE_URL, DATABASE_URL, and WECHAT_ACCOUNT_ID: the account's original id
    (原始ID, gh_…); when set, a message addressed (ToUserName) to another account is refused.
    """

    token: str
    app_id: str = ""
    app_secret: str = ""
    aes_key: str = ""
    template_id: str = ""
    template_field: str = "content"
    api_base_url: str = API_BASE_URL
    database_url: str = ""
    account_id: str = ""

    @staticmethod
    def key(name: str) -> str:
        return "DATABASE_URL" if name == "database_url" else f"WECHAT_{name.upper()}"

    @classmethod
    def load(cls, path: str | None = None, environ: Mapping[str, str] = os.environ) -> WeChatConfig:
        keys = {cls.key(f.name): f.name for f in fields(cls)}
        values = {keys[k]: v for k, v in environ.items() if k in keys and v}
        if path:
            loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
            if not isinstance(loaded, dict):
                raise ConfigError(f"配置文件 {path} 应是“键: 值”的列表。")
            unknown = sorted(set(loaded) - set(keys))
            if unknown:
                raise ConfigError(f"配置文件 {path} 里有不认识的项：{'、'.join(unknown)}。可用：{'、'.join(keys)}")
            values |= {keys[k]: str(v) for k, v in loaded.items() if v not in (None, "")}
        if not values.get("token"):
            raise ConfigError("缺少 WECHAT_TOKEN（公众号后台“服务器配置”里的令牌）。")
        if values.get("aes_key") and (len(values["aes_key"]) != 43 or not values.get("app_id")):
            raise ConfigError("安全模式要 43 个字符的 WECHAT_AES_KEY，还要 WECHAT_APP_ID。")
        if not values.get("api_base_url", API_BASE_URL).endswith("/"):
            values["api_base_url"] += "/"
        return cls(**values)

    @property
    def has_api(self) -> bool:
        return bool(self.app_id and self.app_secret)
