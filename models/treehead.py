"""Signed tree heads (签名树头): size, root and time of the log, signed with the bureau's Ed25519 key.

A head is published outside the database — in a plain-text feed at /ledger/heads.txt, in a file under
var/ that the bureau may copy anywhere (a website, a newspaper notice, the justice bureau's mailbox),
and on the disclosure page. Whoever keeps a copy can later prove that the log still extends it.

The private key is a PEM file whose path comes from the environment (LEDGER_KEY_PATH); it is never
written to the database. Its public half is published beside the feed.
"""
import base64
import datetime as dt
import hashlib
import logging
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from peewee import BigIntegerField, CharField, IntegerField, TextField

from models import checkpoint, ledger
from models.database import BaseModel

log = logging.getLogger(__name__)
HEAD_FORMAT = "sanxiang-tree-head/v1"


class TreeHead(BaseModel):
    """One signed tree head, as published."""

    size = IntegerField()
    root = CharField()  # hex
    alg = CharField(default="sha256")
    timestamp = CharField()  # ISO 8601 with offset, as signed
    origin = CharField()
    signature = TextField()  # base64
    key_id = CharField()
    # The same head as a C2SP tlog-checkpoint signed note (models/checkpoint.py), with the bureau's
    # signature line; None for heads signed before migration 0014, which keep only the old format.
    note = TextField(null=True)

    class Meta:
        table_name = "tree_head"
        # The newest head, and the newest covering an entry, found without sorting years of daily heads
        # (migration 0011).
        indexes = ((("size", "id"), False),)

    @property
    def message(self):
        return signed_message(self.origin, self.alg, self.size, self.root, self.timestamp)

    def feed_line(self):
        return f"{self.size} {self.root} {self.timestamp} {self.alg} {self.key_id} {self.signature}"

    @classmethod
    def latest(cls):
        return cls.select().order_by(cls.size.desc(), cls.id.desc()).first()


class Cosignature(BaseModel):
    """联署 — a witness's (the justice bureau's) C2SP tlog-cosignature line on one published checkpoint."""

    size = IntegerField()
    root = CharField()  # hex
    origin = CharField()
    witness = CharField()  # the witness key's name
    key_id = CharField()  # hex, 4 bytes
    timestamp = BigIntegerField()  # POSIX seconds, as cosigned
    line = TextField()  # the signature line, as the witness returned it
    received_at = CharField()

    class Meta:
        table_name = "cosignature"
        indexes = ((("size", "id"), False),)


def signed_message(origin, alg, size, root_hex, timestamp):
    """The exact bytes that are signed; tools/verify_proof.py builds the same."""
    return f"{HEAD_FORMAT}\n{origin}\n{alg}\n{size}\n{root_hex}\n{timestamp}\n".encode("utf-8")


def key_id(public_key):
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def resolve(path):
    from settings import ROOT

    path = Path(path)
    return path if path.is_absolute() else ROOT / path


def load_private_key(config, create=None):
    """The signing key from ledger.private_key_path; created (mode 0600) only when allowed."""
    path = resolve(config["ledger"]["private_key_path"])
    create = config["ledger"].get("create_key_if_missing", False) if create is None else create
    if not path.exists():
        if not create:
            raise FileNotFoundError(f"签名私钥不存在：{path}（设置 LEDGER_KEY_PATH 或运行 python bot.py ledger keygen）")
        generate_key(path)
        log.warning("generated a new tree-head signing key at %s; back it up and keep it off the database", path)
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def generate_key(path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return key


def public_key_pem(public_key):
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_public_key(config, path=None):
    """The verifying key: an explicit file, else ledger.public_key_path, else derived from the private key."""
    for candidate in (path, config["ledger"].get("public_key_path")):
        if candidate and resolve(candidate).exists():
            return serialization.load_pem_public_key(resolve(candidate).read_bytes())
    return load_private_key(config, create=False).public_key()


def sign_head(config, at=None):
    """Sign the log as it stands now, store the head and append it to the feed file; return it.

    A head is signed even when nothing changed since the last one, so a missing day shows. The root is
    composed from the stored subtree hashes of the log's right edge: O(log n), whatever its size."""
    key = load_private_key(config)
    size = ledger.size()
    root_hex = ledger.tree(size).root().hex()
    return sign_root(config, key, size, root_hex, at)


def sign_root(config, key, size, root_hex, at=None):
    """Sign, store and publish a head of `size` entries whose root (hex) the caller has computed:
    notices/ledger.py signs the root it has just recomputed from the entries themselves."""
    timestamp = (at or ledger.now()).isoformat()
    origin = config["ledger"]["origin"]
    message = signed_message(origin, "sha256", size, root_hex, timestamp)
    # Both formats: the old line for whoever keeps the old feed, the C2SP checkpoint for standard tools.
    note = checkpoint.sign_note(checkpoint.checkpoint_text(origin, size, bytes.fromhex(root_hex)), origin, key)
    head = TreeHead.create(size=size, root=root_hex, alg="sha256", timestamp=timestamp, origin=origin,
                           signature=base64.b64encode(key.sign(message)).decode(), key_id=key_id(key.public_key()),
                           note=note)
    _append_to_feed_file(config, head)
    return head


def feed_path(config):
    """Where signed heads are appended: ledger.feed_path, else beside the SQLite file (one feed per
    database, so a test or scratch database never mixes its heads with the real one's)."""
    if config["ledger"].get("feed_path"):
        return resolve(config["ledger"]["feed_path"])
    from settings import resolve_database_url

    url = resolve_database_url(config["database"]["url"])
    if url.startswith("sqlite:///") and ":memory:" not in url:
        return Path(url[len("sqlite:///"):] + ".heads.txt")
    return resolve("var/ledger/heads.txt")


def checkpoint_path(config):
    """Where `verify` remembers its last clean run, for `verify --since`: beside the feed (one per database)."""
    path = feed_path(config)
    return path.with_name(path.name + ".verified.json")


def _append_to_feed_file(config, head):
    path = feed_path(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(head.feed_line() + "\n")


def feed_text(config, public_key=None):
    """The plain-text feed: a header naming the format and key, then one head per line, oldest first."""
    lines = [f"# {config['ledger']['origin']} — 执法全过程记录签名树头",
             f"# format: {HEAD_FORMAT}; line = size root_hex timestamp alg key_id signature_base64",
             "# signed bytes: \"" + HEAD_FORMAT + "\\n\" origin \"\\n\" alg \"\\n\" size \"\\n\" root_hex \"\\n\" timestamp \"\\n\"",
             f"# origin: {config['ledger']['origin']}"]
    if public_key is not None:
        raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        lines.append(f"# public key (Ed25519, base64): {base64.b64encode(raw).decode()} key_id {key_id(public_key)}")
        lines.append(f"# C2SP signed-note verifier key: {log_verifier(config, public_key)} (checkpoints: /ledger/checkpoint)")
    lines += [head.feed_line() for head in TreeHead.select().order_by(TreeHead.id)]
    return "\n".join(lines) + "\n"


class PublishedHead:
    """A head read from a feed (file, URL copy), a C2SP checkpoint or the table, before its signature is
    checked. A head may carry the old-format signature, the checkpoint note, or both; every one it
    carries must verify."""

    def __init__(self, size, root, timestamp, alg, key_id, signature, origin, source, note=None):
        self.size, self.root, self.timestamp, self.alg = int(size), root, timestamp, alg
        self.key_id, self.signature, self.origin, self.source = key_id, signature, origin, source
        self.note = note

    @classmethod
    def from_checkpoint(cls, note, source):
        """A head from a C2SP checkpoint note (its signatures are checked later, by signature_ok)."""
        text, _ = checkpoint.split_note(note)
        origin, size, root, _ = checkpoint.parse_checkpoint(text)
        return cls(size, root.hex(), "", "sha256", "", "", origin, source, note=note)

    @property
    def message(self):
        return signed_message(self.origin, self.alg, self.size, self.root, self.timestamp)

    def signature_ok(self, public_key):
        if not self.signature and not self.note:
            return False
        if self.signature:
            try:
                public_key.verify(base64.b64decode(self.signature), self.message)
            except (InvalidSignature, ValueError):
                return False
        return self.note is None or self.checkpoint_ok(public_key)

    def checkpoint_ok(self, public_key):
        """The C2SP note is signed by the bureau's key under the origin's name and says this size and root."""
        try:
            text, _ = checkpoint.open_note(self.note, [checkpoint.Verifier(self.origin, checkpoint.ED25519, public_key)])
            origin, size, root, _ = checkpoint.parse_checkpoint(text)
        except checkpoint.NoteError:
            return False
        return (origin, size, root.hex()) == (self.origin, self.size, self.root)

    def describe(self):
        when = self.timestamp or "检查点"
        return f"树头（{self.size}条，{when}，来源：{self.source}）"


def parse_feed(text, source, origin):
    """Heads in a feed's text; `# origin:` in the feed overrides the configured origin."""
    heads = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("# origin:"):
            origin = line[len("# origin:"):].strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 6:
            raise ValueError(f"{source}: 无法识别的树头行：{line[:80]}")
        heads.append(PublishedHead(*parts, origin=origin, source=source))
    return heads


def published_heads(config, extra_files=()):
    """Every head we know of: the table, the feed file under var/, and files an auditor hands us."""
    heads = [PublishedHead(h.size, h.root, h.timestamp, h.alg, h.key_id, h.signature, h.origin, "数据库", h.note)
             for h in TreeHead.select().order_by(TreeHead.id)]
    files = [feed_path(config)] + list(extra_files)
    for path in filter(None, files):
        path = resolve(path)
        if path.exists():
            text = path.read_text(encoding="utf-8")
            if DASH_LINE in text:  # a C2SP checkpoint someone kept (e.g. from /ledger/checkpoint)
                heads.append(PublishedHead.from_checkpoint(text, str(path)))
            else:
                heads += parse_feed(text, str(path), config["ledger"]["origin"])
    unique = {}
    for head in heads:
        # The feed's line and the table's row are one head; keep the copy that carries the checkpoint.
        key = (head.size, head.root, head.timestamp, head.signature) if head.signature else (head.size, head.note)
        if key not in unique or (head.note and not unique[key].note):
            unique[key] = head
    return sorted(unique.values(), key=lambda h: (h.size, h.timestamp))


DASH_LINE = "\n\u2014 "


# -- C2SP checkpoints and the supervisor's cosignatures (issue 16) ---------------------------------------

def log_verifier(config, public_key):
    """The bureau's key as a signed-note verifier: named by the log's origin, as tlog-checkpoint advises."""
    return checkpoint.Verifier(config["ledger"]["origin"], checkpoint.ED25519, public_key)


def witnesses(config):
    """The witnesses (监督机关) whose cosignatures the bureau accepts and `verify` looks for: ledger.witnesses,
    verifier keys of type 0x04."""
    found = []
    for text in config["ledger"].get("witnesses") or []:
        verifier = checkpoint.Verifier.parse(text)
        if verifier.kind != checkpoint.COSIGNATURE_V1:
            raise checkpoint.NoteError(f"监督机关公钥“{verifier.name}”不是联署公钥（类型 0x04）。")
        found.append(verifier)
    return found


def latest_checkpoint_head():
    """The newest head that has a C2SP note (heads from before migration 0014 have none)."""
    return (TreeHead.select().where(TreeHead.note.is_null(False))
            .order_by(TreeHead.size.desc(), TreeHead.id.desc()).first())


def cosignatures_for(size, root_hex):
    return list(Cosignature.select().where((Cosignature.size == size) & (Cosignature.root == root_hex))
                .order_by(Cosignature.id))


def published_checkpoint(head):
    """The checkpoint as published: the note with the bureau's signature, then every cosignature line."""
    lines = []
    for cosignature in cosignatures_for(head.size, head.root):
        if cosignature.line not in lines:
            lines.append(cosignature.line)
    return head.note + "".join(lines)


def add_cosignatures(config, note, received_at=None):
    """Keep the cosignature lines of `note` (a checkpoint the witness returned) from configured witnesses.

    The checkpoint must be one the bureau published (same size and root, the bureau's own signature
    valid) and each kept line must verify against a configured witness key; returns the witness names
    stored. NoteError in Chinese otherwise; nothing is stored then."""
    public_key = load_public_key(config)
    text, _ = checkpoint.split_note(note)
    origin, size, root, _ = checkpoint.parse_checkpoint(text)
    head = TreeHead.get_or_none((TreeHead.size == size) & (TreeHead.root == root.hex()) & TreeHead.note.is_null(False))
    if head is None or origin != config["ledger"]["origin"]:
        raise checkpoint.NoteError(f"本局没有发布过这个检查点（{size}条）：联署未保存。")
    trusted = witnesses(config)
    if not trusted:
        raise checkpoint.NoteError("config.yaml 的 ledger.witnesses 没有配置监督机关的联署公钥：联署未保存。")
    _, good = checkpoint.open_note(note, [log_verifier(config, public_key)] + trusted)
    stored = []
    received = (received_at or ledger.now()).isoformat()
    for verifier, signature in good:
        if verifier.kind != checkpoint.COSIGNATURE_V1:
            continue
        line = signature.line()
        if not Cosignature.select().where((Cosignature.line == line)).exists():
            Cosignature.create(size=size, root=root.hex(), origin=origin, witness=verifier.name,
                               key_id=verifier.id.hex(), timestamp=signature.timestamp, line=line,
                               received_at=received)
        stored.append(verifier.name)
    if not stored:
        raise checkpoint.NoteError("检查点上没有已配置的监督机关的联署：联署未保存。")
    return stored


def cosignature_status(config, heads, public_key, now):
    """What `verify` says of the latest head: whether a configured witness cosigned it and how long ago.

    Returns (latest head, [(witness name, timestamp, age in seconds)]) — the list empty when no
    cosignature of a configured witness on that checkpoint verifies. A cosignature is verified here,
    not trusted from the table."""
    noted = [h for h in heads if h.note]
    if not noted:
        return None, []
    latest = max(noted, key=lambda h: h.size)
    try:
        trusted = witnesses(config)
    except checkpoint.NoteError:
        trusted = []
    found = []
    for cosignature in cosignatures_for(latest.size, latest.root):
        note = latest.note + cosignature.line
        try:
            _, good = checkpoint.open_note(note, [log_verifier(config, public_key)] + trusted)
        except checkpoint.NoteError:
            continue
        for verifier, signature in good:
            if verifier.kind == checkpoint.COSIGNATURE_V1:
                found.append((verifier.name, signature.timestamp, int(now) - signature.timestamp))
    return latest, found


def today_in_china():
    return dt.datetime.now(ledger.CHINA_TZ).date()


PROOF_FORMAT = "sanxiang-inclusion-proof/v1"


def inclusion_proof_document(config, seq, head=None):
    """What a party downloads to check one entry: its bytes, the signed head and the audit path.

    The newest head that already covers the entry is used; None when no published head does yet."""
    entry = ledger.LedgerEntry.by_seq(seq)
    if entry is None:
        return None
    # The newest head the supervisor has cosigned, when one covers the entry (a head signed tonight is
    # cosigned tomorrow); else the newest head.
    cosigned = (TreeHead.select().join(Cosignature, on=((Cosignature.size == TreeHead.size) & (Cosignature.root == TreeHead.root)))
                .where((TreeHead.size > entry.seq) & TreeHead.note.is_null(False))
                .order_by(TreeHead.size.desc(), TreeHead.id.desc()).first())
    head = head or cosigned or (TreeHead.select().where(TreeHead.size > entry.seq)
                                .order_by(TreeHead.size.desc(), TreeHead.id.desc()).first())
    if head is None:
        return None
    try:
        path = ledger.tree(head.size).inclusion_proof(entry.seq)
    except LookupError:  # entries missing below the head: `verify` names them; no proof to give
        return None
    return {
        "format": PROOF_FORMAT,
        "origin": head.origin,
        "alg": head.alg,
        "entry": {"seq": entry.seq, "case": entry.case_no, "step": entry.step,
                  "body": bytes(entry.body).decode("utf-8")},
        "leaf_hash": entry.leaf_hash_hex,
        "tree_head": {"size": head.size, "root": head.root, "timestamp": head.timestamp,
                      "key_id": head.key_id, "signature": head.signature},
        "audit_path": [h.hex() for h in path],
        # The same head as a C2SP checkpoint, with the supervisor's cosignatures (None before 0014).
        "checkpoint": published_checkpoint(head) if head.note else None,
        "verify_with": "python3 verify_proof.py proof.json pubkey.pem  (下载：/ledger/verify_proof.py)",
    }


def consistency_document(first, second):
    """A consistency proof between two published sizes, for whoever kept an older head."""
    if not 0 <= first <= second < 2**62:  # beyond any integer column (a LIMIT of 10**30 overflows)
        return None
    if second > ledger.size():
        return None
    tree = ledger.tree(second)
    try:
        return {"first": first, "second": second, "first_root": tree.root(first).hex(),
                "second_root": tree.root(second).hex(),
                "proof": [h.hex() for h in tree.consistency_proof(first, second)]}
    except LookupError:
        return None
