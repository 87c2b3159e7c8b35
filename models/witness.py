"""监督机关的见证 — the witness the justice bureau (行政执法监督机关) runs on its own machine with its own key.

It keeps, per log, the last checkpoint it cosigned (a small JSON state file). Given the log's newest
checkpoint it checks the bureau's signature, then that the new tree extends the one it cosigned
(RFC 9162 §2.1.4.2 consistency proof, fetched from the log), and only then returns a cosignature
(c2sp.org/tlog-cosignature, Ed25519). A smaller tree (rollback), the same size with another root, or a
proof that does not hold (a fork: the bureau showing different histories) is refused with WitnessAlarm,
and the state is left as it was, so every later attempt on that fork is refused too.

Nothing here touches the bureau's database: the witness needs only the checkpoint, the proof and its
own state, which is the point of an independent party.
"""
import base64
import json
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from models import checkpoint, merkle
from models.treehead import generate_key  # noqa: F401 — a new Ed25519 key file (PEM, 0600), never over another


class WitnessAlarm(RuntimeError):
    """The log is not append-only as seen by this witness: a fork or a rollback. Chinese message."""


class WitnessError(ValueError):
    """Bad input (unreadable checkpoint, wrong key, malformed proof): nothing was cosigned."""


def load_key(path):
    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise WitnessError("见证私钥不是 Ed25519 密钥。")
    return key


def load_state(path):
    """{origin: {"size": n, "root": base64, "time": t}} of what this witness last cosigned."""
    path = Path(path)
    if not path.exists():
        return {}
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        raise WitnessError(f"见证状态文件 {path} 已损坏：请从备份恢复，切勿删除后重来（那样会忘记已联署的记录）。") from None
    if not isinstance(state, dict):
        raise WitnessError(f"见证状态文件 {path} 已损坏。")
    return state


def save_state(path, state):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(state, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def cosign(note, log_vkey, state, fetch_proof, name, key, now):
    """Check `note` (the log's newest checkpoint) and return (cosignature line, new state entry).

    `fetch_proof(first, second)` returns the consistency proof between the sizes as a list of bytes.
    Raises WitnessAlarm on a fork or rollback and WitnessError on bad input; never cosigns either."""
    log = checkpoint.Verifier.parse(log_vkey)
    try:
        text, _ = checkpoint.open_note(note, [log])
        origin, size, root, _ = checkpoint.parse_checkpoint(text)
    except checkpoint.NoteError as exc:
        raise WitnessError(f"检查点核验失败，未联署：{exc}") from None
    if origin != log.name:
        raise WitnessError(f"检查点的日志名称“{origin}”与所见证的日志“{log.name}”不符，未联署。")
    last = state.get(origin)
    if last is not None:
        try:
            old_size, old_root = int(last["size"]), _b64(last["root"])
        except (KeyError, TypeError, ValueError):
            raise WitnessError("见证状态文件已损坏：请从备份恢复。") from None
        if size < old_size:
            raise WitnessAlarm(f"回滚：{origin} 现在只有{size}条，本机已联署过{old_size}条的检查点。拒绝联署。")
        if size == old_size and root != old_root:
            raise WitnessAlarm(f"分叉：{origin} 同样{size}条却给出了不同的根哈希。拒绝联署。")
        if size > old_size:
            try:
                proof = fetch_proof(old_size, size)
                merkle.verify_consistency(old_size, size, old_root, root, proof)
            except merkle.ProofError as exc:
                raise WitnessAlarm(f"分叉：{origin} 的{size}条记录树不包含本机已联署的{old_size}条记录树（{exc}）。拒绝联署。") from None
            except (ValueError, KeyError, TypeError) as exc:
                raise WitnessError(f"一致性证明无法读取，未联署：{exc}") from None
    line = checkpoint.cosign(text, name, key, int(now))
    return line, {"size": size, "root": _b64encode(root), "time": int(now)}


def _b64(text):
    return base64.b64decode(text, validate=True)


def _b64encode(raw):
    return base64.b64encode(raw).decode()
