"""The WeChat API client (wechatpy), pointed wherever configuration says — a local fake in tests.

access_token: one per account, and a fresh fetch invalidates the old one (DOMAIN.md §7), so every
worker must share it: in Redis when REDIS_URL is set, else in this process's memory.
"""
import time

from wechatpy import WeChatClient
from wechatpy.session.memorystorage import MemoryStorage
from wechatpy.session.redisstorage import RedisStorage

from models.database import redis_client


class ConfiguredWeChatClient(WeChatClient):
    """wechatpy's client with the API base from configuration, also for fetching the token.

    wechatpy 1.8.18 hard-codes the token URL in `fetch_access_token`; everything else follows
    API_BASE_URL, so only that one call needs the configured base. With Redis, the fetch happens
    under a lock shared by every worker, and a worker that waited for it uses the token the other
    one just fetched instead of fetching (and so invalidating) again.
    """

    REFRESH_MARGIN_SECONDS = 60  # what wechatpy's access_token property also treats as expired

    def fetch_access_token(self):
        storage = self.session
        if not isinstance(storage, RedisStorage):
            return self._fetch_from_api()
        name = storage.key_name(self.access_token_key)
        with storage.redis.lock(name + ":refresh", timeout=30, blocking_timeout=15):
            ttl = storage.redis.ttl(name)
            if ttl > self.REFRESH_MARGIN_SECONDS:
                self.expires_at = int(time.time()) + ttl
                return {"access_token": storage.get(self.access_token_key), "expires_in": ttl}
            return self._fetch_from_api()

    def _fetch_from_api(self):
        return self._fetch_access_token(
            url=self.API_BASE_URL + "token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )


def session_storage(config):
    client = redis_client(config)
    if client is None:
        return MemoryStorage()
    return RedisStorage(client, prefix=config["redis"].get("prefix") or "sanxiang")


def make_client(config):
    wechat = config["wechat"]
    client = ConfiguredWeChatClient(wechat["appid"], wechat["secret"], session=session_storage(config),
                                    timeout=wechat.get("api_timeout_seconds"))
    client.API_BASE_URL = wechat["api_base"].rstrip("/") + "/"
    return client
