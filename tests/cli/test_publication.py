"""事后公开 on the command line: `bot.py mask` prints what would be published."""
import subprocess
import sys

from tests.cli import test_commands
from tests.conftest import ROOT

cli_env = test_commands.cli_env  # the command line pointed at the test database

TEXT = "当事人：星空网吧。证人李四称，其电话13812345678，罚款5000元。\n"


def run_mask(*args, stdin=None):
    return subprocess.run([sys.executable, "bot.py", "mask", *args], cwd=ROOT, input=stdin, capture_output=True,
                          timeout=120)


def test_mask_reads_standard_input():
    result = run_mask("-", "--spans", stdin=TEXT.encode("utf-8"))
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode("utf-8") == "当事人：星空网吧。证人李某某称，其电话138********，罚款5000元。\n"
    assert "自然人姓名\t李四" in result.stderr.decode("utf-8")


def test_mask_reads_a_gbk_file_and_a_missing_file_fails_cleanly(tmp_path):
    path = tmp_path / "decision.txt"
    path.write_bytes(TEXT.encode("gb18030"))
    assert "李某某" in run_mask(str(path)).stdout.decode("utf-8")
    missing = run_mask(str(tmp_path / "none.txt"))
    assert missing.returncode != 0 and b"Traceback" not in missing.stderr


def test_staff_preview_correct_and_withdraw_on_the_command_line(cli_env, app):
    import datetime as dt

    import bot
    from models import Staff, db, publication
    from tests.web.test_publication import add

    db.connect(reuse_if_open=True)
    row = add(7, publication.PENDING, served_on=dt.date(2026, 9, 8),
              original="当事人：奈曼旗第7网吧。证人王大力称，电话13847510007。", masked="")
    publication._apply_mask(row)
    row.save()
    Staff.add(None, "王公开", "受理员")
    shown = cli_env.invoke(bot.cli, ["publication", "show", str(row.id)])
    assert shown.exit_code == 0 and "13847510007" in shown.output and "王某某" in shown.output
    refused = cli_env.invoke(bot.cli, ["publication", "publish", str(row.id), "--by", "无名氏"])
    assert refused.exit_code == 1 and "不在工作人员名单上" in refused.output
    fixed = cli_env.invoke(bot.cli, ["publication", "fix-mask", str(row.id), "--hide", "第7网吧", "--reason",
                                     "演示人工更正", "--by", "王公开"])
    assert fixed.exit_code == 0 and "第7网吧" not in fixed.output.split("公开文本：", 1)[1]
    assert cli_env.invoke(bot.cli, ["publication", "publish", str(row.id), "--by", "王公开"]).exit_code == 0
    withdrawn = cli_env.invoke(bot.cli, ["publication", "withdraw", str(row.id), "--revoked-on", "2026-09-10",
                                         "--reason", "该决定已被行政复议决定撤销", "--by", "王公开"])
    assert withdrawn.exit_code == 0 and "已撤回" in withdrawn.output
    assert cli_env.invoke(bot.cli, ["publication", "show", "abc"]).exit_code == 1
