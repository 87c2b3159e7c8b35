#!/usr/bin/env python3
"""Check an inclusion proof downloaded from the bureau, with nothing but Python 3 and its public key.

    python3 verify_proof.py proof.json pubkey.pem        (or the key as base64 of its 32 raw bytes)

It checks, in order:
  1. the tree head's Ed25519 signature, with the bureau's public key;
  2. the entry's leaf hash: SHA-256(0x00 || entry bytes), as the log recorded it (a proof published for
     a disclosed decision carries the de-identified record instead of the bytes: then the recorded leaf
     hash is taken as given, and a party holding the decision's bytes can check it themselves);
  3. the audit path from that leaf to the signed root (RFC 6962 §2.1.1, verified as RFC 9162 §2.1.3.2).
Exit status 0 when all three hold, 1 otherwise. Standard library only; Ed25519 is RFC 8032 §6's
reference algorithm, which is slow but short enough to read.
"""
import base64
import hashlib
import json
import sys

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


def check(proof, public_key):
    """A list of (ok, what) lines; all ok means the entry is in the signed log."""
    head = proof["tree_head"]
    message = ("sanxiang-tree-head/v1\n" + "\n".join(
        [proof["origin"], proof["alg"], str(head["size"]), head["root"], head["timestamp"]]) + "\n").encode()
    results = [(ed25519_verify(public_key, message, base64.b64decode(head["signature"])),
                f"tree head signed by the bureau's key (size {head['size']}, {head['timestamp']})")]
    if proof["entry"].get("body") is None:
        # A published proof leaves out the entry's bytes (they hold personal information) and carries the
        # de-identified record instead: what is proved is that the recorded leaf hash is in the signed log.
        leaf = bytes.fromhex(proof["leaf_hash"])
        results.append((True, f"entry {proof['entry']['seq']}: bytes withheld, recorded leaf hash {leaf.hex()}"))
    else:
        body = proof["entry"]["body"].encode("utf-8")
        leaf = hashlib.sha256(b"\x00" + body).digest()
        results.append((leaf.hex() == proof["leaf_hash"], f"entry {proof['entry']['seq']} hashes to {leaf.hex()}"))
    try:
        ok = root_from_path(proof["entry"]["seq"], head["size"], leaf,
                            [bytes.fromhex(h) for h in proof["audit_path"]]).hex() == head["root"]
    except ValueError as exc:
        ok = False
        results.append((False, str(exc)))
    results.append((ok, f"audit path leads to the signed root {head['root']}"))
    return results


def main(argv):
    if len(argv) != 3:
        print(__doc__)
        return 2
    with open(argv[1], encoding="utf-8") as fh:
        proof = json.load(fh)
    with open(argv[2], encoding="utf-8") as fh:
        public_key = read_public_key(fh.read())
    results = check(proof, public_key)
    for ok, what in results:
        print(("OK   " if ok else "FAIL ") + what)
    if proof.get("alg") != "sha256":
        print("FAIL this script checks SHA-256 logs only")
        return 1
    good = all(ok for ok, _ in results)
    print("验证通过：该记录包含在本局签名发布的执法全过程记录中。" if good else "验证失败：该记录与签名发布的记录不符。")
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
