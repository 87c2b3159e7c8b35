"""The standard 文书 (models/documents.py): every form of the list is generated from a case run through the
whole procedure; the DOCX is A4; the PDF is A4, every font it uses is an embedded TrueType subset (so it
reads the same on a machine without Chinese fonts: the text is read back from the PDF's own fonts), and
a party name containing markup prints as the characters it is."""
import re
from pathlib import Path

import pytest
from docx import Document
from pypdf import PdfReader

from models import Officer, Staff, cases, documents
from models.evidence import EvidenceStore
from tests.models.test_review import A, B, C, D, MATERIALS, at, review_config, review_it

PARTY = "奈曼旗<b>星空</b>网吧&<script>x</script>有限公司"
ADDRESS = "大沁他拉镇<i>某街</i>1号"
NO_AV = {"av_exception": "执法记录仪故障，已由当事人签字确认笔录"}


@pytest.fixture
def config(app, tmp_path):
    yield from review_config(app, tmp_path)


def record(config, case, step, data, month, day, by=A):
    return cases.record_step(config, case.number, step, data, by=by, at=at(month, day))


def full_case(config):
    """A major case from 立案 to 结案: inspection, questioning, preservation, seizure, order to correct,
    review, discussion, notice, statement, hearing request and hearing, a second review, decision,
    service, execution and closing."""
    case = cases.open_case(config, party={"kind": "法人或其他组织", "name": PARTY, "address": ADDRESS}, handlers=[A, B],
                           by=A, at=at(9, 1), data={"item_code": "CF-002", "source": "投诉举报", "facts": "接纳未成年人",
                                                    "approver": "局长 其木格"})
    record(config, case, "现场检查", {"place": "网吧大厅", "started": "09:00", "ended": "10:00", "findings": "3名未成年人上网",
                                  "officers": [A, B], **NO_AV}, 9, 1)
    record(config, case, "调查取证", {"method": "询问", "content": "问：是否接纳未成年人？答：是。", "officers": [A, B], **NO_AV},
           9, 2)
    record(config, case, "证据保全", {"measure": "先行登记保存", "items": "营业日志1本", "officers": [A, B], **NO_AV}, 9, 2)
    record(config, case, "行政强制", {"measure": "扣押", "items": "电脑主机2台", "place": "网吧大厅", "officers": [A, B], **NO_AV},
           9, 2)
    record(config, case, "责令改正", {"order_no": "责改〔2026〕1号", "content": "立即停止接纳未成年人", "deadline": "2026-09-03"},
           9, 2)
    record(config, case, "拟决定", {"report": "调查终结", "penalty": "警告，罚款人民币150000元", "fine_yuan": 150000,
                                 "level": "严重", "reasoning": "多次接纳"}, 9, 3)
    record(config, case, "告知", {"notice_no": "奈文旅告〔2026〕1号", "facts": "接纳未成年人", "basis": "第三十一条",
                               "proposed": "警告，罚款150000元", "served_on": "2026-09-07"}, 9, 7)
    record(config, case, "陈述申辩", {"received_on": "2026-09-08", "content": "系初次违法", "review": "已复核",
                                  "adopted": "不予采纳"}, 9, 8)
    record(config, case, "听证申请", {"requested_on": "2026-09-09", "method": "书面"}, 9, 9)
    record(config, case, "听证通知", {"notice_no": "听通〔2026〕1号", "notified_on": "2026-09-10", "scheduled_on": "2026-09-21",
                                  "place": "本局听证室", "host": "李建国"}, 9, 10)
    record(config, case, "听证", {"held_on": "2026-09-21", "host": "李建国", "summary": "当事人称系初次违法", **NO_AV}, 9, 21)
    record(config, case, "提请审核", {"materials": MATERIALS + ["事先告知书及陈述申辩材料", "听证笔录"]}, 9, 22)
    review_it(config, case, day=23)
    record(config, case, "集体讨论", {"held_on": "2026-09-24", "host": "局长 其木格", "participants": ["其木格", "包海龙", "王雅琴"],
                                  "opinions": "同意", "conclusion": "同意拟处理意见"}, 9, 24, by=D)
    record(config, case, "决定", {"decision_no": "奈文旅罚〔2026〕1号", "facts": "接纳未成年人", "evidence": "现场检查笔录、询问笔录",
                                "basis": "第三十一条", "penalty": "警告，罚款人民币150000元", "fine_yuan": 150000,
                                "statement": "当事人陈述系初次违法，经复核不予采纳", "decided_on": "2026-09-24"}, 9, 24)
    record(config, case, "送达", {"document": "行政处罚决定书", "method": "直接送达", "recipient": PARTY, "served_on": "2026-09-25",
                                "officers": [A, B], **NO_AV}, 9, 25)
    record(config, case, "执行", {"method": "自动履行", "result": "已缴纳", "executed_on": "2026-09-28"}, 9, 28)
    record(config, case, "结案", {"summary": "执行完毕", "approver": "局长 其木格", "closed_on": "2026-09-28"}, 9, 28)
    return case


def spot_case(config):
    case = cases.open_case(config, party={"kind": "自然人", "name": "张<u>某</u>"}, handlers=[A, B], by=A, at=at(9, 1),
                           data={"item_code": "CF-015", "source": "日常检查", "facts": "无证带团", "approver": "局长"})
    record(config, case, "当场处罚", {"decision_no": "当罚〔2026〕1号", "facts": "无证带团", "basis": "《旅游法》第一百零二条",
                                  "penalty": "罚款", "fine_yuan": 200, "place": "景区", "decided_on": "2026-09-01"}, 9, 1)
    return case


def pdf_fonts(reader):
    """(BaseFont, its descriptor) of every font the pages' text is set in (`/F2 11 Tf`), through Type0 →
    DescendantFonts. (ReportLab lists Helvetica among every file's resources; no text uses it.)"""
    found = []
    for page in reader.pages:
        used = set(re.findall(rb"/([\w+]+) [\d.]+ Tf", page.get_contents().get_data()))
        for key, font in (page["/Resources"].get("/Font") or {}).items():
            if key.lstrip("/").encode() not in used:
                continue
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            target = descendants[0].get_object() if descendants else font
            found.append((str(font["/BaseFont"]), (target.get("/FontDescriptor") or {})))
    return found


def test_every_standard_form_is_generated_a4_embedded_and_escaped(config):
    if not Path(config["documents"]["font_path"]).exists():
        pytest.skip("the document font is not installed: `make doc-tools` installs fonts-wqy-microhei")
    Staff.add(None, "白斯琴", "法制审核员", Officer.by_cert_no(C))  # already qualified by the fixture
    store = EvidenceStore.from_config(config)
    full, spot = full_case(config), spot_case(config)
    made = {form: full for form in documents.available_forms(full)}
    made.update({form: spot for form in documents.available_forms(spot) if form not in made})
    assert set(made) == set(documents.FORMS), set(documents.FORMS) - set(made)
    for form, case in made.items():
        docx_entry, pdf_entry = documents.generate(config, case.number, form, by=A)
        doc = Document(str(store.path_for(docx_entry.content["data"]["sha256"])))
        assert round(doc.sections[0].page_width.mm) == 210 and round(doc.sections[0].page_height.mm) == 297, form
        docx_text = "\n".join(p.text for p in doc.paragraphs) + "".join(c.text for r in doc.tables[0].rows for c in r.cells)
        reader = PdfReader(str(store.path_for(pdf_entry.content["data"]["sha256"])))
        box = reader.pages[0].mediabox
        assert (round(float(box.width)), round(float(box.height))) == (595, 842), form  # A4 in points
        fonts = pdf_fonts(reader)
        assert fonts, form
        for name, descriptor in fonts:
            # An embedded subset: a six-letter tag + name, and the TrueType program in the file.
            assert "+" in name and len(name.split("+")[0].lstrip("/")) == 6, (form, name)
            assert "/FontFile2" in descriptor, (form, name)
        pdf_text = "".join(page.extract_text() for page in reader.pages)
        for text in (pdf_text.replace("\n", ""), docx_text):
            assert form in text and case.party_name in text, (form, text[:200])
    decision = "".join(p.extract_text() for p in PdfReader(str(store.path_for(
        documents.generate(config, full.number, "行政处罚决定书", by=A)[1].content["data"]["sha256"]))).pages).replace("\n", "")
    for element in (ADDRESS, "现场检查笔录、询问笔录", "15日内", "电子支付系统", "第七十二条", "不得超出罚款的数额",
                    "经复核不予采纳", "行政复议", "行政诉讼"):
        assert element in decision, element


def test_the_hearing_right_is_printed_only_where_article_63_gives_it(config):
    full = full_case(config)
    rows, paragraphs, _ = documents.form_content(config, full, "行政处罚事先告知书")
    assert "要求听证" in "".join(paragraphs)
    rows, paragraphs, _ = documents.form_content(config, full, "听证通知书")
    assert ("申请日期", "2026-09-09") in rows and ("听证地点", "本局听证室") in rows
    assert "非本案调查人员" in "".join(paragraphs)
