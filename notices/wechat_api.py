"""The WeChat API client (wechatpy), pointed wherever configuration says — a local fake in tests.

access_token: one per account, and a fresh fetch invalidates the old one (DOMAIN.md §7), so every
worker must share it: in Redis when REDIS_URL is set, else in this process's memory.
"""
from wechatpy import WeChatClient
from wechatpy.session.memorystorage import MemoryStorage
from wechatpy.session.redisstorage import RedisStorage


class ConfiguredWeChatClient(WeChatClient):
    """wechatpy's client with the API base from configuration, also for fetching the token.

    wechatpy 1.8.18 hard-codes the token URL in `fetch_access_token`; everything else follows
    API_BASE_URL, so only that one call needs the configured base.
    """

    def fetch_access_token(self):
        return self._fetch_access_token(
            url=self.API_BASE_URL + "token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )


def session_storage(config):
    url = config["redis"].get("url")
    if url:
        import redis

        return RedisStorage(redis.Redis.from_url(url), prefix="sanxiang")
    return MemoryStorage()


def make_client(config):
    wechat = config["wechat"]
    client = ConfiguredWeChatClient(wechat["appid"], wechat["secret"], session=session_storage(config))
    client.API_BASE_URL = wechat["api_base"].rstrip("/") + "/"
    return client
