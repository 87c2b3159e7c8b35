"""The WeChat API client: pointed at configuration, its access_token shared between workers in Redis."""


from notices.wechat_api import make_client


def config_for(fake_wechat, redis_url=""):
    return {"wechat": {"appid": "wx_shared", "secret": "s", "api_base": fake_wechat.api_base},
            "redis": {"url": redis_url}}


def test_token_is_shared_through_redis(fake_wechat, redis_url):
    """Two workers' clients: the second uses the first one's token instead of invalidating it (40001)."""
    first = make_client(config_for(fake_wechat, redis_url))
    second = make_client(config_for(fake_wechat, redis_url))
    first.message.send_text("o_user", "您好")
    second.message.send_text("o_user", "您好")
    assert fake_wechat.token_fetches == 1
    tokens = {args["access_token"] for path, args, _ in fake_wechat.requests if path.endswith("/custom/send")}
    assert tokens == {"FAKE_TOKEN_1"}


def test_without_redis_each_process_keeps_its_own(fake_wechat):
    client = make_client(config_for(fake_wechat))
    client.message.send_text("o_user", "您好")
    client.message.send_text("o_user", "再见")
    assert fake_wechat.token_fetches == 1
    assert [b["text"]["content"] for b in fake_wechat.sent("/custom/send")] == ["您好", "再见"]


def test_workers_refreshing_at_once_fetch_one_token(fake_wechat, redis_url):
    """Eight workers find no token at the same moment: the refresh lock lets exactly one fetch it."""
    from concurrent.futures import ThreadPoolExecutor

    clients = [make_client(config_for(fake_wechat, redis_url)) for _ in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        tokens = list(pool.map(lambda client: client.access_token, clients))
    assert fake_wechat.token_fetches == 1
    assert set(tokens) == {"FAKE_TOKEN_1"}
