"""执法全过程记录的公开部分 — the signed tree heads, the public key and downloadable proofs.

- /ledger/             the page: what is published, how to check it
- /ledger/heads.txt    the plain-text feed of signed tree heads (mirror it anywhere)
- /ledger/pubkey.pem   the bureau's Ed25519 public key
- /ledger/proof/<n>.json        inclusion proof of a published decision's entry: the de-identified record
                                and the leaf hash, never the entry's bytes (models/publication.py)
- /ledger/consistency?first=&second=   consistency proof between two published sizes
- /ledger/checkpoint    the newest head as a C2SP tlog-checkpoint, with the supervisor's cosignatures
- /ledger/vkey          the bureau's key as a C2SP signed-note verifier key (and the witnesses' keys)
- /ledger/verify_proof.py   the standalone verifier (standard library only) that the page explains
"""
import json
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, render_template, request

from models import checkpoint, publication, treehead

bp = Blueprint("ledger", __name__, url_prefix="/ledger")


def _config():
    return current_app.config["SANXIANG"]


def _public_key():
    try:
        return treehead.load_public_key(_config())
    except FileNotFoundError:
        current_app.logger.error("tree-head public key unavailable: set LEDGER_KEY_PATH or ledger.public_key_path")
        return None


def _text(body, status=200):
    return Response(body, status=status, mimetype="text/plain", content_type="text/plain; charset=utf-8")


@bp.get("/")
def index():
    key = _public_key()
    heads = list(treehead.TreeHead.select().order_by(treehead.TreeHead.id.desc()).limit(30))
    decisions = list(publication.Disclosure.select().where(
        (publication.Disclosure.status == publication.PUBLISHED) & publication.Disclosure.entry_seq.is_null(False))
        .order_by(publication.Disclosure.decided_on.desc(), publication.Disclosure.id.desc()).limit(50))
    return render_template("ledger.html", heads=heads, decisions=decisions,
                           key_pem=treehead.public_key_pem(key).decode() if key else "",
                           key_id=treehead.key_id(key) if key else "")


@bp.get("/heads.txt")
def heads_feed():
    return _text(treehead.feed_text(_config(), _public_key()))


@bp.get("/pubkey.pem")
def public_key():
    key = _public_key()
    if key is None:
        return _text("本局尚未配置签名密钥，请稍后再试。\n", 503)
    return Response(treehead.public_key_pem(key), mimetype="application/x-pem-file")


@bp.get("/checkpoint")
def latest_checkpoint():
    head = treehead.latest_checkpoint_head()
    if head is None:
        return _text("尚未发布 C2SP 检查点（每日发布），请稍后再试。\n", 404)
    return _text(treehead.published_checkpoint(head))


@bp.get("/vkey")
def verifier_keys():
    key = _public_key()
    if key is None:
        return _text("本局尚未配置签名密钥，请稍后再试。\n", 503)
    lines = [str(treehead.log_verifier(_config(), key))]
    try:
        lines += [str(w) for w in treehead.witnesses(_config())]
    except checkpoint.NoteError as exc:
        current_app.logger.error("ledger.witnesses is misconfigured: %s", exc)
    return _text("\n".join(lines) + "\n")


@bp.get("/verify_proof.py")
def verifier_script():
    path = Path(current_app.root_path) / "tools" / "verify_proof.py"
    return Response(path.read_bytes(), mimetype="text/x-python",
                    headers={"Content-Disposition": "attachment; filename=verify_proof.py"})


@bp.get("/proof/<int:seq>.json")
def inclusion_proof(seq):
    document, refusal = publication.public_proof(_config(), seq)
    if document is None:
        return _text(refusal + "\n", 404)
    return Response(json.dumps(document, ensure_ascii=False, indent=1), mimetype="application/json",
                    headers={"Content-Disposition": f"attachment; filename=proof-{seq}.json"})


@bp.get("/consistency")
def consistency():
    try:
        first, second = int(request.args["first"]), int(request.args["second"])
    except (KeyError, ValueError):
        abort(400)
    document = treehead.consistency_document(first, second)
    if document is None:
        return _text("没有这样大小的记录树。\n", 404)
    return Response(json.dumps(document), mimetype="application/json")

