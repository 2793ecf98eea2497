"""`bot.py wechat`: serve the WeChat Official Account webhook; `bot.py wechat menu`: publish the menu."""

from __future__ import annotations

import argparse

from channels.wechat.config import ConfigError, WeChatConfig


def register(sub) -> None:
    wechat = sub.add_parser("wechat", help="微信公众号服务（/wechat、/healthz、/metrics）")
    wechat.add_argument("--config", help="配置文件（YAML，键同环境变量 WECHAT_TOKEN 等）")
    wechat.add_argument("--host", default="127.0.0.1", help="监听地址，默认 127.0.0.1")
    wechat.add_argument("--port", type=int, default=8080, help="监听端口，默认 8080")
    wechat.set_defaults(func=run_server)
    actions = wechat.add_subparsers(dest="wechat_command")
    menu = actions.add_parser("menu", help="把 channels/wechat/menu.yaml 发布为公众号菜单")
    menu.add_argument("--config", default=argparse.SUPPRESS, help="配置文件（同上）")
    menu.set_defaults(func=run_menu)


def _config(args: argparse.Namespace) -> WeChatConfig | None:
    try:
        return WeChatConfig.load(args.config)
    except (ConfigError, OSError) as exc:
        print(f"配置有误：{exc}")
        return None


def run_server(args: argparse.Namespace) -> int:
    from app.wiring import serve
    from channels.web.app import Console
    from channels.wechat.webhook import WeChatAdapter

    config = _config(args)
    if config is None:
        return 2
    mode = "安全模式" if config.aes_key else "明文模式"
    print(f"微信公众号：{mode}；{'可以' if config.has_api else '不能（未配置 AppID/AppSecret）'}发客服消息。")
    return serve(lambda core, store, metrics: [WeChatAdapter(core, store, config, metrics), Console(core, store, metrics)],
                 config.database_url or None, args.host, args.port)


def run_menu(args: argparse.Namespace) -> int:
    from wechatpy.exceptions import WeChatClientException

    from channels.wechat.menu import publish_menu
    from storage.open import open_store

    config = _config(args)
    if config is None:
        return 2
    store = open_store(config.database_url or None)
    try:
        publish_menu(config, store)
    except (ConfigError, WeChatClientException) as exc:
        print(f"发布菜单失败：{exc}")
        return 1
    finally:
        store.close()
    print("菜单已发布。微信里可能要过几分钟才显示。")
    return 0
