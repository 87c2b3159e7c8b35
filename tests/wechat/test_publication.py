"""处罚结果 / 公示 in the chat: the latest published decisions and a search of them."""
import pytest

from models import db, publication
from tests.web.test_publication import add


@pytest.fixture
def published(app):
    db.connect(reuse_if_open=True)
    add(1, publication.PUBLISHED)
    add(2, publication.PUBLISHED, party="奈曼旗阳光旅行社有限公司", item_name="旅行社业务经营许可")
    add(3, publication.WITHDRAWN, public_note="已撤回：该决定已被行政复议决定撤销")
    add(4, publication.PENDING)
    yield
    if not db.is_closed():
        db.close()


def test_latest_and_search(wechat_user, published):
    latest = wechat_user.say("处罚结果")
    assert "奈曼旗第1网吧" in latest and "已撤回" in latest and "奈曼旗第4网吧" not in latest
    assert len(latest) <= 600
    assert "奈曼旗第1网吧" in wechat_user.say("公示")
    found = wechat_user.say("公示 旅行社")
    assert "阳光旅行社" in found and "第1网吧" not in found
    assert "没有找到" in wechat_user.say("公示 不存在的东西")


def test_nothing_published_yet(wechat_user, app):
    assert "暂无公开" in wechat_user.say("公示")
