"""WeChat's access token, kept in the shared store so that every process uses one token and only
one of them refreshes it."""

from __future__ import annotations

import time
from typing import Any

from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage

from channels.wechat.config import WeChatConfig
from storage.base import KVStore

POLL = 0.05


class StoreSession(SessionStorage):
    """wechatpy's token storage on our store, shared by every process.

    Tokens are kept 5 minutes less than they live, so no process uses one that is about
    to expire.
    """

    MARGIN = 300

    def __init__(self, store: KVStore) -> None:
        self.store = store

    def get(self, key: str, default: Any = None) -> Any:
        return self.store.kv_get(f"wechatpy:{key}") or default

    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        if value is not None:
            kept = max(ttl - self.MARGIN, 60) if ttl else None
            self.store.kv_set(f"wechatpy:{key}", str(value), kept)


class SharedTokenClient(WeChatClient):
    """WeChatClient whose access token lives in the store and is refreshed under a lease.

    Many processes start at once after a deploy; without the lease each would fetch a
    token and invalidate the others'. The API base URL is configurable (tests and
    proxies); wechatpy hard-codes the token URL, so fetching is redone here.
    """

    LEASE = 30.0
    LEASE_WAIT = 15.0

    def __init__(self, config: WeChatConfig, store: KVStore, timeout: float = 5.0) -> None:
        super().__init__(config.app_id, config.app_secret, session=StoreSession(store), timeout=timeout)
        self.API_BASE_URL = config.api_base_url
        self.store = store

    @property
    def access_token(self) -> str:
        return self.session.get(self.access_token_key) or self._refresh(stale=None)

    def fetch_access_token(self) -> dict[str, str]:
        """wechatpy calls this when WeChat rejected the stored token."""
        return {"access_token": self._refresh(stale=self.session.get(self.access_token_key))}

    def _refresh(self, stale: str | None) -> str:
        """Fetches a token unless another process replaced `stale` while we waited."""
        lease = f"{self.access_token_key}:refresh"
        deadline = time.monotonic() + self.LEASE_WAIT
        while not self.store.kv_lock(lease, self.LEASE):
            if time.monotonic() > deadline:
                raise WeChatClientException(None, "waited too long for another process to refresh the access token")
            time.sleep(POLL)
        try:
            current = self.session.get(self.access_token_key)
            if current and current != stale:
                return current
            params = {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret}
            return self._fetch_access_token(url=f"{self.API_BASE_URL}token", params=params)["access_token"]
        finally:
            self.store.kv_unlock(lease)
