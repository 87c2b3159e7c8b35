"""订阅案件: the party of a case binds their WeChat account with the 案件查询码 printed on the documents served
on them, and hears — once per event, through the outbox — when the decision is published, corrected or
withdrawn. A wrong code writes nothing; too many in a day are refused."""
import datetime as dt

from click.testing import CliRunner
from docx import Document

import bot

from models import case_subscriptions, cases, db, documents, publication
from models.case_subscriptions import ALPHABET, CaseSubscription, code_for
from models.evidence import EvidenceStore
from models.outbox import Outbox
from models.publication import Disclosure
from notices.outbox import drain_outbox
from notices.publication import publication_pass
from tests.conftest import WeChatUser
from tests.models import test_cases
from tests.models.test_cases import A, at
from tests.models.test_publication import NOW, SERVED, clerk, decided

config = test_cases.config  # the same fixture: a signing key, an evidence store, a reviewer

LINE = "关注本局公众号，发送“订阅案件 {}”，本案决定公开、更正或撤回时将通知您。"


def test_the_code_is_printed_on_the_notice_and_the_decision(config, tmp_path):
    case, _ = decided(config, tmp_path)
    code = code_for(case.number)
    assert len(code) == 8 and set(code) <= set(ALPHABET) and code not in case.number
    assert code_for(case.number) == code  # stored: every document of the case prints the same one
    for form in ("行政处罚事先告知书", "行政处罚决定书"):
        _, paragraphs, _ = documents.form_content(config, case, form)
        assert LINE.format(code) in paragraphs, form
    _, paragraphs, _ = documents.form_content(config, case, "立案审批表")  # an internal form: no code
    assert code not in "".join(paragraphs)
    docx_entry, _ = documents.generate(config, case.number, "行政处罚决定书", by=A)
    doc = Document(str(EvidenceStore.from_config(config).path_for(docx_entry.content["data"]["sha256"])))
    assert LINE.format(code) in [p.text for p in doc.paragraphs]
    other = test_cases.open_case(config, day=2)
    assert code_for(other.number) != code


def test_the_party_hears_of_publication_correction_and_withdrawal_once_each(config, tmp_path, app, client,
                                                                             fake_wechat):
    case, entry = decided(config, tmp_path)
    code = code_for(case.number)
    party = WeChatUser(client, app, "o_party")
    reply = party.say(f"订阅案件 {code[:4].lower()} {code[4:]}")  # lower case and a space are forgiven
    assert "已为您订阅本案" in reply and f"取消订阅案件 {code}" in reply
    assert "您已订阅过本案" in party.say(f"订阅案件 {code}")
    db.connect(reuse_if_open=True)
    assert CaseSubscription.select().count() == 1

    cases.record_step(config, case.number, "送达", SERVED, by=A, at=at(15))
    publication_pass(config, now=NOW)
    publication_pass(config, now=NOW + dt.timedelta(minutes=10))  # the clock again: nothing new
    row = Disclosure.by_entry(entry.seq)
    [published] = Outbox.with_key_prefix("party:")
    assert published.openid == "o_party" and f"/disclosures/{row.id}" in published.text
    assert "奈文旅罚〔2026〕1号" in published.text and "已依法公开" in published.text

    cases.correct(config, case.number, entry.seq, {"facts": "接纳未成年人2名"}, "违法事实表述不完整，补正", by=A, at=at(16))
    publication_pass(config, now=dt.datetime(2026, 9, 16, 12))
    publication_pass(config, now=dt.datetime(2026, 9, 16, 12, 10))
    publication.withdraw(config, Disclosure.by_id(row.id), clerk(), "该决定已被行政复议决定撤销", revoked_on="2026-09-16",
                         now=dt.datetime(2026, 9, 16, 13))
    publication_pass(config, now=dt.datetime(2026, 9, 16, 14))
    told = Outbox.with_key_prefix("party:")
    assert [t.openid for t in told] == ["o_party"] * 3
    assert "已更正" in told[1].text and "补正" in told[1].text
    assert "已撤回" in told[2].text and "行政复议决定撤销" in told[2].text and f"/disclosures/{row.id}" in told[2].text

    drain_outbox(config)
    drain_outbox(config)
    arrived = [b["text"]["content"] for b in fake_wechat.sent("/custom/send") if b["touser"] == "o_party"]
    assert arrived == [t.text for t in told]  # each once, in order
    page = client.get(f"/disclosures/{row.id}").get_data(as_text=True)
    assert "已撤回" in page  # the link in the last message still says what happened

    assert "已取消订阅该案件" in party.say(f"取消订阅案件 {code}")
    assert "没有订阅任何案件" in party.say("取消订阅案件")
    db.connect(reuse_if_open=True)
    assert CaseSubscription.select().count() == 0


def test_a_wrong_code_writes_nothing_and_too_many_are_refused(config, app, client):
    code = code_for("奈文旅立字〔2026〕第9号")
    guesser, owner = WeChatUser(client, app, "o_guess"), WeChatUser(client, app, "o_owner")
    assert "请在“订阅案件”后写上查询码" in guesser.say("订阅案件")
    reply = guesser.say("订阅案件 奈文旅立字〔2026〕第9号")  # the case number is not its code
    assert "没有找到" in reply and "今天还可尝试4次" in reply
    for _ in range(4):
        guesser.say("订阅案件 ABCD2345")
    refused = guesser.say(f"订阅案件 {code}")  # past the limit even the right code is refused today
    assert "次数过多" in refused and "已为您订阅" not in refused
    assert "您没有订阅" in guesser.say(f"取消订阅案件 {code}")
    db.connect(reuse_if_open=True)
    assert CaseSubscription.select().count() == 0
    tomorrow = dt.datetime.now() + dt.timedelta(days=1)
    assert case_subscriptions.subscribe(config, "o_guess", code, tomorrow)[0] == case_subscriptions.BOUND
    assert "已为您订阅本案" in owner.say(f"订阅案件 {code}")  # the limit is the guesser's, not everyone's
    db.connect(reuse_if_open=True)
    assert sorted(case_subscriptions.subscribers("奈文旅立字〔2026〕第9号")) == ["o_guess", "o_owner"]


def test_staff_print_a_case_code_from_the_command_line(config, database_url, monkeypatch):
    case = test_cases.open_case(config)
    monkeypatch.setenv("DATABASE_URL", database_url)
    result = CliRunner().invoke(bot.cli, ["case", "code", case.number])
    assert result.exit_code == 0, result.output
    db.connect(reuse_if_open=True)
    code = code_for(case.number)
    assert f"案件查询码：{code}" in result.output and "已订阅：0人" in result.output
    missing = CliRunner().invoke(bot.cli, ["case", "code", "奈文旅立字〔2026〕第99号"])
    assert missing.exit_code == 1 and "不存在" in missing.output and "Traceback" not in missing.output
