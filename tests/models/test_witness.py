"""Checkpoints published by the bureau, cosigned by the supervisor's witness, checked by `verify` and by
the standalone script; the witness refuses a forked or rolled-back log (issue 16)."""
import base64
import importlib.util
import json
import os
import time

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import bot
import settings
from handlers.cli import witness as witness_cli
from models import checkpoint, ledger, merkle, treehead, witness
from models.audit import verify_log
from models.database import db
from notices.ledger import publish_tree_head
from tests.conftest import ROOT

WITNESS = "sfj.naiman.example/witness"


def load_script():
    spec = importlib.util.spec_from_file_location("verify_proof", ROOT / "tools" / "verify_proof.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def witness_key(tmp_path):
    return witness.generate_key(tmp_path / "witness" / "w.pem")


@pytest.fixture
def config(app, tmp_path, witness_key):
    overrides = {"ledger": {"private_key_path": str(tmp_path / "keys" / "k.pem"), "feed_path": str(tmp_path / "heads.txt"),
                            "witnesses": [checkpoint.vkey(WITNESS, witness_key, checkpoint.COSIGNATURE_V1)]}}
    db.connect(reuse_if_open=True)
    merged = settings.deep_merge(app.config["SANXIANG"], overrides)
    app.config["SANXIANG"] = merged
    yield merged
    if not db.is_closed():
        db.close()


def grow(n):
    for i in range(n):
        ledger.append("note", {"i": i})


def log_vkey(config):
    return str(treehead.log_verifier(config, treehead.load_public_key(config)))


def honest_proof(first, second):
    return ledger.tree(second).consistency_proof(first, second)


def test_heads_are_c2sp_checkpoints_and_old_heads_still_verify(config, client):
    grow(3)
    old = treehead.sign_head(config)
    treehead.TreeHead.insert(size=old.size, root=old.root, alg=old.alg, timestamp="2026-01-01T00:00:00+08:00",
                             origin=old.origin, key_id=old.key_id, note=None,
                             signature=base64.b64encode(treehead.load_private_key(config).sign(treehead.signed_message(
                                 old.origin, "sha256", old.size, old.root, "2026-01-01T00:00:00+08:00"))).decode()).execute()
    grow(2)
    head = publish_tree_head(config)
    text, _ = checkpoint.open_note(head.note, [checkpoint.Verifier.parse(log_vkey(config))])
    assert text == f"{config['ledger']['origin']}\n5\n{base64.b64encode(bytes.fromhex(head.root)).decode()}\n"
    response = client.get("/ledger/checkpoint")
    assert response.status_code == 200 and response.content_type == "text/plain; charset=utf-8"
    assert response.get_data(as_text=True) == head.note
    assert client.get("/ledger/vkey").get_data(as_text=True).splitlines() == [log_vkey(config)] + config["ledger"]["witnesses"]
    key = treehead.load_public_key(config)
    heads = treehead.published_heads(config)
    assert any(h.note is None for h in heads)  # a head from before checkpoints: its old signature is checked
    report = verify_log(heads, key)
    assert report.ok, report.problems
    forged = next(h for h in heads if h.note and h.size == 5)
    forged.note = forged.note.replace("\n5\n", "\n4\n")
    assert not forged.signature_ok(key)


def test_the_witness_cosigns_what_extends_and_refuses_a_fork_and_a_rollback(config, witness_key):
    grow(4)
    first = publish_tree_head(config)
    state = {}
    line, entry = witness.cosign(first.note, log_vkey(config), state, honest_proof, WITNESS, witness_key, 1_800_000_000)
    state[config["ledger"]["origin"]] = entry
    assert treehead.add_cosignatures(config, first.note + line) == [WITNESS]
    grow(3)
    second = publish_tree_head(config)
    line2, entry2 = witness.cosign(second.note, log_vkey(config), state, honest_proof, WITNESS, witness_key, 1_800_000_100)
    assert entry2["size"] == 7
    # A fork: the bureau signs a tree of 8 whose entry 2 differs from what the witness cosigned at 4.
    key = treehead.load_private_key(config)
    leaves = ledger.leaf_hashes()
    forked = leaves[:2] + [merkle.leaf_hash(b"rewritten")] + leaves[3:] + [merkle.leaf_hash(b"more")]
    fork_note = checkpoint.sign_note(checkpoint.checkpoint_text(config["ledger"]["origin"], 8, merkle.root_from_hashes(forked)),
                                     config["ledger"]["origin"], key)
    with pytest.raises(witness.WitnessAlarm, match="分叉"):
        witness.cosign(fork_note, log_vkey(config), state, lambda a, b: merkle.consistency_proof(a, forked),
                       WITNESS, witness_key, 1_800_000_200)
    same_size = checkpoint.sign_note(checkpoint.checkpoint_text(config["ledger"]["origin"], 4, merkle.root_from_hashes(forked[:4])),
                                     config["ledger"]["origin"], key)
    with pytest.raises(witness.WitnessAlarm, match="分叉"):
        witness.cosign(same_size, log_vkey(config), state, honest_proof, WITNESS, witness_key, 1_800_000_200)
    state[config["ledger"]["origin"]] = entry2
    with pytest.raises(witness.WitnessAlarm, match="回滚"):
        witness.cosign(first.note, log_vkey(config), state, honest_proof, WITNESS, witness_key, 1_800_000_300)
    stranger = checkpoint.sign_note(second.note.split("\n\n")[0] + "\n", config["ledger"]["origin"], Ed25519PrivateKey.generate())
    with pytest.raises(witness.WitnessError, match="检查点核验失败"):
        witness.cosign(stranger, log_vkey(config), state, honest_proof, WITNESS, witness_key, 1_800_000_300)


def test_witness_command_over_http_then_publish_and_verify_reports_the_age(config, client, tmp_path, witness_key,
                                                                           monkeypatch, database_url):
    grow(5)
    publish_tree_head(config)
    monkeypatch.setattr(witness_cli, "fetch_url", lambda url: client.get(url.replace("http://bureau", "")).get_data(as_text=True))
    runner = CliRunner()
    args = ["witness", "cosign", "--log", "http://bureau/ledger", "--log-vkey", log_vkey(config),
            "--key", str(tmp_path / "witness" / "w.pem"), "--name", WITNESS, "--state", str(tmp_path / "state.json"),
            "--out", str(tmp_path / "cosigned.txt")]
    db.close()
    result = runner.invoke(bot.cli, args)
    assert result.exit_code == 0, result.output
    assert f"— {WITNESS} " in (tmp_path / "cosigned.txt").read_text(encoding="utf-8")
    db.connect(reuse_if_open=True)
    grow(2)
    publish_tree_head(config)
    db.close()
    assert runner.invoke(bot.cli, args).exit_code == 0  # 5 → 7, consistency fetched from /ledger/consistency
    state = json.loads((tmp_path / "state.json").read_text())
    assert state[config["ledger"]["origin"]]["size"] == 7
    # Rolled back: the witness now sees a checkpoint of 5 entries again.
    state[config["ledger"]["origin"]]["size"] = 9
    (tmp_path / "state.json").write_text(json.dumps(state))
    refused = runner.invoke(bot.cli, args)
    assert refused.exit_code == 2 and "回滚" in refused.output
    assert "回滚" in (tmp_path / "state.json.alarms.log").read_text(encoding="utf-8")
    # The bureau publishes the cosigned checkpoint; verify says it is cosigned and how old that is.
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("LEDGER_KEY_PATH", config["ledger"]["private_key_path"])
    monkeypatch.setenv("LEDGER_FEED_PATH", config["ledger"]["feed_path"])
    db.connect(reuse_if_open=True)
    assert treehead.add_cosignatures(config, (tmp_path / "cosigned.txt").read_text(encoding="utf-8")) == [WITNESS]
    assert f"— {WITNESS} " in client.get("/ledger/checkpoint").get_data(as_text=True)
    latest, found = treehead.cosignature_status(config, treehead.published_heads(config), treehead.load_public_key(config),
                                                time.time() + 3 * 3600)
    assert latest.size == 7 and [(name, age // 3600) for name, _, age in found] == [(WITNESS, 3)]
    with pytest.raises(checkpoint.NoteError, match="没有发布过"):
        treehead.add_cosignatures(config, (tmp_path / "cosigned.txt").read_text(encoding="utf-8").replace("\n7\n", "\n6\n"))
    # `bot.py verify` says so too (the app reads config.yaml: point it at one naming this witness).
    import yaml

    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    monkeypatch.setattr(settings, "DEFAULT_CONFIG_PATH", tmp_path / "config.yaml")
    db.close()
    said = runner.invoke(bot.cli, ["verify", "--no-files"])
    assert said.exit_code == 0, said.output
    assert f"最新检查点（7条）已由监督机关 {WITNESS} 联署" in said.output and "核验通过" in said.output


def test_the_standalone_script_checks_checkpoint_cosignature_and_a_kept_checkpoint(config, client, tmp_path, witness_key):
    script = load_script()
    grow(3)
    first = publish_tree_head(config)
    kept = first.note
    grow(4)
    head = publish_tree_head(config)
    line, _ = witness.cosign(head.note, log_vkey(config), {}, honest_proof, WITNESS, witness_key, int(time.time()) - 7200)
    treehead.add_cosignatures(config, head.note + line)
    proof = treehead.inclusion_proof_document(config, 5)
    vkeys = [script.parse_vkey(v) for v in client.get("/ledger/vkey").get_data(as_text=True).splitlines()]
    public = script.read_keys(client.get("/ledger/vkey").get_data(as_text=True))[1]
    consistency = client.get(f"/ledger/consistency?first={first.size}&second={head.size}").get_json()
    results = script.check(proof, public, vkeys, kept, consistency)
    assert all(ok for ok, _ in results), results
    assert any("已联署" in what and "距今2小时" in what for _, what in results)
    # A kept checkpoint of the same size but another root: the bureau showed two histories.
    other = checkpoint.sign_note(checkpoint.checkpoint_text(config["ledger"]["origin"], 7, b"\x07" * 32),
                                 config["ledger"]["origin"], treehead.load_private_key(config))
    results = script.check(proof, public, vkeys, other, None)
    assert [what for ok, what in results if not ok] == ["您保存的检查点：同样7条，根哈希却不同：本局向不同的人展示了不同的记录（分叉）"]
    # Without the cosignature line, the script says so.
    proof["checkpoint"] = head.note
    assert [what for ok, what in script.check(proof, public, vkeys) if not ok] == []
    assert "提醒：没有监督机关的有效联署（监督机关尚未核对这个检查点）" in [what for _, what in script.check(proof, public, vkeys)]
    assert [what for ok, what in script.check(proof, public, vkeys, require_cosignature=True) if not ok] == [
        "没有监督机关的有效联署（监督机关尚未核对这个检查点）"]
    proof["checkpoint"] = head.note.replace(f"\n{head.size}\n", "\n6\n")
    assert any("C2SP 检查点核验失败" in what for ok, what in script.check(proof, public, vkeys) if not ok)
    # A head signed since, not yet cosigned: proofs keep using the newest cosigned one that covers the entry.
    grow(1)
    publish_tree_head(config)
    assert treehead.inclusion_proof_document(config, 5)["tree_head"]["size"] == head.size
    assert treehead.inclusion_proof_document(config, 7)["tree_head"]["size"] == head.size + 1


def test_the_script_is_downloadable_and_runs_alone(config, client, tmp_path):
    import subprocess
    import sys

    grow(2)
    publish_tree_head(config)
    response = client.get("/ledger/verify_proof.py")
    assert response.status_code == 200 and b"import hashlib" in response.data
    (tmp_path / "v.py").write_bytes(response.data)
    (tmp_path / "proof.json").write_text(json.dumps(treehead.inclusion_proof_document(config, 1), ensure_ascii=False))
    (tmp_path / "vkey").write_bytes(client.get("/ledger/vkey").data)
    run = subprocess.run([sys.executable, "-I", "v.py", "proof.json", "vkey"], cwd=tmp_path, capture_output=True,
                         text=True, env={"PATH": os.environ["PATH"]})
    # The configured witness has not cosigned yet: the script says so, and passes what it could check.
    assert run.returncode == 0 and "提醒  没有监督机关的有效联署" in run.stdout, run.stdout + run.stderr
    assert "通过  审计路径通向签名的根哈希" in run.stdout and run.stdout.splitlines()[-1].startswith("通过：")
    strict = subprocess.run([sys.executable, "-I", "v.py", "proof.json", "vkey", "--require-cosignature"], cwd=tmp_path,
                            capture_output=True, text=True)
    assert strict.returncode == 1 and strict.stdout.splitlines()[-1] == "未通过：没有监督机关的有效联署（监督机关尚未核对这个检查点）"
    bad = subprocess.run([sys.executable, "-I", "v.py", "missing.json", "vkey"], cwd=tmp_path, capture_output=True, text=True)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr and "未通过" in bad.stdout


def test_pure_python_ed25519_agrees_with_cryptography():
    script = load_script()
    rng = __import__("random").Random(16)
    for i in range(12):
        key = Ed25519PrivateKey.from_private_bytes(bytes(rng.randrange(256) for _ in range(32)))
        public = checkpoint.raw_public(key)
        message = bytes(rng.randrange(256) for _ in range(i * 7))
        signature = key.sign(message)
        assert script.ed25519_verify(public, message, signature)
        flipped = bytearray(signature)
        flipped[rng.randrange(64)] ^= 1 << rng.randrange(8)
        assert not script.ed25519_verify(public, message, bytes(flipped))
        assert not script.ed25519_verify(public, message + b"x", signature)
    # RFC 8032 §7.1, TEST 1 (the empty message).
    public = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    signature = bytes.fromhex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46b"
                              "d25bf5f0595bbe24655141438e7a100b")
    assert script.ed25519_verify(public, b"", signature)
    assert not script.ed25519_verify(public, b"", signature[:32] + (int.from_bytes(signature[32:], "little")
                                                                     + script.Q).to_bytes(32, "little"))  # s >= L


def test_verify_names_an_index_edit_and_a_dropped_trigger_on_either_database(config):
    """The stricter verify on SQLite and PostgreSQL alike (the file-level tests in test_cases are SQLite's)."""
    from models import Officer, Staff, cases
    from models.database import is_sqlite

    Staff.add(None, "白斯琴", "法制审核员", Officer.by_cert_no("15052501003"))
    case = cases.open_case(config, party={"kind": "法人或其他组织", "name": "奈曼旗星空网吧"}, handlers=["15052501001", "15052501002"],
                           by="15052501001", data={"item_code": "CF-002", "source": "投诉举报", "facts": "群众举报",
                                                   "approver": "局长 张某"})
    key = treehead.load_private_key(config, create=True).public_key()
    assert verify_log(treehead.published_heads(config), key).ok
    if is_sqlite():
        db.execute_sql("DROP TRIGGER enforcement_case_no_update")
        name = "enforcement_case_no_update"
    else:
        db.execute_sql("DROP TRIGGER enforcement_case_no_change ON enforcement_case")
        name = "enforcement_case_no_change"
    db.execute_sql(f"UPDATE enforcement_case SET party_name = {db.param} WHERE number = {db.param}", ("张三", case.number))
    messages = [p.message for p in verify_log(treehead.published_heads(config), key).problems]
    assert any(f"缺少防删改触发器 {name}" in m for m in messages), messages
    assert any("当事人名称“张三”与第0条立案记录“奈曼旗星空网吧”不符" in m for m in messages), messages
    assert cases.Case.by_number(case.number).file().party_name == "奈曼旗星空网吧"


def test_an_entry_no_head_covers_yet_is_still_named_when_rewritten_with_its_hash(config):
    from models.database import is_sqlite

    grow(3)
    publish_tree_head(config)
    grow(2)
    if is_sqlite():
        db.execute_sql("DROP TRIGGER ledger_entry_no_update")
    else:
        db.execute_sql("DROP TRIGGER ledger_entry_no_change ON ledger_entry")
    body = bytes(ledger.LedgerEntry.by_seq(4).body).replace(b'"i":1', b'"i":7')
    db.execute_sql(f"UPDATE ledger_entry SET body = {db.param}, leaf_hash = {db.param} WHERE seq = 4",
                   (body, merkle.leaf_hash(body)))
    report = verify_log(treehead.published_heads(config), treehead.load_public_key(config), derived=False)
    assert report.first_bad_entry() == 4 and "哈希列也被改写" in report.problems[0].message


def test_the_incremental_check_holds_the_new_cases_index_rows_against_the_log(config):
    """Before a head is signed only what was appended since the last one is checked (issue 19): the index
    rows of the cases opened since are held against their 立案 entries; older rows are the full check's."""
    from models import Officer, Staff, cases
    from models.audit import verify_appended
    from models.database import is_sqlite

    Staff.add(None, "白斯琴", "法制审核员", Officer.by_cert_no("15052501003"))

    def open_case(name):
        return cases.open_case(config, party={"kind": "法人或其他组织", "name": name}, handlers=["15052501001", "15052501002"],
                               by="15052501001", data={"item_code": "CF-002", "source": "投诉举报", "facts": "群众举报",
                                                       "approver": "局长 张某"})

    old = open_case("奈曼旗星空网吧")
    head = publish_tree_head(config)
    new = open_case("奈曼旗银河网吧")
    db.execute_sql("DROP TRIGGER enforcement_case_no_update" if is_sqlite()
                   else "DROP TRIGGER enforcement_case_no_change ON enforcement_case")
    for case in (old, new):
        db.execute_sql(f"UPDATE enforcement_case SET party_name = {db.param} WHERE number = {db.param}", ("张三", case.number))
    key = treehead.load_public_key(config)
    report = verify_appended(head.size, ledger.tree(head.size).right_edge(), head.root, [], key)
    named = [p.message for p in report.problems if "当事人名称“张三”" in p.message]
    assert len(named) == 1 and "奈曼旗银河网吧" in named[0], named
    full = [p.message for p in verify_log(treehead.published_heads(config), key).problems if "当事人名称“张三”" in p.message]
    assert len(full) == 2, full
