"""执法文书 — standard documents generated from a case's entries, as DOCX and PDF.

Laid out after the Ministry of Culture and Tourism's unified culture-market enforcement forms (文化市场
综合行政执法文书格式): the bureau's name, the title, the document number, a table of the recorded facts,
then the text and the signature lines. Every page's footer carries the SHA-256 leaf hash of the log
entry the document was made from, so a paper copy can be matched to the electronic record (and to its
inclusion proof); the generated files themselves are stored by hash and registered on the case.
"""
import io

from models import cases, ledger

# name -> (the step it is made from, the fields it prints as (label, key)); the text is built below.
FORMS = {
    "立案审批表": ("立案", [("案件来源", "source"), ("执法事项", "item_name"), ("设定依据", "basis"), ("案情摘要", "facts"),
                      ("承办人员", "handlers"), ("审批负责人", "approver")]),
    "现场检查（勘验）笔录": ("现场检查", [("检查地点", "place"), ("开始时间", "started"), ("结束时间", "ended"),
                           ("执法人员", "officers"), ("检查情况", "findings")]),
    "行政处罚事先告知书": ("告知", [("文号", "notice_no"), ("违法事实", "facts"), ("处罚依据", "basis"), ("拟作出的处罚", "proposed"),
                         ("送达日期", "served_on")]),
    "行政处罚决定书": ("决定", [("文号", "decision_no"), ("违法事实", "facts"), ("处罚依据", "basis"), ("处罚内容", "penalty"),
                       ("罚款金额（元）", "fine_yuan"), ("决定日期", "decided_on")]),
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


def _text(form, case, data, config):
    """The prose of each form: rights, time limits and where to seek remedy, as the forms require."""
    party = case.party_name
    remedy = "；".join(f"{r['name']}：{r['limit']}向{r['where']}提出（{r['source']}）" for r in config["remedy"])
    return {
        "行政处罚事先告知书": [f"{party}：", "本机关拟对你（单位）作出上述行政处罚。根据《中华人民共和国行政处罚法》第四十四条、"
                       "第四十五条、第六十三条、第六十四条的规定，你（单位）有权进行陈述和申辩，并可在收到本告知书之日起五个工作日内"
                       "提出听证申请。逾期视为放弃上述权利。"],
        "行政处罚决定书": [f"当事人：{party}", f"当事人如不服本决定，可依法申请救济：{remedy}。",
                     "罚款应自收到本决定书之日起十五日内缴纳；到期不缴纳的，每日按罚款数额的百分之三加处罚款（《中华人民共和国行政处罚法》第六十七条、第七十二条）。"],
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
    rows = [("案号", case.number), ("当事人", f"{case.party_name}（{case.party_kind}）")]
    for label, key in fields:
        value = data.get(key, "")
        if key in ("officers", "handlers"):
            value = _officer_names(value)
        rows.append((label, str(value)))
    if file.corrections.get(seq):
        rows.append(("更正", "；".join(c["data"]["reason"] for c in file.corrections[seq])))
    entry = ledger.LedgerEntry.get_by_id(seq)
    return rows, _text(form, case, data, config), entry


def footer(case, entry):
    return f"案号 {case.number}，依据执法全过程记录第{entry.seq}条，记录哈希 SHA-256 {entry.leaf_hash_hex}"


def render_docx(bureau, form, rows, paragraphs, foot):
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt

    doc = Document()
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


def render_pdf(bureau, form, rows, paragraphs, foot):
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))  # Adobe's CJK font, named not embedded
    body = ParagraphStyle("body", fontName="STSong-Light", fontSize=11, leading=17, wordWrap="CJK")
    title = ParagraphStyle("title", parent=body, fontSize=18, leading=26, alignment=1)
    head = ParagraphStyle("head", parent=body, fontSize=14, leading=20, alignment=1)
    story = [Paragraph(bureau, head), Paragraph(form, title), Spacer(1, 6 * mm)]
    table = Table([[Paragraph(label, body), Paragraph(value, body)] for label, value in rows],
                  colWidths=[35 * mm, 135 * mm])
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, "black"), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [table, Spacer(1, 4 * mm)] + [Paragraph(text, body) for text in paragraphs]
    story += [Spacer(1, 10 * mm), Paragraph(f"执法人员（签名）：____________ ____________　　{bureau}（印章）　____年__月__日", body)]

    def draw_footer(canvas, _doc):
        canvas.setFont("STSong-Light", 7)
        canvas.drawString(15 * mm, 10 * mm, foot)

    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=20 * mm,
                      bottomMargin=20 * mm, title=form, author=bureau).build(
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
    for ext, render in (("docx", render_docx), ("pdf", render_pdf)):
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
