"""The command line: Excel import/export (all or nothing), the menu install, the terminal chat."""
import subprocess
import sys

import pytest
from click.testing import CliRunner
from openpyxl import Workbook, load_workbook

import bot
from models import EnforcementItem
from models.catalogue import ITEM_COLUMNS
from tests.conftest import ROOT


@pytest.fixture
def cli_env(app, database_url, fake_wechat, monkeypatch):
    """Point the command line at the test database and the fake WeChat API."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("WECHAT_API_BASE", fake_wechat.api_base)
    monkeypatch.setenv("WECHAT_APPID", "wx_test")
    monkeypatch.setenv("WECHAT_SECRET", "test-secret")
    return CliRunner()


def write_sheet(path, rows, header=None):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header or [label for _, label in ITEM_COLUMNS])
    for row in rows:
        sheet.append(row)
    workbook.save(path)


def snapshot():
    return sorted((i.code, i.name, i.category, i.basis_article, i.penalty) for i in EnforcementItem.select())


def test_export_then_import_round_trip(cli_env, tmp_path):
    path = tmp_path / "items.xlsx"
    before = snapshot()
    result = cli_env.invoke(bot.cli, ["export-items", str(path)])
    assert result.exit_code == 0, result.output
    sheet = load_workbook(path).active
    assert [c.value for c in sheet[1]] == [label for _, label in ITEM_COLUMNS]
    assert sheet.max_row == len(before) + 1
    result = cli_env.invoke(bot.cli, ["import-items", str(path)])
    assert result.exit_code == 0 and f"更新{len(before)}项" in result.output
    assert snapshot() == before


def test_import_adds_updates_and_replaces(cli_env, tmp_path):
    path = tmp_path / "new.xlsx"
    write_sheet(path, [
        ["CF-001", "擅自从事互联网上网服务经营活动", "行政处罚", "互联网上网服务营业场所管理条例", "第二十七条",
         "奈曼旗文化和旅游局", "奈曼旗文化和旅游局综合行政执法大队", "取缔；罚款", "网吧"],
        ["CF-100", "擅自举办募捐义演或者其他公益性演出", "行政处罚", "营业性演出管理条例", "第四十六条",
         "奈曼旗文化和旅游局", "奈曼旗文化和旅游局综合行政执法大队", "没收违法所得，并处罚款", "义演 演出"],
    ])
    result = cli_env.invoke(bot.cli, ["import-items", "--replace", str(path)])
    assert result.exit_code == 0, result.output
    assert "新增1项，更新1项" in result.output
    assert [i.code for i in EnforcementItem.search("")] == ["CF-001", "CF-100"]
    assert EnforcementItem.get(EnforcementItem.code == "CF-001").penalty == "取缔；罚款"


def test_bad_rows_are_reported_by_number_and_nothing_is_written(cli_env, tmp_path):
    path = tmp_path / "bad.xlsx"
    good = ["CF-200", "未经许可经营旅行社业务", "行政处罚", "中华人民共和国旅游法", "第九十五条",
            "奈曼旗文化和旅游局", "奈曼旗文化和旅游局综合行政执法大队", "罚款", "旅行社"]
    write_sheet(path, [
        good,
        ["CF-201", "", "行政处罚", "旅游法", "第一条", "局", "大队", "", ""],            # row 3: no name
        ["CF-202", "某事项", "行政罚款", "旅游法", "第一条", "局", "大队", "", ""],       # row 4: bad category
        ["CF-200", "重复编码", "行政检查", "旅游法", "第一条", "局", "大队", "", ""],     # row 5: duplicate code
    ])
    before = snapshot()
    result = cli_env.invoke(bot.cli, ["import-items", "--replace", str(path)])
    assert result.exit_code == 1
    assert "第3行" in result.output and "事项名称" in result.output
    assert "第4行" in result.output and "行政罚款" in result.output
    assert "第5行" in result.output and "与第2行重复" in result.output
    assert "第2行" not in result.output.replace("与第2行", "")
    assert snapshot() == before


def test_wrong_header_and_not_a_spreadsheet_are_refused(cli_env, tmp_path):
    path = tmp_path / "header.xlsx"
    write_sheet(path, [["a", "b"]], header=["名称", "类别"])
    result = cli_env.invoke(bot.cli, ["import-items", str(path)])
    assert result.exit_code == 1 and "第1行" in result.output and "表头缺少列" in result.output
    text = tmp_path / "fake.xlsx"
    text.write_text("not excel")
    result = cli_env.invoke(bot.cli, ["import-items", str(text)])
    assert result.exit_code == 1 and "无法读取Excel文件" in result.output


def test_menu_is_installed_through_the_wechat_api(cli_env, fake_wechat):
    result = cli_env.invoke(bot.cli, ["menu"])
    assert result.exit_code == 0, result.output
    [token_request] = [r for r in fake_wechat.requests if r[0].endswith("/token")]
    assert token_request[1]["appid"] == "wx_test"
    [menu] = fake_wechat.sent("/menu/create")
    names = [b["name"] for b in menu["button"]]
    assert names == ["执法公示", "办事指南", "投诉举报"]
    keys = {s.get("key") for b in menu["button"] for s in b["sub_button"]}
    assert {"SUBJECT", "OFFICERS", "ITEMS", "INSPECTIONS", "FLOWS", "REMEDY", "COMPLAINT_CHANNELS"} <= keys


def chat(live_server, *args):
    env = {**live_server["env"], "PORT": str(live_server["port"])}
    result = subprocess.run([sys.executable, "bot.py", "chat", *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    return result.returncode, result.stdout


def test_terminal_chat_against_live_server(live_server):
    code, out = chat(live_server, "网吧")
    assert code == 0 and "互联网上网服务营业场所管理条例" in out
    code, out = chat(live_server, "--encrypt", "--openid", "o_other", "救济")
    assert code == 0 and "行政复议" in out
    code, out = chat(live_server, "--event", "subscribe")
    assert code == 0 and "感谢关注" in out
    code, out = chat(live_server, "--event", "click:REMEDY")
    assert code == 0 and "行政诉讼" in out


def test_terminal_chat_interactive(live_server):
    env = {**live_server["env"], "PORT": str(live_server["port"])}
    result = subprocess.run([sys.executable, "bot.py", "chat"], cwd=ROOT, env=env, input="假唱\n帮助\n",
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "第四十七条" in result.stdout and "投诉方式" in result.stdout


def test_terminal_chat_without_server_says_so(tmp_path):
    result = subprocess.run([sys.executable, "bot.py", "chat", "--url", "http://127.0.0.1:9/wechat", "帮助"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "无法连接服务器" in result.stdout
