"""`python bot.py draw …`: pools from Excel (all or nothing), plan, commit, reveal, run, verify, results,
outcomes, and the published files checked by the standalone script in a subprocess."""
import datetime as dt
import json
import subprocess
import sys

import pytest
from click.testing import CliRunner
from openpyxl import Workbook

import bot
from models import draws, ledger
from models.staff import Staff
from tests.models.test_draws import target_rows, uscc

PLAN = "2026年12月双随机抽查"


def write_targets(path, rows, header=None):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header or [label for _, label in draws.TARGET_COLUMNS])
    for row in rows:
        sheet.append(row)
    workbook.save(path)


def sheet_rows(count=9):
    return [[r["uscc"], r["name"], r["category"], r["address"], r["risk_flags"]] for _, r in target_rows(count)]


@pytest.fixture
def staffed(app, database_url, monkeypatch):
    """The command line on the test database, with a 负责人 on the staff list."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    with app.app_context():
        Staff.add(None, "测试局长", "负责人")
    return CliRunner()


def invoke(runner, *args):
    return runner.invoke(bot.cli, ["draw", *args])


def test_target_import_reports_bad_rows_and_writes_nothing(staffed, tmp_path, app):
    rows = sheet_rows(4)
    rows[1][0] = rows[1][0][:-1] + ("0" if rows[1][0][-1] != "0" else "1")
    rows[3][2] = "洗浴中心"
    path = tmp_path / "targets.xlsx"
    write_targets(path, rows)
    result = invoke(staffed, "target", "import", str(path))
    assert result.exit_code == 1
    assert "第3行" in result.output and "校验位" in result.output and "第5行" in result.output
    assert "导入完成" not in result.output
    assert "共0个对象" in invoke(staffed, "target", "list").output
    rows = sheet_rows(4)
    write_targets(path, rows)
    assert "新增4个对象" in invoke(staffed, "target", "import", str(path)).output
    out = tmp_path / "out.xlsx"
    assert invoke(staffed, "target", "export", str(out)).exit_code == 0
    assert "更新4个" in invoke(staffed, "target", "import", str(out)).output


def test_a_draw_from_the_command_line(staffed, tmp_path, monkeypatch):
    path = tmp_path / "targets.xlsx"
    write_targets(path, sheet_rows(9))
    assert invoke(staffed, "target", "import", str(path)).exit_code == 0
    result = invoke(staffed, "target", "add", "--uscc", "91350100M000100Y44", "--name", "错码网吧", "--category", "网吧")
    assert result.exit_code == 1 and "校验位" in result.output
    result = invoke(staffed, "conflict", "add", "15052501002", uscc(1), "--reason", "曾在该单位任职", "--by", "测试局长")
    assert result.exit_code == 0, result.output
    result = invoke(staffed, "plan", PLAN, "--item", "旅行社经营活动检查", "--ratio", "网吧=50", "--ratio", "旅行社=100",
                    "--ratio", "娱乐场所=25", "--risk-ratio", "100", "--from", "2026-12-01", "--to", "2026-12-10",
                    "--by", "测试局长")
    assert result.exit_code == 0 and "网吧50%" in result.output, result.output
    today = ledger.now().date()
    draw_on = (today + dt.timedelta(days=2)).isoformat()
    result = invoke(staffed, "commit", PLAN, "--public-value-source", "中国福利彩票双色球下一期开奖号码",
                    "--draw-on", draw_on, "--by", "测试局长")
    assert result.exit_code == 0 and "承诺值" in result.output, result.output
    result = invoke(staffed, "reveal", "1", "03 07 12 19 25 31 + 08", "--by", "测试局长")
    assert result.exit_code == 1 and "还不能录入" in result.output
    later = dt.datetime.combine(today + dt.timedelta(days=2), dt.time(21), ledger.CHINA_TZ)
    monkeypatch.setattr(ledger, "now", lambda: later)
    assert invoke(staffed, "reveal", "1", "03 07 12 19 25 31 + 08", "--by", "测试局长").exit_code == 0
    result = invoke(staffed, "run", PLAN, "--by", "测试局长")
    assert result.exit_code == 0 and "个工作日内公开" in result.output, result.output
    result = invoke(staffed, "verify", "1")
    assert result.exit_code == 0 and "核验通过" in result.output and "FAIL" not in result.output

    folder = tmp_path / "published"
    assert invoke(staffed, "files", "1", str(folder)).exit_code == 0
    drawn = json.loads((folder / "result.json").read_text(encoding="utf-8"))["selected"]
    checked = subprocess.run([sys.executable, str(folder / "verify_draw.py"), str(folder)], capture_output=True,
                             text=True, timeout=60)
    assert checked.returncode == 0 and "核验通过" in checked.stdout, checked.stdout
    target = drawn[0]
    result = invoke(staffed, "outcome", "1", target["uscc"], "--result", "未发现问题", "--ended",
                    later.date().isoformat(), "--by", target["inspectors"][0])
    assert result.exit_code == 0 and "应于" in result.output, result.output
    assert "未发现问题" in invoke(staffed, "results").output
    assert "第1号抽取 已抽取" in invoke(staffed, "list").output

    # one changed target in the downloaded pool: the script and `draw verify --files` both say no
    targets = json.loads((folder / "targets.json").read_text(encoding="utf-8"))
    targets[0]["name"] += "（改）"
    (folder / "targets.json").write_text(json.dumps(targets, ensure_ascii=False), encoding="utf-8")
    checked = subprocess.run([sys.executable, str(folder / "verify_draw.py"), str(folder)], capture_output=True,
                             text=True, timeout=60)
    assert checked.returncode == 1 and "FAIL targets.json" in checked.stdout
    result = invoke(staffed, "verify", "1", "--files", str(folder))
    assert result.exit_code == 1 and "FAIL" in result.output


def test_bad_commands_change_nothing(staffed):
    assert "还没有完成的抽取" in invoke(staffed, "results").output
    result = invoke(staffed, "commit", "没有的计划", "--public-value-source", "双色球下一期开奖号码", "--draw-on",
                    "2099-01-01", "--by", "测试局长")
    assert result.exit_code == 1 and "没有名为" in result.output
    result = invoke(staffed, "plan", "计划", "--item", "旅行社经营活动检查", "--ratio", "网吧", "--from", "2026-12-01",
                    "--to", "2026-12-02", "--by", "测试局长")
    assert result.exit_code == 1 and "类别=百分比" in result.output
    result = invoke(staffed, "verify", "7")
    assert result.exit_code == 1 and "没有名为“7”的抽查计划" in result.output
    result = invoke(staffed, "conflict", "add", "99999", uscc(1), "--reason", "亲属", "--by", "无名氏")
    assert result.exit_code == 1 and "工作人员名单" in result.output
