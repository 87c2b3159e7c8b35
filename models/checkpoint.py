"""C2SP checkpoints, signed notes and cosignatures — the tree-head format other transparency-log tools read.

Implemented versions (issue 16; README names them too):
- c2sp.org/signed-note@v1.0.0: note text, a blank line, then `— <key name> base64(key ID || signature)`
  lines; Ed25519 signatures (type 0x01) over the note text; key ID = SHA-256(name || "\\n" || type ||
  public key)[:4]; verifier keys as `<name>+<hex key ID>+base64(type || public key)`.
- c2sp.org/tlog-checkpoint@v1.0.0: the note text is the origin line, the tree size in decimal and the
  base64 RFC 6962 root hash; no extension lines.
- c2sp.org/tlog-cosignature@v1.0.0, Ed25519 (type 0x04): the signature is key ID || u64 timestamp ||
  Ed25519 signature over "cosignature/v1\\ntime <t>\\n" followed by the whole checkpoint text.

This module needs only the standard library plus `cryptography` for Ed25519; the downloadable verifier
(tools/verify_proof.py) repeats the verifying half with a pure-Python Ed25519 so that it needs nothing.
"""
import base64
import binascii
import hashlib
import struct

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = 0x01
COSIGNATURE_V1 = 0x04
DASH = "\u2014"
MAX_SIGNATURES = 100  # signed-note: verifiers SHOULD cap, and MUST accept at least 16


class NoteError(ValueError):
    """A note, checkpoint, key or signature that is malformed or does not verify (message in Chinese)."""


def raw_public(key):
    """The 32 bytes of an Ed25519 public key (or of a private key's public half)."""
    if isinstance(key, Ed25519PrivateKey):
        key = key.public_key()
    if isinstance(key, Ed25519PublicKey):
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return bytes(key)


def check_name(name):
    """signed-note: key names are non-empty, with no Unicode space and no plus sign."""
    if not name or "+" in name or any(ch.isspace() for ch in name):
        raise NoteError(f"密钥名称“{name}”不合规：不能为空，不能含空格或加号。")
    return name


def key_id(name, public, kind=ED25519):
    """SHA-256(name || 0x0A || type || public key)[:4] (signed-note; tlog-cosignature for type 0x04)."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([kind]) + raw_public(public)).digest()[:4]


def vkey(name, public, kind=ED25519):
    """The verifier key string: <name>+<hex key ID>+base64(type || public key)."""
    check_name(name)
    return f"{name}+{key_id(name, public, kind).hex()}+{base64.b64encode(bytes([kind]) + raw_public(public)).decode()}"


class Verifier:
    """A trusted key: name, type (0x01 log signature or 0x04 cosignature) and the 32-byte Ed25519 key."""

    def __init__(self, name, kind, public):
        self.name, self.kind, self.public = check_name(name), kind, raw_public(public)
        if kind not in (ED25519, COSIGNATURE_V1) or len(self.public) != 32:
            raise NoteError("只支持 Ed25519 签名（类型 0x01）和 Ed25519 联署（类型 0x04）。")
        self.id = key_id(name, self.public, kind)

    @classmethod
    def parse(cls, text):
        """From a verifier key string; the key ID given must be the one the key hashes to."""
        parts = str(text).strip().split("+", 2)
        if len(parts) != 3:
            raise NoteError("公钥格式应为 名称+密钥ID+密钥。")
        name, hex_id, material = parts
        try:
            raw = base64.b64decode(material, validate=True)
            given = bytes.fromhex(hex_id)
        except (binascii.Error, ValueError):
            raise NoteError("公钥格式应为 名称+密钥ID+密钥。") from None
        if len(given) != 4 or not raw:
            raise NoteError("公钥格式应为 名称+密钥ID+密钥。")
        verifier = cls(name, raw[0], raw[1:])
        if verifier.id != given:
            raise NoteError(f"公钥“{name}”的密钥ID与密钥不符。")
        return verifier

    def __str__(self):
        return vkey(self.name, self.public, self.kind)

    def verify(self, message, signature):
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
            return True
        except (InvalidSignature, ValueError):
            return False


class Signature:
    """One signature line: key name, key ID and the signature bytes after it."""

    def __init__(self, name, id_, data):
        self.name, self.id, self.data = name, id_, data

    def line(self):
        return f"{DASH} {self.name} {base64.b64encode(self.id + self.data).decode()}\n"

    @property
    def timestamp(self):
        """The u64 timestamp a cosignature (type 0x04) carries before its Ed25519 signature."""
        return struct.unpack(">Q", self.data[:8])[0] if len(self.data) == 72 else None


def split_note(note):
    """(text, [Signature]) of a signed note; NoteError when it is not one."""
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError:
            raise NoteError("签名记录不是 UTF-8 文本。") from None
    if any(ord(ch) < 0x20 and ch != "\n" for ch in note):
        raise NoteError("签名记录含有控制字符。")
    at = note.rfind("\n\n")
    if at < 0 or not note.endswith("\n"):
        raise NoteError("签名记录格式不对：正文与签名之间应有一个空行。")
    text, lines = note[:at + 1], note[at + 2:].splitlines()
    if not lines or len(lines) > MAX_SIGNATURES:
        raise NoteError("签名记录没有签名行，或签名行过多。")
    signatures = []
    for line in lines:
        prefix, _, rest = line.partition(" ")
        name, _, b64 = rest.partition(" ")
        if prefix != DASH or not name or not b64 or " " in b64:
            raise NoteError(f"无法识别的签名行：{line[:60]}")
        try:
            raw = base64.b64decode(b64, validate=True)
        except binascii.Error:
            raise NoteError(f"签名行不是有效的 base64：{line[:60]}") from None
        if len(raw) < 5:
            raise NoteError(f"签名行太短：{line[:60]}")
        signatures.append(Signature(name, raw[:4], raw[4:]))
    return text, signatures


def sign_note(text, name, private_key):
    """text + blank line + the Ed25519 (type 0x01) signature line of `name`."""
    if not text.endswith("\n"):
        raise NoteError("签名记录的正文须以换行结束。")
    signature = Signature(check_name(name), key_id(name, private_key), private_key.sign(text.encode("utf-8")))
    return text + "\n" + signature.line()


def open_note(note, verifiers):
    """(text, [(verifier, Signature)] that verified). Signatures from unknown keys are ignored; one from a
    known key that fails rejects the note (signed-note: SHOULD), and so does a note no known key signed."""
    text, signatures = split_note(note)
    known = {(v.name, v.id): v for v in verifiers}
    good = []
    for signature in signatures:
        verifier = known.get((signature.name, signature.id))
        if verifier is None:
            continue
        if verifier.kind == COSIGNATURE_V1:
            ok = len(signature.data) == 72 and verifier.verify(
                cosigned_message(text, signature.timestamp), signature.data[8:])
        else:
            ok = verifier.verify(text.encode("utf-8"), signature.data)
        if not ok:
            raise NoteError(f"“{signature.name}”的签名无效：内容被改动或不是该密钥所签。")
        good.append((verifier, signature))
    if not good:
        raise NoteError("没有可信密钥的有效签名。")
    return text, good


# -- checkpoints -----------------------------------------------------------------------------------------

def checkpoint_text(origin, size, root):
    """The checkpoint body: origin, size, base64 root — each line ending in a newline."""
    if not origin or "\n" in origin:
        raise NoteError("日志名称（origin）不能为空或含换行。")
    return f"{origin}\n{int(size)}\n{base64.b64encode(root).decode()}\n"


def parse_checkpoint(text):
    """(origin, size, root bytes, extension lines) of a checkpoint's text; NoteError when malformed."""
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "" or any(line == "" for line in lines[:-1]):
        raise NoteError("检查点须至少三行非空文字并以换行结束。")
    origin, size, root = lines[0], lines[1], lines[2]
    if not size.isdigit() or (size != "0" and size.startswith("0")) or not size.isascii():
        raise NoteError(f"检查点的记录数“{size[:30]}”不是规范的十进制数。")
    try:
        root = base64.b64decode(root, validate=True)
    except binascii.Error:
        raise NoteError("检查点的根哈希不是有效的 base64。") from None
    if len(root) != 32:
        raise NoteError("检查点的根哈希应为32字节（SHA-256）。")
    return origin, int(size), root, lines[3:-1]


def cosigned_message(text, timestamp):
    """What an Ed25519 cosignature (tlog-cosignature, type 0x04) signs."""
    return f"cosignature/v1\ntime {int(timestamp)}\n".encode("utf-8") + text.encode("utf-8")


def cosign(text, name, private_key, timestamp):
    """A cosignature line over checkpoint `text` at POSIX time `timestamp`."""
    if not 0 <= int(timestamp) < 2**63:
        raise NoteError("联署时间超出范围。")
    signature = private_key.sign(cosigned_message(text, timestamp))
    return Signature(check_name(name), key_id(name, private_key, COSIGNATURE_V1),
                     struct.pack(">Q", int(timestamp)) + signature).line()
