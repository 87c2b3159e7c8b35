#!/usr/bin/env python3
"""核验本局执法全过程记录的证明 — check a proof downloaded from the bureau with nothing but Python 3.

    python3 verify_proof.py proof.json KEY [--checkpoint FILE] [--consistency FILE] [--witness VKEY]...
                            [--require-cosignature]

KEY is the bureau's key: pubkey.pem from /ledger/pubkey.pem, base64 of its 32 raw bytes, or the file
/ledger/vkey (C2SP verifier keys; its type 0x04 lines are the supervisor's witness keys).

It checks, in order, and prints 通过 or names what failed:
  1. the tree head's signatures: the old-format Ed25519 signature and the C2SP checkpoint
     (c2sp.org/tlog-checkpoint, signed-note) that the proof carries, with the bureau's key;
  2. the entry's leaf hash: SHA-256(0x00 || entry bytes), as the log recorded it (a proof published for
     a disclosed decision carries the de-identified record instead of the bytes: then the recorded leaf
     hash is taken as given, and a party holding the decision's bytes can check it themselves);
  3. the audit path from that leaf to the signed root (RFC 6962 §2.1.1, verified as RFC 9162 §2.1.3.2);
  4. with --checkpoint: the checkpoint you kept or saw published (e.g. /ledger/checkpoint) is signed by
     the bureau and is the same tree, or (with --consistency, from /ledger/consistency?first=&second=)
     an earlier one that the proof's tree extends (RFC 9162 §2.1.4.2);
  5. with witness keys: the supervisor (监督机关) cosigned the checkpoint (c2sp.org/tlog-cosignature,
     Ed25519), and how long ago; a checkpoint not cosigned yet is reported, and fails only with
     --require-cosignature.
Exit status 0 when everything holds, 1 otherwise, 2 for wrong arguments. Standard library only;
Ed25519 is RFC 8032 §6's reference algorithm, which is slow but short enough to read.
"""
import base64
import binascii
import hashlib
import json
import struct
import sys
import time

# --- Ed25519 verification (RFC 8032 §5.1.7, after the §6 reference code) ----------------------------
P = 2 ** 255 - 19
Q = 2 ** 252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _add(a, b):
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    A, B = (y1 - x1) * (y2 - x2) % P, (y1 + x1) * (y2 + x2) % P
    C, E = 2 * t1 * t2 * D % P, 2 * z1 * z2 % P
    e, f, g, h = B - A, E - C, E + C, B + A
    return e * f % P, g * h % P, f * g % P, e * h % P


def _mul(s, point):
    result = (0, 1, 1, 0)
    while s:
        if s & 1:
            result = _add(result, point)
        point, s = _add(point, point), s >> 1
    return result


def _equal(a, b):
    return (a[0] * b[2] - b[0] * a[2]) % P == 0 and (a[1] * b[2] - b[1] * a[2]) % P == 0


def _recover_x(y, sign):
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P:
        return None
    return P - x if (x & 1) != sign else x


def _decompress(raw):
    y = int.from_bytes(raw, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % P)


_GY = 4 * pow(5, P - 2, P) % P
G = (_recover_x(_GY, 0), _GY, 1, _recover_x(_GY, 0) * _GY % P)


def ed25519_verify(public, message, signature):
    if len(public) != 32 or len(signature) != 64:
        return False
    a, r = _decompress(public), _decompress(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if a is None or r is None or s >= Q:
        return False
    h = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % Q
    return _equal(_mul(s, G), _add(r, _mul(h, a)))


def read_public_key(text):
    """A PEM SubjectPublicKeyInfo, or base64 of the 32 raw bytes."""
    text = text.strip()
    if "BEGIN PUBLIC KEY" in text:
        der = base64.b64decode("".join(l for l in text.splitlines() if "-----" not in l))
        prefix = bytes.fromhex("302a300506032b6570032100")  # SPKI header of an Ed25519 key
        if not der.startswith(prefix) or len(der) != 44:
            raise ValueError("not an Ed25519 public key")
        return der[len(prefix):]
    return base64.b64decode(text)


# --- RFC 6962 ---------------------------------------------------------------------------------------
def _node(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_path(index, size, leaf, path):
    if not 0 <= index < size:
        raise ValueError("leaf index outside the tree")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise ValueError("audit path too long")
        if fn & 1 or fn == sn:
            r = _node(p, r)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = _node(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn:
        raise ValueError("audit path too short")
    return r


def _consistent(size1, size2, root1, root2, proof):
    """RFC 9162 §2.1.4.2: does the tree (size2, root2) extend (size1, root1)? Raises ValueError if not."""
    if not 0 < size1 <= size2:
        raise ValueError("树的大小不对")
    if size1 == size2:
        if proof or root1 != root2:
            raise ValueError("同样大小的两棵树根哈希不同：分叉")
        return
    proof = list(proof)
    if size1 & (size1 - 1) == 0:
        proof.insert(0, root1)
    if not proof:
        raise ValueError("一致性证明为空")
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            raise ValueError("一致性证明过长")
        if fn & 1 or fn == sn:
            fr, sr = _node(c, fr), _node(c, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = _node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0 or fr != root1 or sr != root2:
        raise ValueError("一致性证明不成立：后来的树没有保留先前的记录（分叉或回滚）")


# --- C2SP signed notes (c2sp.org/signed-note, tlog-checkpoint, tlog-cosignature) --------------------
def key_id(name, kind, public):
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([kind]) + public).digest()[:4]


def parse_vkey(text):
    """(name, type, 32-byte key) of a verifier key name+hexid+base64(type||key); ValueError if malformed."""
    name, hex_id, material = text.strip().split("+", 2)
    raw = base64.b64decode(material, validate=True)
    if len(raw) != 33 or raw[0] not in (1, 4) or key_id(name, raw[0], raw[1:]) != bytes.fromhex(hex_id):
        raise ValueError("verifier key does not match its key ID")
    return name, raw[0], raw[1:]


def open_note(note, keys):
    """(text, {(name, type): timestamp or None}) of the signatures from `keys` that verify.
    A signature from a known key that does not verify raises ValueError; unknown ones are ignored."""
    at = note.rfind("\n\n")
    if at < 0 or not note.endswith("\n"):
        raise ValueError("不是签名记录（正文与签名之间应有空行）")
    text, good = note[:at + 1], {}
    known = {(name, key_id(name, kind, public)): (name, kind, public) for name, kind, public in keys}
    for line in note[at + 2:].splitlines():
        dash, name, b64 = (line.split(" ") + ["", ""])[:3]
        if dash != "\u2014":
            raise ValueError("无法识别的签名行：" + line[:60])
        raw = base64.b64decode(b64, validate=True)
        key = known.get((name, raw[:4]))
        if key is None:
            continue
        if key[1] == 4:
            stamp = struct.unpack(">Q", raw[4:12])[0] if len(raw) == 76 else -1
            message = ("cosignature/v1\ntime %d\n" % stamp + text).encode("utf-8")
            ok = stamp >= 0 and ed25519_verify(key[2], message, raw[12:])
        else:
            stamp, ok = None, ed25519_verify(key[2], text.encode("utf-8"), raw[4:])
        if not ok:
            raise ValueError(name + " 的签名无效：内容被改动或不是该密钥所签")
        good[(name, key[1])] = stamp
    return text, good


def parse_checkpoint(text):
    lines = text.split("\n")
    if len(lines) < 4 or not lines[1].isdigit():
        raise ValueError("检查点格式不对")
    root = base64.b64decode(lines[2], validate=True)
    if len(root) != 32:
        raise ValueError("检查点的根哈希不是32字节")
    return lines[0], int(lines[1]), root


def read_keys(text):
    """([(name, type, key)] of C2SP verifier keys, raw Ed25519 key or None) from what KEY names."""
    text = text.strip()
    try:
        parse_vkey(text.split("\n")[0])
    except (ValueError, binascii.Error):
        return [], read_public_key(text)  # a PEM file, or base64 of the raw key
    keys = [parse_vkey(line) for line in text.splitlines() if line.strip() and not line.startswith("#")]
    logs = [k for k in keys if k[1] == 1]
    return keys, logs[0][2] if logs else None


def check(proof, public_key, vkeys=(), kept=None, consistency=None, now=None, require_cosignature=False):
    """A list of (ok, what) lines; all ok means the entry is in the signed log (and in what you kept)."""
    head = proof["tree_head"]
    results = []
    root = bytes.fromhex(head["root"])
    if head.get("signature"):
        message = ("sanxiang-tree-head/v1\n" + "\n".join(
            [proof["origin"], proof["alg"], str(head["size"]), head["root"], head["timestamp"]]) + "\n").encode()
        results.append((public_key is not None and ed25519_verify(public_key, message, base64.b64decode(head["signature"])),
                        "树头有本局密钥的签名（%s条，%s）" % (head["size"], head["timestamp"])))
    keys = list(vkeys)
    if public_key is not None and not any(k[1] == 1 for k in keys):
        keys.append((proof["origin"], 1, public_key))
    witnesses = [k for k in keys if k[1] == 4]
    cosigned = {}
    if proof.get("checkpoint"):
        try:
            text, good = open_note(proof["checkpoint"], keys)
            origin, size, cp_root = parse_checkpoint(text)
            ok = (origin, size, cp_root) == (proof["origin"], head["size"], root) and any(t == 1 for _, t in good)
            cosigned.update({name: stamp for (name, kind), stamp in good.items() if kind == 4})
        except (ValueError, binascii.Error) as exc:
            ok, text = False, str(exc)
        results.append((ok, "C2SP 检查点由本局签名，且与证明的树头一致" if ok else "C2SP 检查点核验失败：" + str(text)[:80]))
    if proof["entry"].get("body") is None:
        # A published proof leaves out the entry's bytes (they hold personal information) and carries the
        # de-identified record instead: what is proved is that the recorded leaf hash is in the signed log,
        # and a party holding the decision's bytes can hash them themselves.
        leaf = bytes.fromhex(proof["leaf_hash"])
        results.append((True, "第%s条记录：原文不公开，记录的哈希为 %s" % (proof["entry"]["seq"], leaf.hex())))
    else:
        body = proof["entry"]["body"].encode("utf-8")
        leaf = hashlib.sha256(b"\x00" + body).digest()
        results.append((leaf.hex() == proof["leaf_hash"], "第%s条记录的哈希为 %s" % (proof["entry"]["seq"], leaf.hex())))
    try:
        ok = root_from_path(proof["entry"]["seq"], head["size"], leaf,
                            [bytes.fromhex(h) for h in proof["audit_path"]]) == root
    except ValueError as exc:
        ok = False
        results.append((False, "审计路径：" + str(exc)))
    results.append((ok, "审计路径通向签名的根哈希 " + head["root"]))
    if kept is not None:
        try:
            text, good = open_note(kept, keys)
            origin, size, kept_root = parse_checkpoint(text)
            if not any(t == 1 for _, t in good):
                raise ValueError("您保存的检查点没有本局的有效签名")
            if origin != proof["origin"]:
                raise ValueError("您保存的检查点属于另一个记录库：" + origin)
            cosigned.update({name: stamp for (name, kind), stamp in good.items() if kind == 4})
            if size > head["size"]:
                raise ValueError("您保存的检查点（%d条）比证明的树头（%d条）新：请重新下载证明" % (size, head["size"]))
            if size < head["size"] and consistency is None:
                raise ValueError("您保存的检查点是%d条时的：请同时下载 /ledger/consistency?first=%d&second=%d 并用 --consistency 指定"
                                 % (size, size, head["size"]))
            if size < head["size"]:
                if (consistency.get("first"), consistency.get("second")) != (size, head["size"]):
                    raise ValueError("一致性证明的大小与检查点、树头不符")
                _consistent(size, head["size"], kept_root, root, [bytes.fromhex(h) for h in consistency["proof"]])
            elif kept_root != root:
                raise ValueError("同样%d条，根哈希却不同：本局向不同的人展示了不同的记录（分叉）" % size)
            results.append((True, "您保存的检查点（%d条）与证明的树头属于同一份只增不改的记录" % size))
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            results.append((False, "您保存的检查点：" + str(exc)))
    if witnesses:
        now = time.time() if now is None else now
        if cosigned:
            for name, stamp in sorted(cosigned.items()):
                results.append((True, "监督机关 %s 已联署（%s，距今%d小时）" % (
                    name, time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp)), (now - stamp) // 3600)))
        else:
            # A head signed tonight is cosigned when the supervisor's witness next runs: say so; it fails
            # the check only when asked to (--require-cosignature).
            results.append((not require_cosignature, ("" if require_cosignature else "提醒：")
                            + "没有监督机关的有效联署（监督机关尚未核对这个检查点）"))
    return results


def main(argv):
    args, options = [], {"--checkpoint": None, "--consistency": None, "--witness": []}
    items = iter(argv[1:])
    require = False
    for arg in items:
        if arg == "--require-cosignature":
            require = True
        elif arg in options:
            value = next(items, None)
            if value is None:
                print(__doc__)
                return 2
            if arg == "--witness":
                options[arg].append(value)
            else:
                options[arg] = value
        else:
            args.append(arg)
    if len(args) != 2:
        print(__doc__)
        return 2
    try:
        with open(args[0], encoding="utf-8") as fh:
            proof = json.load(fh)
        with open(args[1], encoding="utf-8") as fh:
            vkeys, public_key = read_keys(fh.read())
        vkeys += [parse_vkey(w) for w in options["--witness"]]
        kept = consistency = None
        if options["--checkpoint"]:
            with open(options["--checkpoint"], encoding="utf-8") as fh:
                kept = fh.read()
        if options["--consistency"]:
            with open(options["--consistency"], encoding="utf-8") as fh:
                consistency = json.load(fh)
        results = check(proof, public_key, vkeys, kept, consistency, require_cosignature=require)
    except (OSError, ValueError, KeyError, TypeError, binascii.Error) as exc:
        print("未通过：无法读取证明或密钥（%s）" % exc)
        return 1
    for ok, what in results:
        if what.startswith("提醒："):
            print("提醒  " + what[len("提醒："):])
        else:
            print(("通过  " if ok else "未通过 ") + what)
    if proof.get("alg") != "sha256":
        print("未通过 本脚本只核验 SHA-256 记录库")
        return 1
    good = all(ok for ok, _ in results)
    print("通过：该记录包含在本局签名发布的执法全过程记录中。" if good else
          "未通过：" + "；".join(what for ok, what in results if not ok))
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
