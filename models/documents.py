"""执法文书 — standard documents generated from a case's entries, as DOCX and PDF.

Laid out after the Ministry of Culture and Tourism's unified culture-market enforcement forms (文化市场
综合行政执法文书格式): the bureau's name, the title, the document number, a table of the recorded facts,
then the text and the signature lines. Every page's footer carries the SHA-256 leaf hash of the log
entry the document was made from, so a paper copy can be matched to the electronic record (and to its
inclusion proof); the generated files themselves are stored by hash and registered on the case.

DOCX pages are A4. The PDF embeds the subset of the TrueType font it uses (config.yaml `documents`),
so it reads the same on a machine with no Chinese font. Every recorded value is escaped before it
reaches the PDF's paragraph markup: a party named "<b>某</b>" prints as those characters.
"""
import io
import logging
from xml.sax.saxutils import escape

from models import case_subscriptions, cases, ledger

# Documents served on the party that carry the case's 案件查询码, so the party can ask to be told when the
# decision is published, corrected or withdrawn (models/case_subscriptions.py).
WITH_QUERY_CODE = ("行政处罚事先告知书", "行政处罚决定书", "当场处罚决定书")

# name -> (the step it is made from, the fields it prints as (label, key)); the text is built below.
FORMS = {
    "立案审批表": ("立案", [("案件来源", "source"), ("执法事项", "item_name"), ("设定依据", "basis"), ("案情摘要", "facts"),
                      ("承办人员", "handlers"), ("审批负责人", "approver")]),
    "现场检查（勘验）笔录": ("现场检查", [("检查地点", "place"), ("开始时间", "started"), ("结束时间", "ended"),
                           ("执法人员", "officers"), ("检查情况", "findings")]),
    "询问笔录": ("调查取证", [("取证方式", "method"), ("询问及取证内容", "content"), ("执法人员", "officers")]),
    "责令改正通知书": ("责令改正", [("编号", "order_no"), ("责令改正内容", "content"), ("改正期限", "deadline")]),
    "陈述申辩笔录": ("陈述申辩", [("收到日期", "received_on"), ("陈述申辩内容", "content"), ("复核意见", "review"),
                           ("是否采纳", "adopted")]),
    "证据先行登记保存通知书": ("证据保全", [("保全措施", "measure"), ("保全物品", "items"), ("执法人员", "officers")]),
    "查封（扣押）决定书": ("行政强制", [("强制措施", "measure"), ("涉及财物", "items"), ("实施地点", "place"),
                              ("执法人员", "officers")]),
    "重大执法决定法制审核意见书": ("审核", [("审核人员", "reviewer"), ("法律职业资格", "qualification"),
                                 ("是否重大执法决定", "major_rules"), ("审核结论", "result"), ("审核意见", "opinion"),
                                 ("需补充的材料", "supplement"), ("裁量提示", "discretion_flag")]),
    "集体讨论记录": ("集体讨论", [("讨论日期", "held_on"), ("主持人", "host"), ("参加人员", "participants"),
                           ("讨论意见", "opinions"), ("讨论结论", "conclusion")]),
    "行政处罚事先告知书": ("告知", [("文号", "notice_no"), ("违法事实", "facts"), ("处罚依据", "basis"), ("拟作出的处罚", "proposed"),
                         ("送达日期", "served_on")]),
    "听证通知书": ("听证通知", [("文号", "notice_no"), ("申请日期", "requested_on"), ("通知日期", "notified_on"),
                         ("听证日期", "scheduled_on"), ("听证地点", "place"), ("主持人", "host")]),
    "听证笔录": ("听证", [("举行日期", "held_on"), ("主持人", "host"), ("听证情况", "summary")]),
    "行政处罚决定书": ("决定", [("文号", "decision_no"), ("当事人地址", "party_address"), ("违法事实", "facts"),
                       ("证据", "evidence"), ("处罚依据", "basis"), ("处罚种类和内容", "penalty"), ("罚款金额（元）", "fine_yuan"),
                       ("陈述申辩及采纳情况", "statement"), ("决定日期", "decided_on")]),
    "当场处罚决定书": ("当场处罚", [("编号", "decision_no"), ("违法行为", "facts"), ("处罚依据", "basis"), ("处罚种类", "penalty"),
                        ("罚款金额（元）", "fine_yuan"), ("地点", "place"), ("时间", "decided_on")]),
    "送达回证": ("送达", [("送达文书", "document"), ("受送达人", "recipient"), ("送达方式", "method"), ("送达日期", "served_on"),
                    ("送达人", "officers")]),
    "结案报告": ("结案", [("结案情况", "summary"), ("结案日期", "closed_on"), ("审批负责人", "approver")]),
}


def _officer_names(certs):
    from models.disclosure import Officer

    names = []
    for cert in certs:
        officer = Officer.by_cert_no(cert)
        names.append(f"{officer.name}（执法证号{cert}）" if officer else cert)
    return "、".join(names)


def _remedies(config, first_review):
    """The remedy paths and limits: 复议前置 (复议法 第二十三条) for what must go to 复议 first."""
    chosen = [r for r in config["remedy"] if ("应当先" in r["name"] or "经行政复议后" in r["name"]) == first_review]
    return "；".join(f"{r['name']}：{r['limit']}向{r['where']}提出（{r['source']}）" for r in chosen)


def subscribe_line(code):
    return f"关注本局公众号，发送“订阅案件 {code}”，本案决定公开、更正或撤回时将通知您。"


def _text(form, file, data, config, code=None):
    """The prose of each form: rights, time limits and where to seek remedy, as the forms require."""
    told = [subscribe_line(code)] if code and form in WITH_QUERY_CODE else []
    party = file.party_name
    pay = config["cases"]["payment"]
    days = config["cases"]["statement_period_working_days"]
    paying = (f"罚款应自收到本决定书之日起{pay['days']}日内到{pay['where']}缴纳（《中华人民共和国行政处罚法》第六十七条第三款）；"
              f"到期不缴纳的，每日按罚款数额的百分之{pay['late_rate_percent']}加处罚款，加处罚款的数额不得超出罚款的数额"
              "（第七十二条第一款第（一）项）。")
    hearing = (f"对拟作出的上述处罚，你（单位）有权要求听证，应当在收到本告知书之日起{days}个工作日内提出"
               "（《中华人民共和国行政处罚法》第六十三条、第六十四条）。" if data.get("hearing_right") else "")
    return {
        "行政处罚事先告知书": [f"{party}：", "本机关拟对你（单位）作出上述行政处罚，现将拟作出的行政处罚内容及事实、理由、依据告知如下。"
                       f"根据《中华人民共和国行政处罚法》第四十四条、第四十五条的规定，你（单位）有权进行陈述和申辩，请于收到本告知书之日起"
                       f"{days}个工作日内向本机关提出。" + hearing + "逾期未提出的，视为放弃上述权利。"] + told,
        "行政处罚决定书": [f"当事人：{party}", paying,
                     f"当事人如不服本决定，可依法申请行政复议或者提起行政诉讼：{_remedies(config, False)}。",
                     "行政复议或者行政诉讼期间，本决定不停止执行，法律另有规定的除外。"] + told,
        "当场处罚决定书": [f"当事人：{party}", paying,
                     f"对当场作出的行政处罚决定不服的，应当先申请行政复议：{_remedies(config, True)}。",
                     "本决定书当场交付当事人；当事人拒绝签收的，由执法人员注明（《中华人民共和国行政处罚法》第五十二条）。"] + told,
        "重大执法决定法制审核意见书": ["审核事项：" + "；".join(f"{k}：{'是' if v else '否'}" for k, v in (data.get("points") or {}).items()),
                          "法制审核员（签名）：____________"],
        "集体讨论记录": ["参加人员（签名）：____________________________"],
        "责令改正通知书": [f"{party}：", "请你（单位）在上列期限内改正，并将改正情况书面报告本机关；逾期不改正的，本机关将依法处理。"],
        "陈述申辩笔录": ["本机关已充分听取当事人的陈述、申辩，并对其提出的事实、理由和证据进行了复核；不因当事人陈述、申辩而给予更重的处罚"
                   "（《中华人民共和国行政处罚法》第四十五条）。当事人（签名）：____________"],
        "听证通知书": [f"{party}：", "本机关定于上列日期、地点举行听证，由非本案调查人员主持。你（单位）可以亲自参加，也可以委托一至二人代理；"
                    "认为主持人与本案有直接利害关系的，有权申请回避；无正当理由拒不出席的，视为放弃听证权利"
                    "（《中华人民共和国行政处罚法》第六十四条）。"],
        "听证笔录": ["以上笔录经当事人（代理人）核对无误。当事人（签名）：____________　听证主持人（签名）：____________"],
        "证据先行登记保存通知书": [f"{party}：", "经本机关负责人批准，对上列物品先行登记保存。在此期间，你（单位）不得销毁或者转移；"
                         f"本机关将在{config['cases']['limits']['preservation_working_days']}个工作日内作出处理决定"
                         "（《中华人民共和国行政处罚法》第五十六条）。"],
        "查封（扣押）决定书": [f"{party}：", f"查封、扣押的期限为{config['cases']['limits']['seizure_days']}日，情况复杂的经本机关负责人批准"
                       "可以延长，但延长期限不得超过三十日（《中华人民共和国行政强制法》第二十五条）。",
                       f"如不服本决定，可依法申请救济：{_remedies(config, False)}。"],
        "送达回证": ["受送达人签名（盖章）：____________    签收日期：____年__月__日"],
        # The party (or a witness when the party refuses) signs the on-site record, as on the unified form.
        "现场检查（勘验）笔录": ["当事人对以上笔录核对无误。当事人（签名）：____________　见证人（签名）：____________"],
    }.get(form, [])


def form_content(config, case, form):
    """(title rows, paragraphs, source entry) of `form` for `case`; CaseError when the step is missing."""
    step, fields = FORMS[form]
    file = cases.CaseFile(case)
    seq, data = file.last(step)
    if seq is None:
        raise cases.CaseError(f"案件尚无“{step}”记录，不能生成《{form}》。")
    # From the 立案 entry, not the index row: a document prints what the log records (issue 16).
    rows = [("案号", case.number), ("当事人", f"{file.party_name}（{file.party_kind}）")]
    party = file.party
    for label, key in fields:
        value = data.get(key, "")
        if key in ("officers", "handlers"):
            value = _officer_names(value)
        elif key == "party_address":
            value = value or party.get("address", "")
        elif key in ("participants", "major_rules"):
            value = "、".join(value) if value else ("否" if key == "major_rules" else "")
        if value in ("", None) and key in ("supplement", "discretion_flag", "qualification"):
            continue
        rows.append((label, str(value)))
    if file.corrections.get(seq):
        rows.append(("更正", "；".join(c["data"]["reason"] for c in file.corrections[seq])))
    entry = ledger.LedgerEntry.get_by_id(seq)
    code = case_subscriptions.code_for(case.number) if form in WITH_QUERY_CODE else None
    return rows, _text(form, file, data, config, code), entry


def footer(case, entry):
    return f"案号 {case.number}，依据执法全过程记录第{entry.seq}条，记录哈希 SHA-256 {entry.leaf_hash_hex}"


def render_docx(bureau, form, rows, paragraphs, foot):
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt

    from docx.shared import Mm

    doc = Document()
    for section in doc.sections:  # python-docx's template is US Letter; the forms are A4
        section.page_width, section.page_height = Mm(210), Mm(297)
    style = doc.styles["Normal"]
    style.font.name = "SimSun"
    style.font.size = Pt(11)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    for text, size in ((bureau, 14), (form, 18)):
        paragraph = doc.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = paragraph.add_run(text)
        run.bold, run.font.size = True, Pt(size)
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for label, value in rows:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = label, value
    for text in paragraphs:
        doc.add_paragraph(text)
    doc.add_paragraph("\n执法人员（签名）：____________    ____________        " + bureau + "（印章）\n"
                      "                                                    ____年__月__日")
    foot_paragraph = doc.sections[0].footer.paragraphs[0]
    foot_paragraph.text = foot
    foot_paragraph.runs[0].font.size = Pt(7)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


log = logging.getLogger(__name__)


def pdf_font(config=None):
    """The PDF's font name: the configured TrueType font, embedded as a subset; else Adobe's CID font,
    named but not embedded (a reader needs a Chinese font of its own), with a log line for staff."""
    from pathlib import Path

    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfbase.ttfonts import TTFont

    settings = (config or {}).get("documents") or {}
    path = settings.get("font_path")
    if path and Path(path).exists():
        if "SanxiangDoc" not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont("SanxiangDoc", path, subfontIndex=int(settings.get("font_index", 0))))
        return "SanxiangDoc"
    log.warning("document font %s not found: PDF uses a non-embedded CID font", path)
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return "STSong-Light"


def render_pdf(bureau, form, rows, paragraphs, foot, font=None):
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = font or pdf_font()
    bureau, form = escape(bureau), escape(form)
    rows = [(escape(label), escape(value)) for label, value in rows]
    paragraphs = [escape(text) for text in paragraphs]
    body = ParagraphStyle("body", fontName=font, fontSize=11, leading=17, wordWrap="CJK")
    title = ParagraphStyle("title", parent=body, fontSize=18, leading=26, alignment=1)
    head = ParagraphStyle("head", parent=body, fontSize=14, leading=20, alignment=1)
    story = [Paragraph(bureau, head), Paragraph(form, title), Spacer(1, 6 * mm)]
    table = Table([[Paragraph(label, body), Paragraph(value, body)] for label, value in rows],
                  colWidths=[35 * mm, 135 * mm])
    # FONTNAME too: a table otherwise opens each cell in Helvetica, a font the file would name but not embed.
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, "black"), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("FONTNAME", (0, 0), (-1, -1), font)]))
    story += [table, Spacer(1, 4 * mm)] + [Paragraph(text, body) for text in paragraphs]
    story += [Spacer(1, 10 * mm), Paragraph(f"执法人员（签名）：____________ ____________　　{bureau}（印章）　____年__月__日", body)]

    def draw_footer(canvas, _doc):
        canvas.setFont(font, 7)
        canvas.drawString(15 * mm, 10 * mm, foot)

    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=20 * mm,
                      bottomMargin=20 * mm, title=form, author=bureau,
                      # the canvas starts in this font rather than Helvetica, which a PDF would name unembedded
                      initialFontName=font).build(
        story, onFirstPage=draw_footer, onLaterPages=draw_footer)
    return out.getvalue()


def generate(config, number, form, *, by):
    """Make `form` for case `number` as DOCX and PDF, store both and register them. Returns the entries."""
    from models.disclosure import Bureau

    case = cases.get_case(number)
    rows, paragraphs, entry = form_content(config, case, form)
    bureau = Bureau.current().name if Bureau.current() else config["ledger"]["origin"].split("/")[0]
    foot = footer(case, entry)
    registered = []
    font = pdf_font(config)
    for ext, render in (("docx", render_docx), ("pdf", lambda *args: render_pdf(*args, font=font))):
        data = render(bureau, form, rows, paragraphs, foot)
        filename = f"{number}-{form}.{ext}"
        import tempfile
        from pathlib import Path

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"doc.{ext}"
            path.write_bytes(data)
            registered.append(cases.add_evidence(config, number, path, filename=filename, step=entry.step,
                                                 device="系统生成", recorded_by=by, recorded_at=ledger.now().isoformat(),
                                                 by=by, note=f"《{form}》，依据第{entry.seq}条生成",
                                                 act="case.documents"))
    return registered


def available_forms(case):
    done = cases.CaseFile(case).done()
    return [form for form, (step, _) in FORMS.items() if step in done]
