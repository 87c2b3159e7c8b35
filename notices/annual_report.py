"""统计年报 files and their clock: the past year's figures (models/annual_report.py) as charts (PNG, with
Chinese labels in the configured CJK font), an Excel workbook, a PDF for the head to sign, and the data
of the public page /reports/annual/<year> — written to notices.annual_report.output_dir/<year>/.

The clock produces the past year's report early in January (`produce_annual_report`) and reminds the
bureau's heads before the due date (`remind_annual_report`); `python bot.py annual-report YEAR` does it
by hand at any time (again after a late correction: the files are replaced, the figures re-read).
"""
import datetime as dt
import json
import logging
from pathlib import Path

from models.annual_report import annual_figures
from models.outbox import Outbox
from models.staff import HEAD, Staff

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent
CHARTS = {"decisions_by_category": "执法决定（按执法类别）", "decisions_by_item": "执法决定（按执法事项，前10项）",
          "inspections": "行政检查", "complaints": "投诉举报办理"}
FILES = ("figures.json", "统计年报.xlsx", "统计年报.pdf") + tuple(f"{name}.png" for name in CHARTS)


def settings_of(config):
    return config["notices"]["annual_report"]


def report_dir(config, year):
    path = Path(settings_of(config)["output_dir"])
    return (path if path.is_absolute() else ROOT / path) / str(int(year))


def due_date(config, year):
    """The day the report of `year` is due: due_month_day of the next year."""
    month, day = (int(x) for x in settings_of(config)["due_month_day"].split("-"))
    return dt.date(year + 1, month, day)


def produce(config, year, today=None):
    """Write every file of the report of `year`; returns (figures, folder)."""
    today = today or dt.date.today()
    figures = annual_figures(config, year, today=today)
    folder = report_dir(config, year)
    folder.mkdir(parents=True, exist_ok=True)
    charts = draw_charts(config, figures, folder)
    write_xlsx(figures, folder / "统计年报.xlsx")
    write_pdf(config, figures, charts, folder / "统计年报.pdf", today)
    data = {"year": year, "made_on": today.isoformat(), "due_on": due_date(config, year).isoformat(),
            "rows": [[label, value] for label, value in figures.rows()],
            "by_category": figures.by_category, "by_item": figures.by_item,
            "complaints_by_category": figures.complaints_by_category,
            "charts": {name: title for name, title in CHARTS.items()}}
    (folder / "figures.json").write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    return figures, folder


def load(config, year):
    """The produced report's data (figures.json), or None if it was not produced."""
    path = report_dir(config, year) / "figures.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


# -- charts -----------------------------------------------------------------------------------------

def chart_font(config):
    """The CJK font of the documents (config documents.font_path), for matplotlib: Chinese labels
    readable, not boxes. None when it is missing (then labels fall back, and a log line says so)."""
    from matplotlib import font_manager

    path = (config.get("documents") or {}).get("font_path")
    if path and Path(path).exists():
        font_manager.fontManager.addfont(path)
        return font_manager.FontProperties(fname=path)
    log.warning("chart font %s not found: Chinese labels may not show", path)
    return None


def draw_charts(config, figures, folder):
    import matplotlib

    matplotlib.use("Agg")  # no display on a server
    from matplotlib import pyplot
    from matplotlib.ticker import MaxNLocator

    font = chart_font(config)
    items = sorted(figures.by_item.items(), key=lambda kv: -kv[1])[:10]
    data = {
        "decisions_by_category": sorted(figures.by_category.items()),
        "decisions_by_item": items[::-1],
        "inspections": [("行政检查", figures.inspections), ("双随机抽查", figures.random_inspections),
                        ("发现问题", figures.findings)],
        "complaints": [("收到", figures.complaints_received), ("已答复", figures.complaints_answered),
                       ("按期答复", figures.complaints_answered_on_time)],
    }
    paths = {}
    for name, title in CHARTS.items():
        labels, values = [label for label, _ in data[name]], [value for _, value in data[name]]
        fig, ax = pyplot.subplots(figsize=(7, 3.6), dpi=120)
        if not labels:
            labels, values = ["无"], [0]
        if name == "decisions_by_item":
            ax.barh(range(len(values)), values, color="#2f6f9f")
            ax.set_yticks(range(len(labels)), [_short(label, 16) for label in labels], fontproperties=font)
        else:
            bars = ax.bar(range(len(values)), values, color="#2f6f9f")
            ax.set_xticks(range(len(labels)), labels, fontproperties=font)
            ax.bar_label(bars, labels=[str(v) for v in values])
        axis = ax.xaxis if name == "decisions_by_item" else ax.yaxis
        axis.set_major_locator(MaxNLocator(integer=True))  # counts: no 0.5 of a case
        (ax.set_xlim if name == "decisions_by_item" else ax.set_ylim)(0, max(values + [1]) * 1.15)
        ax.set_title(f"{figures.year}年{title}", fontproperties=font)
        ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        paths[name] = folder / f"{name}.png"
        fig.savefig(paths[name])
        pyplot.close(fig)
    return paths


def _short(text, limit):
    return text if len(text) <= limit else text[:limit - 1] + "…"


# -- Excel and PDF ----------------------------------------------------------------------------------

def write_xlsx(figures, path):
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "总体情况"
    sheet.append([f"{figures.year}年度行政执法统计年报"])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(["项目", "数值"])
    for label, value in figures.rows():
        sheet.append([label.strip("　"), value])
    for title, table in (("按执法类别", figures.by_category), ("按执法事项", figures.by_item),
                         ("投诉按类别", figures.complaints_by_category)):
        extra = book.create_sheet(title)
        extra.append(["名称", "件数"])
        for name, count in sorted(table.items(), key=lambda kv: -kv[1]):
            extra.append([name, count])
    decisions = book.create_sheet("执法决定明细")
    columns = [("case_no", "案件编号"), ("kind", "决定类型"), ("decision_no", "文号"), ("decided_on", "决定日期"),
               ("category", "执法类别"), ("item", "执法事项"), ("fine_yuan", "罚款（元）"), ("penalty", "处罚内容"),
               ("major", "重大执法决定")]
    decisions.append([label for _, label in columns])
    for decision in figures.decisions:
        decisions.append([("是" if decision[key] else "否") if key == "major" else decision[key] for key, _ in columns])
    for ws in book.worksheets:
        ws.column_dimensions["A"].width = 28
    book.save(path)


def write_pdf(config, figures, charts, path, today):
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    from models.documents import pdf_font

    font = pdf_font(config)
    pdf = canvas.Canvas(str(path), pagesize=A4)
    width, height = A4
    pdf.setTitle(f"{figures.year}年度行政执法统计年报")
    pdf.setFont(font, 18)
    pdf.drawCentredString(width / 2, height - 25 * mm, f"{figures.year}年度行政执法统计年报")
    pdf.setFont(font, 10)
    pdf.drawCentredString(width / 2, height - 32 * mm, f"生成日期：{today:%Y年%m月%d日}　报送期限：{due_date(config, figures.year):%Y年%m月%d日}")
    y = height - 45 * mm
    pdf.setFont(font, 11)
    for label, value in figures.rows():
        pdf.drawString(25 * mm, y, label)
        pdf.drawRightString(width - 25 * mm, y, f"{value:,}" if isinstance(value, int) else str(value))
        y -= 7 * mm
    y -= 8 * mm
    pdf.drawString(25 * mm, y, "单位负责人（签字）：____________　　日期：____________")
    for name in CHARTS:
        pdf.showPage()
        pdf.drawImage(str(charts[name]), 15 * mm, height - 120 * mm, width=width - 30 * mm, height=(width - 30 * mm) * 3.6 / 7,
                      preserveAspectRatio=True)
    pdf.save()


# -- the clock ----------------------------------------------------------------------------------------

def produce_annual_report(config, today=None):
    """统计年报: the past year's report, made early in January (scheduled), and staff told where it is."""
    today = today or dt.date.today()
    year = today.year - 1
    _, folder = produce(config, year, today=today)
    text = (f"{year}年度行政执法统计年报已生成，请核对后于{due_date(config, year):%m月%d日}前公开并报送。"
            f"网页：{config['server']['public_base_url']}/reports/annual/{year}")
    now = dt.datetime.now()
    for head in Staff.receivers((HEAD,)):
        Outbox.enqueue(f"annual:{year}:made:{head.openid}", head.openid, text, now)
    return str(folder)


def remind_annual_report(config, today=None):
    """Remind the heads on the configured days before the due date (31 January); once per day and head."""
    today = today or dt.date.today()
    year = today.year - 1
    left = (due_date(config, year) - today).days
    if left not in settings_of(config)["remind_days_before"]:
        return 0
    made = load(config, year)
    state = "已生成，请核对签字后公开并报送" if made else "尚未生成，请运行 python bot.py annual-report " + str(year)
    text = f"提醒：{year}年度行政执法统计年报须在{due_date(config, year):%m月%d日}前公开并报送（还有{left}天），{state}。"
    now, queued = dt.datetime.now(), 0
    for head in Staff.receivers((HEAD,)):
        Outbox.enqueue(f"annual:{year}:remind:{left}:{head.openid}", head.openid, text, now)
        queued += 1
    return queued
