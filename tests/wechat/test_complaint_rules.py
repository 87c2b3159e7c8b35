"""旅游投诉 in the chat: the dialogue asks when the trip ended, warns when the 90-day filing limit
(《旅游投诉处理办法》) has passed, and staff see it; other kinds of complaint are not asked."""
import datetime as dt

import pytest

from handlers.wechat.complaints import read_day
from models import Staff, db
from models.complaints import Complaint
from tests.conftest import WeChatUser

NOW = dt.datetime(2026, 11, 27, 10, 0)
TODAY = NOW.date()


@pytest.fixture
def citizen(client, app, tmp_path):
    app.config["CLOCK"] = NOW.timestamp
    app.config["SANXIANG"]["complaints"]["evidence_dir"] = str(tmp_path / "evidence")
    return WeChatUser(client, app, "o_tourist")


@pytest.mark.parametrize("text, day", [
    ("2026-11-20", dt.date(2026, 11, 20)), ("2026年8月1日", dt.date(2026, 8, 1)), ("11月20日", dt.date(2026, 11, 20)),
    ("12.30", dt.date(2025, 12, 30)),  # no year: the latest such day not after today
    ("昨天", dt.date(2026, 11, 26)), ("2026-02-30", None), ("下周", None), ("", None),
])
def test_dates_as_people_type_them(text, day):
    assert read_day(text, TODAY) == day


def file_tourism(citizen, trip_answer):
    assert "请选择投诉类别" in citizen.say("投诉")
    citizen.say("旅行社")
    asked = citizen.say("低价团强迫购物，不买不让走")
    assert "旅游行程是哪天结束的" in asked
    after = citizen.say(trip_answer)
    citizen.say("大沁他拉镇某购物店")
    citizen.say("跳过")
    summary = citizen.say("匿名")
    done = citizen.say("提交")
    assert "提交成功" in done
    return after, summary


def test_a_late_tourism_complaint_is_warned_and_marked(citizen, client, app):
    after, summary = file_tourism(citizen, "2026年8月1日")
    assert "已超过90日" in after and "《旅游投诉处理办法》第十条" in after and "在哪里发生的" in after
    assert "行程结束：2026-08-01" in summary
    db.connect(reuse_if_open=True)
    [complaint] = Complaint.select()
    assert complaint.trip_ended_on == dt.date(2026, 8, 1)
    assert "超过90日" in complaint.filed_late(app.config["SANXIANG"])
    Staff.add("o_clerk", "张丽", "受理员")
    clerk = WeChatUser(client, app, "o_clerk")
    assert "【超过投诉时效】" in clerk.say("#待办")
    shown = clerk.say(f"#查看 {complaint.ticket}")
    assert "行程结束：2026-08-01（行程结束118日后提出，超过90日" in shown
    assert "90日" in clerk.say(f"#不予受理 {complaint.ticket}")  # the rule's own reason is offered


def test_a_timely_one_is_not_marked_and_unreadable_dates_are_asked_again(citizen, app):
    assert "请选择投诉类别" in citizen.say("投诉")
    citizen.say("导游")
    citizen.say("导游辱骂游客，强迫消费")
    assert "没看懂这个日期" in citizen.say("上个月吧")
    assert "不能晚于今天" in citizen.say("2026-12-25")
    assert "已超过" not in citizen.say("11月20日")


def test_other_kinds_are_not_asked(citizen):
    citizen.say("投诉")
    citizen.say("网吧")
    assert "在哪里发生的" in citizen.say("网吧接纳未成年人上网")


def test_the_web_form_takes_the_date(visitor, app):
    app.config["CLOCK"] = NOW.timestamp
    form = {"category": "travel_agency", "content": "旅行社擅自取消行程，不退费用。", "form_token": "t-trip-1",
            "trip_ended_on": "2026-11-01"}
    response = visitor.post("/complaints/new", data=form)
    assert response.status_code == 200
    bad = visitor.post("/complaints/new", data={**form, "form_token": "t-trip-2", "trip_ended_on": "11/01/2026"})
    assert bad.status_code == 400 and "2026-11-20 的形式" in bad.get_data(as_text=True)
    db.connect(reuse_if_open=True)
    assert [c.trip_ended_on for c in Complaint.select()] == [dt.date(2026, 11, 1)]
