"""The short soak (the full one is `make soak`): the production gunicorn configuration (deploy/) with
4 workers and the clock as its own process, 32 connections for 15 s of questions and complaint
dialogues with WeChat-style identical retries, and a worker killed with SIGKILL in the middle.
On PostgreSQL when TEST_DATABASE_URL is set (CI), else SQLite. No PostgreSQL restart here: that
cluster is shared with the rest of the suite; `make soak` does it."""
import json
import os
import subprocess
import sys

from tests.conftest import ROOT


def test_short_soak(tmp_path):
    report_path = tmp_path / "soak.json"
    database = os.environ.get("TEST_DATABASE_URL") or "sqlite"
    result = subprocess.run([sys.executable, "bench/soak.py", "--duration", "15", "--no-echo",
                             "--database-url", database, "--json", str(report_path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert report_path.exists(), result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(report_path.read_text(encoding="utf-8"))
    failed = [check["check"] for check in report["checks"] if not check["ok"]]
    assert not failed and result.returncode == 0, (failed, result.stdout[-3000:], report.get("examples"))
    # The checks above are only worth something if the load really ran through the faults.
    assert report["events"]["kill_at"] is not None
    assert report["counts"]["complaints_acknowledged"] >= 1 and report["counts"]["retries"] >= 1
    assert report["ours"]["requests"] >= 100
    assert report["database"] == ("postgresql" if database.startswith("postgres") else "sqlite")
