"""RFC 6962 Merkle hash trees — the structure that makes the case file tamper-evident.

Leaves are hashed as H(0x00 || leaf) and interior nodes as H(0x01 || left || right) (RFC 6962 §2.1);
the tree over n leaves splits at the largest power of two smaller than n. Audit paths (§2.1.1) prove
that an entry is in the tree; consistency proofs (§2.1.2) prove that a later tree only appended to an
earlier one. The verifiers follow RFC 9162 §2.1.3.2 and §2.1.4.2, which restate RFC 6962's rules as
loops.

This module uses only the standard library, on purpose: tools/verify_proof.py repeats the verifying
half so that a party can check a proof without installing this project.
"""
import hashlib

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
# Algorithms an entry may be hashed with. SM3 (GB/T 32905) is there for installations whose
# 商用密码应用安全性评估 (密评) asks for it; OpenSSL provides it through hashlib.
ALGORITHMS = ("sha256", "sm3")


class ProofError(ValueError):
    """A proof that does not verify (or does not even have the right shape)."""


def hasher(alg="sha256"):
    """A hashlib constructor for `alg`."""
    if alg == "sha256":
        return hashlib.sha256
    if alg in ALGORITHMS:
        return lambda data=b"": hashlib.new(alg, data)
    raise ValueError(f"unknown hash algorithm: {alg}")


def leaf_hash(data, alg="sha256"):
    return hasher(alg)(LEAF_PREFIX + data).digest()


def node_hash(left, right, alg="sha256"):
    return hasher(alg)(NODE_PREFIX + left + right).digest()


def empty_root(alg="sha256"):
    """MTH({}) — the hash of the empty string."""
    return hasher(alg)(b"").digest()


def _split(n):
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_from_hashes(hashes, alg="sha256"):
    """MTH over leaves given by their leaf hashes, computed level by level (no recursion)."""
    if not hashes:
        return empty_root(alg)
    level = list(hashes)
    h = hasher(alg)
    while len(level) > 1:
        paired = [h(NODE_PREFIX + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])  # RFC 6962's unbalanced right edge: carried up unchanged
        level = paired
    return level[0]


def root(leaves, alg="sha256"):
    """MTH(D[n]) over raw leaf data."""
    return root_from_hashes([leaf_hash(d, alg) for d in leaves], alg)


def inclusion_proof(index, hashes, alg="sha256"):
    """PATH(m, D[n]) (RFC 6962 §2.1.1) for leaf `index`, given all n leaf hashes."""
    n = len(hashes)
    if not 0 <= index < n:
        raise ValueError(f"leaf {index} is not in a tree of {n}")
    path = []
    lo, hi = 0, n
    # Walk down from the root, remembering the sibling subtree at each split; the path lists the
    # siblings from the leaf upwards, so it is reversed at the end.
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            path.append(root_from_hashes(hashes[lo + k:hi], alg))
            hi = lo + k
        else:
            path.append(root_from_hashes(hashes[lo:lo + k], alg))
            lo = lo + k
    return path[::-1]


def consistency_proof(size1, hashes, alg="sha256"):
    """PROOF(m, D[n]) (RFC 6962 §2.1.2) that the first `size1` leaves are a prefix of all n."""
    n = len(hashes)
    if not 0 <= size1 <= n:
        raise ValueError(f"no tree of {size1} inside a tree of {n}")
    if size1 in (0, n):
        return []
    return _subproof(size1, hashes, True, alg)


def _subproof(m, hashes, whole, alg):
    n = len(hashes)
    if m == n:
        return [] if whole else [root_from_hashes(hashes, alg)]
    k = _split(n)
    if m <= k:
        return _subproof(m, hashes[:k], whole, alg) + [root_from_hashes(hashes[k:], alg)]
    return _subproof(m - k, hashes[k:], False, alg) + [root_from_hashes(hashes[:k], alg)]


def root_from_inclusion_proof(index, size, leaf, proof, alg="sha256"):
    """The root an audit path leads to (RFC 9162 §2.1.3.2); raises ProofError on a malformed one."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size}")
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            raise ProofError("proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r, alg)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p, alg)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("proof is shorter than the tree is deep")
    return r


def verify_inclusion(index, size, leaf, proof, expected_root, alg="sha256"):
    """Raise ProofError unless `leaf` (a leaf hash) is entry `index` of the tree with `expected_root`."""
    if root_from_inclusion_proof(index, size, leaf, proof, alg) != expected_root:
        raise ProofError("inclusion proof leads to a different root")


def verify_consistency(size1, size2, root1, root2, proof, alg="sha256"):
    """Raise ProofError unless the tree (size2, root2) extends the tree (size1, root1) (RFC 9162 §2.1.4.2)."""
    if not 0 <= size1 <= size2:
        raise ProofError(f"a tree of {size1} cannot be inside one of {size2}")
    if size1 == size2:
        if proof:
            raise ProofError("equal sizes need an empty proof")
        if root1 != root2:
            raise ProofError("same size, different roots")
        return
    if size1 == 0:
        if proof:
            raise ProofError("an empty tree needs an empty proof")
        return
    if not proof:
        raise ProofError("empty proof")
    proof = list(proof)
    if size1 & (size1 - 1) == 0:  # size1 is a power of two: its root is the first node itself
        proof.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            raise ProofError("proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr, alg)
            sr = node_hash(c, sr, alg)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c, alg)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("proof is too short")
    if fr != root1:
        raise ProofError("proof does not lead to the earlier root")
    if sr != root2:
        raise ProofError("proof does not lead to the later root")


class CompactTree:
    """The right edge of a growing tree (a compact range from 0): one hash per set bit of the size.

    Appending costs one leaf hash and, on average, one node hash; the root of every prefix is
    available on the way, which is what `verify` needs to check each published head in one pass.
    """

    def __init__(self, alg="sha256"):
        self.alg = alg
        self.size = 0
        self._stack = []
        self._h = hasher(alg)

    @classmethod
    def resume(cls, size, right_edge, alg="sha256"):
        """A tree of `size` leaves known only by its compact range (merkle.subtrees(0, size), hashes)."""
        if len(right_edge) != bin(size).count("1"):
            raise ValueError(f"a tree of {size} has {bin(size).count('1')} subtrees on its right edge")
        tree = cls(alg)
        tree.size, tree._stack = size, list(right_edge)
        return tree

    def append_hash(self, leaf):
        h, stack = self._h, self._stack
        size = self.size
        while size & 1:
            leaf = h(NODE_PREFIX + stack.pop() + leaf).digest()
            size >>= 1
        stack.append(leaf)
        self.size += 1

    def root(self):
        if not self._stack:
            return empty_root(self.alg)
        r = self._stack[-1]
        for left in reversed(self._stack[:-1]):
            r = self._h(NODE_PREFIX + left + r).digest()
        return r


def subtrees(lo, hi):
    """The perfect subtrees (height, index) that cover leaves [lo, hi), left to right, largest first
    wherever `lo` is aligned: the ranges RFC 6962's recursion visits decompose this way, and so does
    the right edge of a tree of `hi` leaves (lo = 0)."""
    parts = []
    while lo < hi:
        k, height = 1, 0
        while lo % (k * 2) == 0 and lo + k * 2 <= hi:
            k, height = k * 2, height + 1
        parts.append((height, lo >> height))
        lo += k
    return parts


def appended_nodes(size):
    """The interior nodes (height, index) completed by appending leaf `size - 1`, lowest first: one per
    trailing one bit of that leaf's index. Each is the hash of (height - 1, 2 * index) and
    (height - 1, 2 * index + 1)."""
    nodes, height = [], 1
    while size % (1 << height) == 0:
        nodes.append((height, (size >> height) - 1))
        height += 1
    return nodes


class _Composed:
    """Roots of ranges, audit paths and consistency proofs composed from perfect subtree hashes, which a
    subclass looks up with `node(height, index)` (height 0 = leaf hashes)."""

    alg = "sha256"
    size = 0

    def node(self, height, index):
        raise NotImplementedError

    def range_root(self, lo, hi):
        """MTH of leaves [lo, hi), for the ranges RFC 6962's recursion visits (lo aligned to its split)."""
        if lo >= hi:
            return empty_root(self.alg)
        parts = [self.node(height, index) for height, index in subtrees(lo, hi)]
        r = parts[-1]
        for left in reversed(parts[:-1]):
            r = node_hash(left, r, self.alg)
        return r

    def root(self, size=None):
        return self.range_root(0, self.size if size is None else size)

    def inclusion_proof(self, index, size=None):
        size = self.size if size is None else size
        if not 0 <= index < size <= self.size:
            raise ValueError(f"leaf {index} is not in a tree of {size}")
        path, lo, hi = [], 0, size
        while hi - lo > 1:
            k = _split(hi - lo)
            if index < lo + k:
                path.append(self.range_root(lo + k, hi))
                hi = lo + k
            else:
                path.append(self.range_root(lo, lo + k))
                lo += k
        return path[::-1]

    def consistency_proof(self, size1, size2=None):
        size2 = self.size if size2 is None else size2
        if not 0 <= size1 <= size2 <= self.size:
            raise ValueError(f"no tree of {size1} inside a tree of {size2}")
        if size1 in (0, size2):
            return []
        proof, lo, hi, m, whole = [], 0, size2, size1, True
        # RFC 6962 SUBPROOF, unrolled: walk down, collecting the sibling of each step.
        while m != hi - lo:
            k = _split(hi - lo)
            if m <= k:
                proof.append(self.range_root(lo + k, hi))
                hi = lo + k
            else:
                proof.append(self.range_root(lo, lo + k))
                lo, m, whole = lo + k, m - k, False
        if not whole:
            proof.append(self.range_root(lo, hi))
        return proof[::-1]


class Levels(_Composed):
    """Every complete subtree hash of a tree, level by level: built once in n-1 node hashes, then the
    root of any prefix, an audit path or a consistency proof costs O(log² n) lookups.

    `verify` builds this over the whole log to check every published head; it is also the reference
    the stored nodes (`Nodes`, models/ledger.py) are tested against.
    """

    def __init__(self, hashes, alg="sha256"):
        self.alg = alg
        self.size = len(hashes)
        # n-1 node hashes: `verify` builds this over the whole log, so the loop is kept lean (make bench):
        # a copy of a hasher already fed the node prefix, pairs zipped from one iterator.
        node = hasher(alg)(NODE_PREFIX).copy
        level = list(hashes)
        self.levels = [level]
        while len(level) > 1:
            pairs = iter(level)
            level = [(h := node()).update(a + b) or h.digest() for a, b in zip(pairs, pairs)]
            self.levels.append(level)

    def node(self, height, index):
        return self.levels[height][index]


class _Recorder(_Composed):
    """Answers with a placeholder and remembers what was asked: a dry run names the subtrees a proof needs."""

    def __init__(self, size):
        self.size = size
        self.asked = []

    def node(self, height, index):
        self.asked.append((height, index))
        return b"\0" * 32


class Nodes(_Composed):
    """Proofs over a tree of `size` leaves from a few perfect subtree hashes looked up by `fetch`, a
    function from a list of (height, index) to a dict of their hashes (models/ledger.py reads them from
    the database in one or two queries). The subtrees a proof needs are found by a dry run first."""

    def __init__(self, size, fetch, alg="sha256"):
        self.size, self.alg, self._fetch, self._known = size, alg, fetch, {}

    def node(self, height, index):
        return self._known[height, index]

    def _prepared(self, method, *args):
        recorder = _Recorder(self.size)
        getattr(recorder, method)(*args)
        wanted = [key for key in dict.fromkeys(recorder.asked) if key not in self._known]
        if wanted:
            self._known.update(self._fetch(wanted))
        return getattr(super(), method)(*args)

    def range_root(self, lo, hi):
        wanted = [key for key in subtrees(lo, hi) if key not in self._known]
        if wanted:
            self._known.update(self._fetch(wanted))
        return super().range_root(lo, hi)

    def inclusion_proof(self, index, size=None):
        return self._prepared("inclusion_proof", index, size)

    def consistency_proof(self, size1, size2=None):
        return self._prepared("consistency_proof", size1, size2)

    def right_edge(self, size=None):
        """The compact range of the first `size` leaves: what a CompactTree resumes from."""
        keys = subtrees(0, self.size if size is None else size)
        wanted = [key for key in keys if key not in self._known]
        if wanted:
            self._known.update(self._fetch(wanted))
        return [self._known[key] for key in keys]
