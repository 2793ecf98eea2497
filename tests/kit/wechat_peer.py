"""WeChat's side of the webhook, for tests and the load benchmark: `WeChatPeer` builds requests
as WeChat's servers send them (signed; encrypted in safe mode) and opens the replies."""

from __future__ import annotations

import secrets
import time
from typing import Any

import xmltodict
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

ACCOUNT = "gh_fanpin_test"


class WeChatPeer:
    def __init__(self, token: str, app_id: str = "", aes_key: str = "") -> None:
        self.token = token
        self.crypto = WeChatCrypto(token, aes_key, app_id) if aes_key else None

    @staticmethod
    def xml(user: str, msg_type: str, create_time: int | None = None, **fields: Any) -> str:
        """A message or event as WeChat posts it; MsgId= and other fields go in as given."""
        items = {"ToUserName": ACCOUNT, "FromUserName": user, "CreateTime": create_time or int(time.time()), "MsgType": msg_type, **fields}
        body = "".join(f"<{k}><![CDATA[{v}]]></{k}>" if isinstance(v, str) else f"<{k}>{v}</{k}>" for k, v in items.items())
        return f"<xml>{body}</xml>"

    def signature(self, timestamp: str, nonce: str, *extra: str) -> str:
        signer = WeChatSigner()
        signer.add_data(self.token, timestamp, nonce, *extra)
        return signer.signature

    def request(self, xml: str, user: str = "", timestamp: int | None = None) -> tuple[dict[str, str], bytes]:
        """Query parameters and body for one POST; encrypted when the peer has an AES key."""
        ts, nonce = str(timestamp or int(time.time())), secrets.token_hex(5)
        query = {"signature": self.signature(ts, nonce), "timestamp": ts, "nonce": nonce, "openid": user}
        if self.crypto is None:
            return query, xml.encode()
        body = self.crypto.encrypt_message(xml, nonce, ts)
        query |= {"encrypt_type": "aes", "msg_signature": xmltodict.parse(body)["xml"]["MsgSignature"]}
        return query, body.encode()

    def open_reply(self, text: str) -> dict[str, Any] | None:
        """The reply's fields (Content…), or None for WeChat's "no reply" answers."""
        if text in ("", "success"):
            return None
        if self.crypto is not None:
            outer = xmltodict.parse(text)["xml"]
            text = self.crypto.decrypt_message(text, outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"])
        return xmltodict.parse(text)["xml"]
