"""事后公开 on the command line: `bot.py mask` prints what would be published."""
import subprocess
import sys

from tests.conftest import ROOT

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
