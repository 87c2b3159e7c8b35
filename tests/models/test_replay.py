"""The record of signed requests already seen (models/replay.py), as the workers of one server share it."""
import multiprocessing
import time

import pytest

from models.replay import FIRST, REFUSED, REPEAT, FileReplayRecord, MemoryReplayRecord


@pytest.fixture(params=["file", "memory"])
def record(request, tmp_path):
    return FileReplayRecord(300, tmp_path / "db.nonces.d") if request.param == "file" else MemoryReplayRecord(300)


def test_first_use_then_identical_repeat_then_another_body_refused(record):
    assert record.claim("1700000000", "123456", b"<xml>a</xml>") == FIRST
    assert record.claim("1700000000", "123456", b"<xml>a</xml>") == REPEAT
    assert record.claim("1700000000", "123456", b"<xml>b</xml>") is REFUSED
    assert record.claim("1700000000", "654321", b"<xml>b</xml>") == FIRST


def test_nonces_that_are_not_wechats_are_refused(record):
    assert record.claim("1700000000", "", b"x") is REFUSED
    assert record.claim("1700000000", "9" * 65, b"x") is REFUSED


def test_a_key_with_a_line_break_is_refused_and_breaks_nothing(tmp_path):
    record = FileReplayRecord(300, tmp_path / "n")
    assert record.claim("1700000000", "12\n34", b"x") is REFUSED
    assert record.claim("1700000000", "1234", b"x") == FIRST
    assert FileReplayRecord(300, tmp_path / "n").claim("1700000000", "1234", b"y") is REFUSED


def _claim_in_child(folder, nonce, body, queue):
    queue.put(FileReplayRecord(300, folder).claim("1700000000", nonce, body))


def test_another_process_sees_the_claims_of_this_one(tmp_path):
    folder = tmp_path / "db.nonces.d"
    here = FileReplayRecord(300, folder)
    assert here.claim("1700000000", "111", b"body") == FIRST
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    for nonce, body, expected in (("111", b"other", REFUSED), ("111", b"body", REPEAT), ("222", b"x", FIRST)):
        child = context.Process(target=_claim_in_child, args=(folder, nonce, body, queue))
        child.start()
        child.join(60)
        assert queue.get(timeout=5) == expected
    # And this one sees what the other appended after its own last look.
    assert here.claim("1700000000", "222", b"y") is REFUSED


def test_a_torn_line_costs_no_more_than_the_line_after_it(tmp_path):
    """Lines are written whole, one write() each under the lock; a torn one (a disk full) is glued to the
    next: both are lost to the record, nothing else, and nothing fails."""
    folder = tmp_path / "n"
    record = FileReplayRecord(300, folder)
    record.claim("1", "0", b"warm")  # opens this window's file
    path = next(folder.glob("*.log"))
    with path.open("ab") as log:
        log.write(b"\xff\xfe torn")
    assert record.claim("1700000000", "88", b"x") == FIRST
    other = FileReplayRecord(300, folder)
    assert other.claim("1700000000", "89", b"x") == FIRST
    assert other.claim("1700000000", "89", b"y") is REFUSED
    assert record.claim("1700000000", "89", b"y") is REFUSED


def test_files_older_than_the_previous_window_are_deleted(tmp_path, monkeypatch):
    folder = tmp_path / "n"
    record = FileReplayRecord(300, folder)  # its window is 600 s: a timestamp may be early or late
    now = [1_700_000_000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    assert record.claim("1", "1", b"a") == FIRST
    now[0] += 600
    assert record.claim("1", "1", b"b") is REFUSED  # the previous window is still read
    now[0] += 1200
    assert record.claim("2", "2", b"c") == FIRST
    assert len(list(folder.glob("*.log"))) == 2  # this window and the previous one
    assert record.claim("1", "1", b"b") == FIRST  # long past the window: its timestamp is refused anyway
