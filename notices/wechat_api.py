"""The WeChat API client (wechatpy), pointed wherever configuration says — a local fake in tests.

access_token: one per account, and a fresh fetch invalidates the old one (DOMAIN.md §7), so every
worker must share it: in Redis when REDIS_URL is set, else in this process's memory.
"""
import threading
import time

from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException
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
    # 40001 invalid credential, 40014 invalid token, 42001 token expired: fetch a new one, retry once.
    TOKEN_ERRORS = {40001, 40014, 42001}
    _retrying = threading.local()

    def _handle_result(self, res, method=None, url=None, result_processor=None, **kwargs):
        """wechatpy refetches the token on 40001/42001 and retries — but its fetch would find the very
        token WeChat just refused still fresh in Redis and loop. So the refused token is dropped first
        (only if it is still the stored one: another worker may have stored a new one since), and the
        retry is made once: a second refusal is raised, and the outbox tries again later."""
        result = res if isinstance(res, dict) else self._decode_result(res)
        code = result.get("errcode") if isinstance(result, dict) else None
        if code is None or int(code) not in self.TOKEN_ERRORS:
            return super()._handle_result(res, method, url, result_processor, **kwargs)
        if getattr(self._retrying, "active", False):
            raise WeChatClientException(int(code), result.get("errmsg", ""), client=self)
        used = (kwargs.get("params") or {}).get("access_token")
        if used and self.session.get(self.access_token_key) == used:
            self.session.delete(self.access_token_key)
        self._retrying.active = True
        try:
            return super()._handle_result(result, method, url, result_processor, **kwargs)
        finally:
            self._retrying.active = False

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


# Without Redis, one token store per process and API base: a client made for each pass of the clock
# (every minute) then reuses the token instead of fetching one each time, which would invalidate the one
# the previous client, or another part of this process, still holds.
_memory = {}


def session_storage(config):
    client = redis_client(config)
    if client is None:
        return _memory.setdefault(config["wechat"]["api_base"], MemoryStorage())
    return RedisStorage(client, prefix=config["redis"].get("prefix") or "sanxiang")


def make_client(config):
    wechat = config["wechat"]
    client = ConfiguredWeChatClient(wechat["appid"], wechat["secret"], session=session_storage(config),
                                    timeout=wechat.get("api_timeout_seconds"))
    client.API_BASE_URL = wechat["api_base"].rstrip("/") + "/"
    return client
