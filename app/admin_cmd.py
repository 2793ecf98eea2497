"""`bot.py admin`: invite codes for roles, the list of staff, revoking a role, exporting applications.

    python bot.py admin invite --role cadre --village 金墩村 --region 鹤庆县
    python bot.py admin list
    python bot.py admin revoke wechat <openid>
    python bot.py admin export --format csv --out applications.csv
    python bot.py admin login-link wechat <openid>

The store is --db, else DATABASE_URL, else data/assistant.db. Exports mask phone and ID numbers.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

INVITE_ROLES = ("cadre", "township", "county", "admin")
DAY = 24 * 3600


def register(sub: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", help="存储：文件路径或数据库 URL（默认 DATABASE_URL，否则 data/assistant.db）")
    admin = sub.add_parser("admin", help="管理：邀请码、工作人员、导出申请")
    actions = admin.add_subparsers(dest="admin_command", required=True)
    invite = actions.add_parser("invite", parents=[common], help="生成一次性邀请码")
    invite.add_argument("--role", required=True, choices=INVITE_ROLES, help="cadre 村干部/结对帮扶人，township 乡镇，county 县级，admin 管理员")
    invite.add_argument("--village", action="append", default=[], help="村名（村干部必填，可写多次）")
    invite.add_argument("--region", help="县，如 鹤庆县（除管理员外都必填）")
    invite.add_argument("--days", type=float, default=7, help="几天内有效，默认 7")
    invite.set_defaults(func=run_invite)
    listing = actions.add_parser("list", parents=[common], help="列出有角色的用户")
    listing.add_argument("--role", choices=INVITE_ROLES)
    listing.set_defaults(func=run_list)
    revoke = actions.add_parser("revoke", parents=[common], help="收回角色（变回村民）")
    revoke.add_argument("channel", help="wechat、telegram 等")
    revoke.add_argument("user", help="用户 ID（见 admin list）")
    revoke.set_defaults(func=run_revoke)
    export = actions.add_parser("export", parents=[common], help="导出申请（手机号、身份证号打码）")
    export.add_argument("--format", choices=("json", "csv"), default="json")
    export.add_argument("--out", help="写入文件（默认打印）")
    export.set_defaults(func=run_export)
    login = actions.add_parser("login-link", parents=[common], help="给工作人员生成网页后台的一次性登录链接（10分钟内有效）")
    login.add_argument("channel", help="wechat、telegram 等")
    login.add_argument("user", help="用户 ID（见 admin list）")
    login.set_defaults(func=run_login_link)


def _store(args: argparse.Namespace):
    from storage.open import open_store

    return open_store(args.db)


def run_invite(args: argparse.Namespace) -> int:
    from policy_kb.loader import default_kb
    from workflow.access import create_invite
    from workflow.model import load_texts

    kb = default_kb()
    region = None
    if args.region:
        try:
            region = kb.resolve_region(args.region).id
        except KeyError:
            print(f"不认识的地区：{args.region}。可选：{'、'.join(r.name for r in kb.regions.values())}")
            return 2
    if args.role == "cadre" and not args.village:
        print("村干部的邀请码要写 --village 村名。")
        return 2
    if args.role != "admin" and region is None:  # a village is only known by its county: two may both have a 金墩村
        print("邀请码要写 --region 县名（如 鹤庆县）：不同县可能有同名的村。")
        return 2
    store = _store(args)
    try:
        invite = create_invite(store, args.role, args.village, region, time.time() + args.days * DAY)
    finally:
        store.close()
    where = "、".join(invite.villages) or (kb.regions[region].name if region else "全部")
    print(f"邀请码：{invite.code}（{load_texts()['role_names'][args.role]}，{where}，{args.days:g}天内有效，只能用一次）")
    print(f"请对方在微信或 Telegram 里给本号发送：邀请码 {invite.code}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    store = _store(args)
    try:
        users = [u for u in store.list_users(role=args.role) if u.role != "villager"]
    finally:
        store.close()
    if not users:
        print("还没有工作人员。用 admin invite 生成邀请码。")
    for u in users:
        print(f"{u.channel}\t{u.user}\t{u.role}\t{u.region or '-'}\t{'、'.join(u.villages) or '-'}")
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    store = _store(args)
    try:
        revoked = store.revoke_role(args.channel, args.user)
    finally:
        store.close()
    print("已收回角色，现在是村民。" if revoked else "这个用户没有可收回的角色。")
    return 0 if revoked else 1


def run_export(args: argparse.Namespace) -> int:
    from workflow.export import export
    from workflow.model import load_workflow

    store = _store(args)
    try:
        text = export(store.list_applications(), load_workflow(), args.format)
    finally:
        store.close()
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"已导出到 {args.out}")
    else:
        sys.stdout.write(text)
    return 0


def run_login_link(args: argparse.Namespace) -> int:
    from conversation.skills.staff_login import issue_login_link
    from workflow.access import actor_of

    store = _store(args)
    try:
        link = issue_login_link(store, actor_of(store, args.channel, args.user), time.time())
    finally:
        store.close()
    if link is None:
        print("这个用户不是工作人员（村干部、乡镇或县级审核人员），不能登录后台。")
        return 1
    print(f"登录链接（10分钟内有效，只能用一次）：{link}")
    return 0
