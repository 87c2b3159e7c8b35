"""The case-file log's stored subtree hashes (ledger_node, issue 19) against the from-scratch reference.

Proofs, roots and heads are now composed from O(log n) stored hashes; merkle.Levels and the recursive
merkle.inclusion_proof / consistency_proof over every leaf hash stay as the reference, and every answer
must be byte-identical to theirs, on each backend the suite runs on. `verify --since` is checked
against the full `verify`.
"""
import importlib
import os

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from peewee import DatabaseError

import bot
import settings
from models import ledger, merkle, treehead
from models.audit import verify_log
from models.database import db, is_sqlite
from notices.ledger import RefusedToSign, publish_tree_head

ENTRIES = 150  # leaves: every shape of right edge up to height 7


@pytest.fixture
def config(app, tmp_path):
    overrides = {"ledger": {"private_key_path": str(tmp_path / "keys" / "k.pem"),
                            "feed_path": str(tmp_path / "heads.txt")}}
    db.connect(reuse_if_open=True)
    yield settings.deep_merge(app.config["SANXIANG"], overrides)
    if not db.is_closed():
        db.close()


def append_note(i):
    # One entry of the other algorithm: its leaf hash is SM3, the interior nodes stay SHA-256.
    return ledger.append("note", {"i": i}, case_no=f"C{i % 7}", alg="sm3" if i == 5 else "sha256")


@pytest.fixture
def grown(config):
    """A log grown entry by entry; after each append the stored nodes give the reference root."""
    for i in range(ENTRIES):
        append_note(i)
        hashes = ledger.leaf_hashes()
        assert ledger.tree().root() == merkle.root_from_hashes(hashes), f"size {i + 1}"
    return ledger.leaf_hashes()


@hsettings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_proofs_from_stored_nodes_equal_the_reference(grown, data):
    hashes = grown
    size = data.draw(st.integers(1, len(hashes)), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    size1 = data.draw(st.integers(0, size), label="size1")
    reference = merkle.Levels(hashes)
    tree = ledger.tree(size)
    assert tree.root() == merkle.root_from_hashes(hashes[:size]) == reference.root(size)
    assert tree.inclusion_proof(index) == merkle.inclusion_proof(index, hashes[:size]) \
        == reference.inclusion_proof(index, size)
    assert tree.consistency_proof(size1) == merkle.consistency_proof(size1, hashes[:size]) \
        == reference.consistency_proof(size1, size)
    assert tree.right_edge() == [reference.node(h, i) for h, i in merkle.subtrees(0, size)]


def test_documents_and_heads_equal_the_reference(grown, config):
    hashes = grown
    head = treehead.sign_head(config)
    assert (head.size, head.root) == (len(hashes), merkle.root_from_hashes(hashes).hex())
    reference = merkle.Levels(hashes)
    for seq in (0, 1, 5, 63, 64, 100, len(hashes) - 1):
        document = treehead.inclusion_proof_document(config, seq)
        assert document["audit_path"] == [h.hex() for h in reference.inclusion_proof(seq)]
        merkle.verify_inclusion(seq, head.size, bytes.fromhex(document["leaf_hash"]),
                                [bytes.fromhex(h) for h in document["audit_path"]], bytes.fromhex(head.root))
    for first, second in ((0, 0), (1, 2), (7, 64), (64, 65), (33, len(hashes)), (len(hashes), len(hashes))):
        document = treehead.consistency_document(first, second)
        assert document == {"first": first, "second": second, "first_root": reference.root(first).hex(),
                            "second_root": reference.root(second).hex(),
                            "proof": [h.hex() for h in reference.consistency_proof(first, second)]}
    assert treehead.consistency_document(1, len(hashes) + 1) is None


def test_the_migration_backfills_what_append_writes(grown):
    """0011 computes, over an existing log's leaf hashes, exactly the rows `append` stored one by one."""
    migration = importlib.import_module("models.migrations.0011_ledger_nodes")
    written = []

    class Capture:
        @staticmethod
        def insert_many(rows):
            written.extend((r["level"], r["idx"], r["hash"]) for r in rows)
            return type("Done", (), {"execute": lambda self: None})()

    migration.backfill(db, Capture)
    stored = [(level, idx, bytes(value)) for level, idx, value in
              db.execute_sql("SELECT level, idx, hash FROM ledger_node WHERE level > 0 ORDER BY level, idx")]
    assert sorted(written) == stored and len(stored) == ENTRIES - bin(ENTRIES).count("1")


@pytest.mark.parametrize("sql", ["UPDATE ledger_node SET idx = idx + 1000", "DELETE FROM ledger_node"])
def test_stored_nodes_are_append_only(config, sql):
    for i in range(4):
        append_note(i)
    with pytest.raises(DatabaseError, match="append-only"):
        with db.atomic():
            db.execute_sql(sql)
    assert db.execute_sql("SELECT COUNT(*) FROM ledger_node").fetchone()[0] == 3 + 4  # interior nodes + leaf copies


def drop_triggers(table):
    if is_sqlite():
        for op in ("update", "delete"):
            db.execute_sql(f"DROP TRIGGER {table}_no_{op}")
    else:
        db.execute_sql(f"DROP TRIGGER {table}_no_change ON {table}")


def test_signing_checks_the_new_entries_and_the_stored_nodes(config):
    for i in range(10):
        append_note(i)
    first = publish_tree_head(config)
    for i in range(10, 20):
        append_note(i)
    second = publish_tree_head(config)
    assert (second.size, second.root) == (20, merkle.root_from_hashes(ledger.leaf_hashes()).hex())
    assert verify_log(treehead.published_heads(config), treehead.load_public_key(config)).ok
    append_note(20)
    drop_triggers("ledger_entry")
    body = bytes(ledger.LedgerEntry.by_seq(20).body).replace(b'"i":20', b'"i":21')
    db.execute_sql(f"UPDATE ledger_entry SET body = {db.param} WHERE seq = 20", (body,))
    with pytest.raises(RefusedToSign, match="第20条记录内容与记录时的哈希不符"):
        publish_tree_head(config)
    assert treehead.TreeHead.latest().size == first.size + 10  # nothing signed


def test_signing_refuses_forged_stored_nodes(config):
    for i in range(8):
        append_note(i)
    publish_tree_head(config)
    append_note(8)
    drop_triggers("ledger_node")
    db.execute_sql(f"UPDATE ledger_node SET hash = {db.param} WHERE level = 3 AND idx = 0", (b"\x00" * 32,))
    with pytest.raises(RefusedToSign, match="ledger_node"):
        publish_tree_head(config)


@pytest.fixture
def cli(config, database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("RECORDS_PATH", str(tmp_path / "records"))
    monkeypatch.setenv("LEDGER_KEY_PATH", config["ledger"]["private_key_path"])
    monkeypatch.setenv("LEDGER_FEED_PATH", config["ledger"]["feed_path"])

    def run(*args):
        db.close()
        result = CliRunner().invoke(bot.cli, list(args))
        db.connect(reuse_if_open=True)
        return result
    return run


def test_verify_since_checks_what_was_appended_after_its_last_run(config, cli):
    for i in range(9):
        append_note(i)
    publish_tree_head(config)
    checkpoint = treehead.checkpoint_path(config)
    first = cli("verify", "--since", "--no-files")
    assert first.exit_code == 0 and "改为完整核验" in first.output and "核验通过" in first.output, first.output
    assert os.path.exists(checkpoint)
    for i in range(9, 30):
        append_note(i)
    publish_tree_head(config)
    for i in range(30, 33):
        append_note(i)
    second = cli("verify", "--since", "--no-files")
    assert second.exit_code == 0, second.output
    assert "新增24条记录" in second.output and "共33条记录，核对已发布树头2个" in second.output
    assert merkle.root_from_hashes(ledger.leaf_hashes()).hex() in second.output
    # A change after the checkpoint is found by the incremental run as by the full one.
    for i in range(33, 36):
        append_note(i)
    drop_triggers("ledger_entry")
    body = bytes(ledger.LedgerEntry.by_seq(34).body).replace(b'"i":34', b'"i":43')
    db.execute_sql(f"UPDATE ledger_entry SET body = {db.param} WHERE seq = 34", (body,))
    for args in (("verify", "--since", "--no-files"), ("verify", "--no-files")):
        result = cli(*args)
        assert result.exit_code == 1 and "第34条记录内容与记录时的哈希不符" in result.output, result.output


def test_verify_since_falls_back_to_the_full_check(config, cli):
    for i in range(5):
        append_note(i)
    publish_tree_head(config)
    assert cli("verify", "--no-files").exit_code == 0
    treehead.checkpoint_path(config).write_text("not json")
    result = cli("verify", "--since", "--no-files")
    assert result.exit_code == 0 and "改为完整核验" in result.output


def test_nodes_missing_after_a_bulk_load_are_computed_then_completed(config):
    """Entries written around `append` (a bulk load): proofs still equal the reference, computed from
    the leaves, and complete_nodes() stores what append would have."""
    for i in range(5):
        append_note(i)
    for seq in range(5, 12):
        body = ledger.canonical_bytes({"v": 1, "seq": seq, "kind": "note", "data": {}})
        ledger.LedgerEntry.insert(seq=seq, kind="note", body=body, leaf_hash=merkle.leaf_hash(body),
                                  recorded_at=ledger.now().replace(tzinfo=None)).execute()
    hashes = ledger.leaf_hashes()
    assert ledger.tree().inclusion_proof(3) == merkle.inclusion_proof(3, hashes)
    assert ledger.tree().root() == merkle.root_from_hashes(hashes)
    assert ledger.complete_nodes() == 12 - bin(12).count("1") - 3 + 7  # interior nodes, and leaves 5..11's copies
    assert ledger.complete_nodes() == 0
    assert ledger.tree().consistency_proof(5) == merkle.consistency_proof(5, hashes)
