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


# -- check_in: what the record knows of a delivery, so the database need not be asked (issue 20) ---------------

def check_in(record, nonce, key="m:o_a:1", openid="o_a", body=b"<xml/>"):
    return record.check_in("1700000000", nonce, body, key, openid)


def test_a_new_delivery_of_a_user_in_no_dialogue_is_known_new(tmp_path):
    record = FileReplayRecord(300, tmp_path / "n", users_with_rows=lambda: [])
    assert check_in(record, "1") == (FIRST, True)
    # WeChat's retry of the same message (another nonce): seen, so its stored reply is looked up
    assert check_in(record, "2") == (FIRST, False)
    # the identical request again: a repeat, never new
    assert check_in(record, "1") == (REPEAT, False)
    assert check_in(record, "1", body=b"<xml>other</xml>") == (REFUSED, False)
    assert check_in(record, "3", key="m:o_a:2") == (FIRST, True)


def test_another_worker_knows_the_deliveries_and_the_marks_of_this_one(tmp_path):
    here = FileReplayRecord(300, tmp_path / "n", users_with_rows=lambda: [])
    there = FileReplayRecord(300, tmp_path / "n", users_with_rows=lambda: [])
    assert check_in(here, "1") == (FIRST, True)
    assert check_in(there, "2") == (FIRST, False)  # the retry reached the other worker: not new there either
    assert check_in(there, "3", key="m:o_b:1", openid="o_b") == (FIRST, True)
    here.may_have_rows("o_b")  # o_b sent a message that may open a dialogue, to this worker
    assert check_in(there, "4", key="m:o_b:2", openid="o_b") == (FIRST, False)
    assert check_in(here, "5", key="m:o_c:1", openid="o_c") == (FIRST, True)


def test_users_in_a_dialogue_when_a_period_begins_are_marked(tmp_path, monkeypatch):
    """The marks of a period are written again from the database when the next begins; a mark lasts two."""
    now = [1_700_000_400.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    in_dialogue = {"o_draft"}
    record = FileReplayRecord(300, tmp_path / "n", users_with_rows=lambda: set(in_dialogue))
    assert check_in(record, "1", key="m:o_draft:1", openid="o_draft") == (FIRST, False)
    record.may_have_rows("o_new")  # opened a dialogue in this period; the database has no row yet
    now[0] += 600  # the next period: the mark of the previous one still counts
    assert check_in(record, "2", key="m:o_new:1", openid="o_new") == (FIRST, False)
    in_dialogue.add("o_new")
    in_dialogue.discard("o_draft")
    now[0] += 600  # the one after: the database says who is in a dialogue now
    assert check_in(record, "3", key="m:o_new:2", openid="o_new") == (FIRST, False)
    assert check_in(record, "4", key="m:o_draft:2", openid="o_draft") == (FIRST, False)  # its mark of last period
    now[0] += 600
    assert check_in(record, "5", key="m:o_draft:3", openid="o_draft") == (FIRST, True)
    assert check_in(record, "6", key="m:o_new:3", openid="o_new") == (FIRST, False)


def test_when_the_database_cannot_say_who_is_in_a_dialogue_nothing_is_new(tmp_path):
    answers = [RuntimeError("database away"), []]

    def users_with_rows():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    record = FileReplayRecord(300, tmp_path / "n", users_with_rows=users_with_rows)
    assert check_in(record, "1") == (FIRST, False)
    assert check_in(record, "2", key="m:o_a:2") == (FIRST, True)  # asked again, and answered
    assert check_in(FileReplayRecord(300, tmp_path / "m"), "1") == (FIRST, False)  # no one to ask: never new


def test_claims_written_before_check_in_are_still_read(tmp_path):
    folder = tmp_path / "n"
    record = FileReplayRecord(300, folder)
    record.claim("1", "0", b"warm")
    path = next(folder.glob("*.log"))
    with path.open("a") as log:
        log.write(f"{'0' * 64} 1700000000:old\n")
    assert FileReplayRecord(300, folder).claim("1700000000", "old", b"x") is REFUSED
    # an event key with spaces is hashed into the line; a nonce with a space stays readable after it
    other = FileReplayRecord(300, folder, users_with_rows=lambda: [])
    assert other.check_in("1700000000", "a b", b"y", "e:o_a:1:click:MY KEY", "o_a") == (FIRST, True)
    assert FileReplayRecord(300, folder).claim("1700000000", "a b", b"z") is REFUSED


def test_a_nonce_with_a_unicode_line_separator_stays_one_line(tmp_path):
    record = FileReplayRecord(300, tmp_path / "n")
    assert record.claim("1700000000", "1\u20282", b"x") == FIRST
    assert FileReplayRecord(300, tmp_path / "n").claim("1700000000", "1\u20282", b"y") is REFUSED
