"""C2SP signed notes, checkpoints and cosignatures (models/checkpoint.py) against the published examples:
the specifications' own texts, golang.org/x/mod/sumdb/note's test key and note, and a real checkpoint
of a public log cosigned by a public witness (as quoted in transparency-dev test suites)."""
import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from models import checkpoint as cp

# golang.org/x/mod/sumdb/note, note_test.go / example_test.go: the PeterNeumann key and its signed note.
GO_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = GO_TEXT + "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"

# c2sp.org/tlog-checkpoint and tlog-cosignature: the example (its keys are not published).
SPEC_CHECKPOINT = """example.com/behind-the-sofa
20852163
CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=
— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==
"""

# A real checkpoint: the log's Ed25519 (0x01) key and the remora.n621.de witness's cosignature (0x04).
REAL_LOG_VKEY = "arche2025h1.staging.ct.transparency.dev+ba2f06c0+AU0vHmlGCS/PdN8b2OaGmKprLI8HKM+dJ472xgFYh15f"
REAL_WITNESS_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
REAL_CHECKPOINT = """arche2025h1.staging.ct.transparency.dev
1432088532
U7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro=

— arche2025h1.staging.ct.transparency.dev zTM8sQAAAZ5W0WdjBAMARjBEAiBjW5IQf9pvsYLfQFX6hoGREPMHbdQ3urbllzalApkptQIgIpwtEroeW2BXaHAI4kJXFbon5Ch9MNL5zRNZ55lvGt0=
— arche2025h1.staging.ct.transparency.dev ui8GwCF1+kWqZrxGdhj4aX3gcw7XUlXQQabg/27lefwhUkzbC3NygNI75MdhL1bfTW9g8Ei59RA23oHP7Ry1k3ZFWwQ=
— transparency.dev/DEV:witness-little-garden 2AQqhwAAAABqEiEgzgFIqqhbUoDwjMWE6UP8nd8/KYTzwZ2rhIgcqoXHAwVkjZr4AscylP3v7sEodkRAErumC2q44vdgJY096st5BQ==
— witness1.smartit.nu/witness1 pIyCDwAAAABqEiEghIp82KWebrw7/oHQwlTAm3g2RKS4+eebl8eO0WH+/iEcxZ75W3u5hNI7TOQtmJbqmNWVuE0tgh0XwzdZsDsUAQ==
— remora.n621.de 2net5wAAAABqEiEgPlfF3V06o0Y+fHM+J5J9s27wgxxcOVSpZ/2g/KSiXCg9DEZI+aVCIobWX9sXTynk5XeU/zZ0WBxtqB0DrAWfBw==
— witness.stagemole.eu Z/euoAAAAABqEiEgw0i+7g2ENfDAWHmtRzCfKTHSDwYDJA2NmKeGi9Y8FtEyOUvVr+AJmIY/2TUFucgKi7lI7cUiOvKFYe/TmN9DAg==
"""


def go_private_key():
    material = base64.b64decode(GO_SIGNER.split("+", 4)[4])
    assert material[0] == cp.ED25519
    return Ed25519PrivateKey.from_private_bytes(material[1:])


def test_the_go_note_is_reproduced_byte_for_byte():
    key = go_private_key()
    assert cp.vkey("PeterNeumann", key) == GO_VKEY
    assert cp.sign_note(GO_TEXT, "PeterNeumann", key) == GO_NOTE  # Ed25519 is deterministic
    text, good = cp.open_note(GO_NOTE, [cp.Verifier.parse(GO_VKEY)])
    assert text == GO_TEXT and [v.name for v, _ in good] == ["PeterNeumann"]


@pytest.mark.parametrize("mangle", [lambda n: n.replace("cryptography", "cryptographY"),
                                    lambda n: n.replace("x08go", "x08gp")])
def test_a_changed_go_note_is_rejected(mangle):
    with pytest.raises(cp.NoteError, match="签名无效|没有可信密钥"):
        cp.open_note(mangle(GO_NOTE), [cp.Verifier.parse(GO_VKEY)])


@pytest.mark.parametrize("bad", ["PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
                                 "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
                                 "PeterNeumann+c74f20a3", "PeterNeumann+zz+AR", ""])
def test_malformed_verifier_keys_are_refused(bad):
    with pytest.raises(cp.NoteError):
        cp.Verifier.parse(bad)


def test_the_spec_checkpoint_parses_and_unknown_keys_are_ignored():
    text, signatures = cp.split_note(SPEC_CHECKPOINT)
    origin, size, root, extensions = cp.parse_checkpoint(text)
    assert (origin, size, extensions) == ("example.com/behind-the-sofa", 20852163, [])
    assert base64.b64encode(root).decode() == "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
    assert [s.name for s in signatures] == ["example.com/behind-the-sofa", "witness.example.com/w1"]
    assert signatures[1].timestamp == 1679315147  # the time line of the spec's signed-message example
    assert cp.cosigned_message(text, 1679315147) == (
        b"cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\n"
        b"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n")
    with pytest.raises(cp.NoteError, match="没有可信密钥"):
        cp.open_note(SPEC_CHECKPOINT, [cp.Verifier.parse(GO_VKEY)])


def test_a_real_cosigned_checkpoint_verifies_with_the_log_and_witness_keys():
    log, witness = cp.Verifier.parse(REAL_LOG_VKEY), cp.Verifier.parse(REAL_WITNESS_VKEY)
    assert witness.kind == cp.COSIGNATURE_V1
    text, good = cp.open_note(REAL_CHECKPOINT, [log, witness])
    assert {v.name for v, _ in good} == {log.name, witness.name}
    assert cp.parse_checkpoint(text)[1] == 1432088532
    with pytest.raises(cp.NoteError):
        cp.open_note(REAL_CHECKPOINT.replace("1432088532", "1432088533"), [witness])


def test_our_cosignature_round_trip_and_key_ids():
    log_key, witness_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    text = cp.checkpoint_text("奈曼旗文化和旅游局/执法全过程记录", 7, b"\x01" * 32)
    note = cp.sign_note(text, "奈曼旗文化和旅游局/执法全过程记录", log_key)
    line = cp.cosign(text, "sfj.example/witness", witness_key, 1_700_000_000)
    log = cp.Verifier("奈曼旗文化和旅游局/执法全过程记录", cp.ED25519, log_key)
    witness = cp.Verifier.parse(cp.vkey("sfj.example/witness", witness_key, cp.COSIGNATURE_V1))
    _, good = cp.open_note(note + line, [log, witness])
    assert [s.timestamp for v, s in good if v is witness] == [1_700_000_000]
    # The same key under type 0x01 has another key ID: a log signature is never taken for a cosignature.
    assert cp.key_id("sfj.example/witness", witness_key) != witness.id


@pytest.mark.parametrize("note", ["no blank line\n— a AAAA\n", "a\n1\nAAAA\n\n", "a\n\n— a not*base64\n",
                                  "a\n\n— a QUJD\n", "a\x01\n\n— a AAAAAAAA\n", "a\n\n—a AAAAAAAA\n"])
def test_malformed_notes_are_refused(note):
    with pytest.raises(cp.NoteError):
        cp.split_note(note)


@pytest.mark.parametrize("text", ["a\n01\nAAAA\n", "a\n1\n", "a\n-1\nAAAA\n", "a\n1\nAAAA\n",
                                  "\n1\n" + base64.b64encode(b"\0" * 32).decode() + "\n"])
def test_malformed_checkpoints_are_refused(text):
    with pytest.raises(cp.NoteError):
        cp.parse_checkpoint(text)
