"""The public draw pages: the plan and commitment before the draw, then the files, the checker (run in a
subprocess on what was downloaded) and the results; and 抽查结果 in the chat."""
import subprocess
import sys

from models import db, draws
from tests.models.test_draws import (
    COMMIT_AT,
    DRAW_ON,
    REVEAL_AT,
    SECRET,
    SOURCE,
    VALUE,
    set_up_pools,
)


def committed(app):
    config = app.config["SANXIANG"]
    with app.app_context():
        db.connect(reuse_if_open=True)
        head = set_up_pools(config)
        draw = draws.commit(config, "2026年12月双随机抽查", head, public_value_source=SOURCE, draw_on=DRAW_ON,
                            secret=SECRET, at=COMMIT_AT)
        return draw, head


def test_before_the_draw_only_the_plan_and_commitment_are_public(app, client):
    draw, _ = committed(app)
    page = client.get(f"/draws/{draw.id}").get_data(as_text=True)
    assert draw.commitment in page and SOURCE in page and "旅行社经营活动检查" in page
    assert SECRET not in page
    assert client.get(f"/draws/{draw.id}/commitment.json").status_code == 200
    for name in ("targets", "inspectors", "conflicts", "reveal", "result"):
        response = client.get(f"/draws/{draw.id}/{name}.json")
        assert response.status_code == 404 and "抽取完成后" in response.get_data(as_text=True)
    assert client.get("/draws/").status_code == 200
    assert client.get("/draws/99").status_code == 404
    assert client.get(f"/draws/{draw.id}/secret.json").status_code == 404


def test_after_the_draw_anyone_can_download_and_check_it(app, client, tmp_path, wechat_user):
    assert "还没有公布" in wechat_user.say("抽查结果")
    draw, head = committed(app)
    config = app.config["SANXIANG"]
    with app.app_context():
        draws.reveal(config, draw.id, head, VALUE, at=REVEAL_AT)
        draw = draws.run(config, draw.id, head, at=REVEAL_AT)
        first = draw.result_document()["selected"][0]
    page = client.get(f"/draws/{draw.id}").get_data(as_text=True)
    assert draw.seed in page and first["name"] in page and "个工作日内" in page
    assert "/draws/verify_draw.py" in page
    script = client.get("/draws/verify_draw.py")
    assert script.status_code == 200 and b"import hashlib" in script.data
    (tmp_path / "verify_draw.py").write_bytes(script.data)
    links = [f"/draws/{draw.id}/{name}.json" for name in draws.draw_rule.FILES]
    for link in links:
        response = client.get(link)
        assert response.status_code == 200, link
        (tmp_path / link.rsplit("/", 1)[1]).write_bytes(response.data)
    run = [sys.executable, "-I", str(tmp_path / "verify_draw.py"), str(tmp_path), "--commitment", draw.commitment]
    checked = subprocess.run(run, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert checked.returncode == 0 and "核验通过" in checked.stdout, checked.stdout + checked.stderr
    # a commitment other than the one published before the draw: refused
    other = run[:-1] + ["0" * 64]
    assert subprocess.run(other, capture_output=True, text=True, timeout=60, cwd=tmp_path).returncode == 1

    app.extensions["answer_cache"].clear()  # as answer_cache_seconds would, a few seconds later
    reply = wechat_user.say("抽查结果")
    assert f"第{draw.id}号双随机抽取" in reply and first["name"] in reply


def test_a_missing_file_is_said_plainly(tmp_path):
    from models import draw_rule

    assert draw_rule.main([str(tmp_path)]) == 1
    assert draw_rule.main([]) == 2
