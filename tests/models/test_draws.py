"""Draws on a real database (SQLite and PostgreSQL): pools, plans, commit → reveal → run, the case-file
entries, verification against the log, outcomes and the publication due date."""
import datetime as dt
import json

import pytest

import bot
from models import Officer, audit, db, draw_rule, draws, ledger
from models.catalogue import ImportRefused
from models.seed import prepare_database
from models.staff import Staff
from models.workdays import working_calendar
from tests.conftest import backends, make_config, postgresql_schema

CST = ledger.CHINA_TZ
COMMIT_AT = dt.datetime(2026, 11, 30, 10, 0, tzinfo=CST)
DRAW_ON = "2026-12-02"
REVEAL_AT = dt.datetime(2026, 12, 2, 21, 30, tzinfo=CST)
SECRET = "5a" * 32
VALUE = "03 07 12 19 25 31 + 08"
SOURCE = "中国福利彩票双色球2026139期开奖号码"


def uscc(n):
    base = f"92150525MA{n:07d}"
    return base + draws.uscc_check_char(base)


def target_rows(count=12):
    categories = ("网吧", "娱乐场所", "旅行社")
    return [(n + 2, {"uscc": uscc(n), "name": f"测试{categories[n % 3]}{n}号", "category": categories[n % 3],
                     "address": "大沁他拉镇", "risk_flags": "被投诉" if n % 5 == 0 else ""}) for n in range(count)]


def set_up_pools(config):
    """A 负责人, 12 targets, a plan and one conflict; returns the 负责人."""
    head = Staff.add(None, "测试局长", "负责人")
    draws.import_targets(config, target_rows())
    draws.create_plan(config, head, name="2026年12月双随机抽查", items=["旅行社经营活动检查", "娱乐场所经营活动检查"],
                      risk_ratio=100, start="2026-12-01", end="2026-12-10")
    draws.add_conflict("15052501001", uscc(2), "近亲属在该旅行社任职", head.label)
    return head


def full_draw(config, head):
    draw = draws.commit(config, "2026年12月双随机抽查", head, public_value_source=SOURCE, draw_on=DRAW_ON,
                        secret=SECRET, at=COMMIT_AT)
    draws.reveal(config, draw.id, head, VALUE, at=REVEAL_AT)
    return draws.run(config, draw.id, head, at=REVEAL_AT)


def test_commit_reveal_run_is_on_the_record_and_verifies(app):
    config = app.config["SANXIANG"]
    with app.app_context():
        db.connect(reuse_if_open=True)
        head = set_up_pools(config)
        draw = full_draw(config, head)
        steps = [(e.kind, e.step) for e in ledger.entries(draw.case_no)]
        assert steps == [("draw", "承诺"), ("draw", "揭示"), ("draw", "抽取")]
        assert [e.step for e in ledger.entries(draws.CONFLICTS_CASE)] == ["回避"]
        assert all(ok for ok, _ in draws.verify(draw.id)), draws.verify(draw.id)
        assert audit.verify_log([], None).ok  # the draw's entries are ordinary leaves of the one log
        result = draw.result_document()
        # the conflict holds; everyone assigned held a valid certificate on the draw day
        valid = {o.cert_no for o in draws.eligible_inspectors(dt.date(2026, 12, 2))}
        for target in result["selected"]:
            assert set(target["inspectors"]) <= valid and len(target["inspectors"]) == 2
            assert not (target["uscc"] == uscc(2) and "15052501001" in target["inspectors"])
        # the secret stays unpublished until the draw has run
        assert "reveal" in draw.published_files() and draw.published_files()["reveal"]["secret"] == SECRET


def test_secret_and_pools_stay_private_until_the_draw(app):
    config = app.config["SANXIANG"]
    with app.app_context():
        db.connect(reuse_if_open=True)
        head = set_up_pools(config)
        draw = draws.commit(config, "2026年12月双随机抽查", head, public_value_source=SOURCE, draw_on=DRAW_ON,
                            secret=SECRET, at=COMMIT_AT)
        assert sorted(draw.published_files()) == ["commitment", "plan"]
        assert SECRET not in json.dumps(draw.published_files()) + bytes(ledger.entries(draw.case_no)[0].body).decode()
        with pytest.raises(draws.DrawError, match="尚未录入公开数值"):
            draws.run(config, draw.id, head, at=REVEAL_AT)
        with pytest.raises(draws.DrawError, match="今天还不能录入"):
            draws.reveal(config, draw.id, head, VALUE, at=COMMIT_AT)
        draws.reveal(config, draw.id, head, VALUE, at=REVEAL_AT)
        with pytest.raises(draws.DrawError, match="不能更改"):
            draws.reveal(config, draw.id, head, "01 02 03 04 05 06 + 07", at=REVEAL_AT)
        draws.run(config, draw.id, head, at=REVEAL_AT)
        with pytest.raises(draws.DrawError, match="不能重抽"):
            draws.run(config, draw.id, head, at=REVEAL_AT)


def test_a_plan_is_committed_once(app):
    config = app.config["SANXIANG"]
    with app.app_context():
        db.connect(reuse_if_open=True)
        head = set_up_pools(config)
        draws.commit(config, "2026年12月双随机抽查", head, public_value_source=SOURCE, draw_on=DRAW_ON, at=COMMIT_AT)
        with pytest.raises(draws.DrawError, match="不能再次承诺"):
            draws.commit(config, "2026年12月双随机抽查", head, public_value_source=SOURCE, draw_on=DRAW_ON,
                         at=COMMIT_AT)
        assert draws.Draw.select().count() == 1


def test_an_inspector_suspended_after_the_draw_is_flagged(app):
    config = app.config["SANXIANG"]
    with app.app_context():
        db.connect(reuse_if_open=True)
        draw = full_draw(config, set_up_pools(config))
        assert draws.unavailable_now(draw, dt.date(2026, 12, 3)) == []
        cert = draw.result_document()["selected"][0]["inspectors"][0]
        Officer.update(status="暂扣").where(Officer.cert_no == cert).execute()
        assert [c for c, _, verdict in draws.unavailable_now(draw, dt.date(2026, 12, 3))] == [cert]
        assert all(ok for ok, _ in draws.verify(draw.id))  # the published draw itself still stands


def test_tampering_with_the_stored_files_is_found(app):
    config = app.config["SANXIANG"]
    with app.app_context():
        db.connect(reuse_if_open=True)
        draw = full_draw(config, set_up_pools(config))
        files = draw.frozen()
        files["conflicts"] = []  # someone quietly drops the conflict after the draw
        draws.Draw.update(files=json.dumps(files, ensure_ascii=False)).where(draws.Draw.id == draw.id).execute()
        lines = draws.verify(draw.id)
        assert not all(ok for ok, _ in lines)
        assert any("conflicts.json" in message and not ok for ok, message in lines)


def test_only_a_head_manages_draws(app):
    config = app.config["SANXIANG"]
    with app.app_context():
        db.connect(reuse_if_open=True)
        set_up_pools(config)
        clerk = Staff.add(None, "测试受理员", "受理员")
        with pytest.raises(draws.DrawError, match="负责人"):
            draws.commit(config, "2026年12月双随机抽查", clerk, public_value_source=SOURCE, draw_on=DRAW_ON,
                         at=COMMIT_AT)
        assert draws.Draw.select().count() == 0 and ledger.size() == 1  # only the conflict's entry


@pytest.mark.parametrize("kwargs, words", [
    ({"items": ["不存在的事项"]}, "随机抽查事项清单"),
    ({"ratios": {"网吧": "150"}}, "1到100"),
    ({"ratios": {"洗浴": "10"}}, "类别“洗浴”无效"),
    ({"inspectors": 1}, "不得少于2人"),
    ({"end": "2026-11-01"}, "早于"),
    ({"start": "明天"}, "日期"),
])
def test_a_bad_plan_is_refused(app, kwargs, words):
    config = app.config["SANXIANG"]
    with app.app_context():
        db.connect(reuse_if_open=True)
        head = Staff.add(None, "测试局长", "负责人")
        args = {"name": "计划", "items": ["旅行社经营活动检查"], "start": "2026-12-01", "end": "2026-12-10", **kwargs}
        with pytest.raises(draws.DrawError, match=words):
            draws.create_plan(config, head, **args)
        assert draws.DrawPlan.select().count() == 0


def test_default_ratios_come_from_the_configuration(app):
    config = app.config["SANXIANG"]
    with app.app_context():
        db.connect(reuse_if_open=True)
        head = Staff.add(None, "测试局长", "负责人")
        plan = draws.create_plan(config, head, name="计划", items=["旅行社经营活动检查"], start="2026-12-01",
                                 end="2026-12-10")
        assert plan.document()["ratios"] == config["draws"]["default_ratios"]
        assert plan.document()["ratios"]["网吧"] == 50 and plan.document()["ratios"]["旅行社"] == 100


def test_target_import_is_all_or_nothing(app):
    config = app.config["SANXIANG"]
    with app.app_context():
        db.connect(reuse_if_open=True)
        rows = target_rows(3)
        rows[1][1]["uscc"] = rows[1][1]["uscc"][:-1] + ("0" if rows[1][1]["uscc"][-1] != "0" else "1")
        rows[2][1]["category"] = "洗浴中心"
        rows.append((9, dict(rows[0][1])))
        with pytest.raises(ImportRefused) as refused:
            draws.import_targets(config, rows)
        text = [str(e) for e in refused.value.errors]
        assert any(t.startswith("第3行") and "校验位" in t for t in text)
        assert any(t.startswith("第4行") and "类别" in t for t in text)
        assert any(t.startswith("第9行") and "重复" in t for t in text)
        assert draws.DrawTarget.select().count() == 0


def test_outcomes_are_logged_and_set_the_publication_due_date(app):
    config = app.config["SANXIANG"]
    with app.app_context():
        db.connect(reuse_if_open=True)
        head = set_up_pools(config)
        draw = full_draw(config, head)
        calendar = working_calendar(config)
        assert draw.publication_due(config) == calendar.add_workdays(dt.date(2026, 12, 10), 20)
        # 20 working days after Thursday 2026-12-10: 2027-01-07 when only weekends are off, later with 元旦
        assert draw.publication_due(config).due >= dt.date(2027, 1, 7)
        selected = draw.result_document()["selected"]
        stranger = next(o for o in Officer.select() if all(o.cert_no not in t["inspectors"] for t in selected[:1]))
        with pytest.raises(draws.DrawError, match="被派检查该对象的执法人员"):
            draws.record_outcome(config, draw.id, selected[0]["uscc"], Staff.acting_as(stranger.cert_no),
                                 result="未发现问题", ended_on="2026-12-03", at=REVEAL_AT + dt.timedelta(days=2))
        later = dt.datetime(2026, 12, 9, 17, 0, tzinfo=CST)
        for n, target in enumerate(selected):
            inspector = Staff.acting_as(target["inspectors"][0]) if target["inspectors"] else head
            draws.record_outcome(config, draw.id, target["uscc"], inspector, result="未发现问题",
                                 ended_on=f"2026-12-0{3 + n % 4}", at=later)
        assert len(draws.outcomes(draw)) == len(selected)
        # every drawn target inspected: the inspection ended with the last one, 2026-12-06 (a Sunday)
        assert draw.inspection_end() == dt.date(2026, 12, 6)
        assert draw.publication_due(config) == calendar.add_workdays(dt.date(2026, 12, 6), 20)
        assert all(ok for ok, _ in draws.verify(draw.id))


def run_on(url):
    """Commitment and result of the same draw on a fresh database at `url`."""
    application = bot.create_app({"SANXIANG": make_config(url), "TESTING": True})
    config = application.config["SANXIANG"]
    prepare_database(config)
    try:
        with application.app_context():
            db.connect(reuse_if_open=True)
            draw = full_draw(config, set_up_pools(config))
            return draw.commitment, draw_rule.canonical(draw.result_document())
    finally:
        if not db.is_closed():
            db.close()


def test_the_same_inputs_give_the_same_draw_on_every_backend_and_run(tmp_path):
    outcomes = [run_on(f"sqlite:///{tmp_path / 'first.db'}"), run_on(f"sqlite:///{tmp_path / 'second.db'}")]
    if "postgresql" in backends():
        with postgresql_schema() as url:
            outcomes.append(run_on(url))
    assert len(set(outcomes)) == 1
    assert json.loads(outcomes[0][1])["selected"]
