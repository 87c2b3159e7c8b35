"""RFC 6962 Merkle trees against published vectors.

Leaves and roots are the ones the certificate-transparency test suites use (transparency-dev/merkle,
proof/verify_test.go, descended from the C++ CT log's merkle_tree_test.cc); the 7-leaf tree is the
worked example of RFC 6962 §2.1.3, whose audit paths and consistency proofs are checked both by name
(a, b, …, l as in the RFC's figure) and against the suites' hex values.
"""
import hashlib

import pytest

from models import merkle

LEAVES = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f")]
ROOTS = [bytes.fromhex(h) for h in (
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")]


def hx(*values):
    return [bytes.fromhex(v) for v in values]


# (leaf index, tree size, audit path)
INCLUSION = [
    (0, 8, hx("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
              "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
              "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")),
    (5, 8, hx("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
              "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
              "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")),
    (2, 3, hx("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")),
    (1, 5, hx("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
              "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
              "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")),
]
# (size1, size2, consistency proof); 6 -> 7 is RFC 6962's PROOF(6, D[7]) = [i, j, k].
CONSISTENCY = [
    (1, 8, hx("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
              "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
              "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")),
    (6, 8, hx("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
              "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
              "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")),
    (2, 5, hx("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
              "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")),
    (6, 7, hx("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
              "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
              "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")),
]


def hashes(n):
    return [merkle.leaf_hash(d) for d in LEAVES[:n]]


def accepts(verify, *args):
    """Whether a verify_* function accepts a proof: True, or False on ProofError (an outcome to assert on)."""
    try:
        verify(*args)
    except merkle.ProofError:
        return False
    return True


def test_empty_tree_is_hash_of_nothing():
    assert merkle.root([]) == hashlib.sha256(b"").digest()


@pytest.mark.parametrize("size", range(1, 9))
def test_roots(size):
    assert merkle.root(LEAVES[:size]) == ROOTS[size - 1]
    tree = merkle.CompactTree()
    for h in hashes(size):
        tree.append_hash(h)
    assert tree.root() == ROOTS[size - 1]


@pytest.mark.parametrize("index,size,path", INCLUSION)
def test_inclusion_vectors(index, size, path):
    assert merkle.inclusion_proof(index, hashes(size)) == path
    leaf = merkle.leaf_hash(LEAVES[index])
    assert merkle.root_from_inclusion_proof(index, size, leaf, path) == ROOTS[size - 1]
    assert accepts(merkle.verify_inclusion, index, size, leaf, path, ROOTS[size - 1])


@pytest.mark.parametrize("size1,size2,proof", CONSISTENCY)
def test_consistency_vectors(size1, size2, proof):
    assert merkle.consistency_proof(size1, hashes(size2)) == proof
    assert accepts(merkle.verify_consistency, size1, size2, ROOTS[size1 - 1], ROOTS[size2 - 1], proof)


def rfc_nodes():
    """The named nodes of RFC 6962 §2.1.3's figure of the 7-leaf tree."""
    a, b, c, d, e, f, j = hashes(7)  # j is d6's leaf, carried up unchanged
    g, h, i = merkle.node_hash(a, b), merkle.node_hash(c, d), merkle.node_hash(e, f)
    k, l = merkle.node_hash(g, h), merkle.node_hash(i, j)
    return dict(a=a, b=b, c=c, d=d, e=e, f=f, g=g, h=h, i=i, j=j, k=k, l=l, root=merkle.node_hash(k, l))


@pytest.mark.parametrize("index,names", [(0, "bhl"), (3, "cgl"), (4, "fjk"), (6, "ik")])
def test_rfc_7_leaf_audit_paths(index, names):
    n = rfc_nodes()
    assert n["root"] == ROOTS[6]
    assert merkle.inclusion_proof(index, hashes(7)) == [n[x] for x in names]


@pytest.mark.parametrize("size1,names", [(3, "cdgl"), (4, "l"), (6, "ijk")])
def test_rfc_7_leaf_consistency_proofs(size1, names):
    n = rfc_nodes()
    proof = merkle.consistency_proof(size1, hashes(7))
    assert proof == [n[x] for x in names]
    assert accepts(merkle.verify_consistency, size1, 7, ROOTS[size1 - 1], ROOTS[6], proof)


def test_every_proof_of_small_trees_round_trips():
    checked = 0
    for size in range(1, 9):
        for index in range(size):
            leaf = hashes(size)[index]
            proof = merkle.inclusion_proof(index, hashes(size))
            assert merkle.root_from_inclusion_proof(index, size, leaf, proof) == ROOTS[size - 1], (index, size)
            assert accepts(merkle.verify_inclusion, index, size, leaf, proof, ROOTS[size - 1]), (index, size)
            # The same path does not vouch for another leaf: acceptance above means something.
            assert not accepts(merkle.verify_inclusion, index, size, merkle.leaf_hash(b"other"), proof,
                               ROOTS[size - 1]), (index, size)
            checked += 1
        for size1 in range(0, size + 1):
            proof = merkle.consistency_proof(size1, hashes(size))
            root1 = ROOTS[size1 - 1] if size1 else merkle.empty_root()
            assert accepts(merkle.verify_consistency, size1, size, root1, ROOTS[size - 1], proof), (size1, size)
            if size1:  # any tree extends the empty one, so only a non-empty first tree can be contradicted
                assert not accepts(merkle.verify_consistency, size1, size, root1, merkle.empty_root(), proof), \
                    (size1, size)
            checked += 1
    assert checked == 36 + 44  # 1+…+8 leaves, and 2+…+9 first sizes


def flip(proof, i):
    changed = list(proof)
    changed[i] = bytes([changed[i][0] ^ 8]) + changed[i][1:]
    return changed


@pytest.mark.parametrize("index,size,path", INCLUSION)
def test_corrupted_inclusion_proofs_fail(index, size, path):
    leaf, good = merkle.leaf_hash(LEAVES[index]), ROOTS[size - 1]
    bad = [(index ^ 1, size, leaf, path, good), (index, size * 2, leaf, path, good),
           (index, size, b"WrongLeaf", path, good), (index, size, leaf, path, ROOTS[0] if size > 1 else ROOTS[1]),
           (index, size, leaf, path + [good], good), (index, size, leaf, [good] + path, good),
           (index, size, leaf, path[:-1], good)]
    bad += [(index, size, leaf, flip(path, i), good) for i in range(len(path))]
    for args in bad:
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(*args)


@pytest.mark.parametrize("size1,size2,proof", CONSISTENCY)
def test_corrupted_consistency_proofs_fail(size1, size2, proof):
    r1, r2 = ROOTS[size1 - 1], ROOTS[size2 - 1]
    bad = [(size1 + 1, size2, r1, r2, proof), (size1, size2 * 2, r1, r2, proof), (size1, size2, r2, r1, proof),
           (size1, size2, b"WrongRoot", r2, proof), (size1, size2, r1, r2, []),
           (size1, size2, r1, r2, proof + [r1]), (size1, size2, r1, r2, [r2] + proof),
           (size1, size2, r1, r2, proof[:-1])]
    bad += [(size1, size2, r1, r2, flip(proof, i)) for i in range(len(proof))]
    for args in bad:
        with pytest.raises(merkle.ProofError):
            merkle.verify_consistency(*args)


def test_sm3_is_available_as_alternative():
    assert len(merkle.root(LEAVES[:7], alg="sm3")) == 32
    assert merkle.root(LEAVES[:7], alg="sm3") != ROOTS[6]


def test_levels_match_the_recursive_definitions():
    for size in range(1, 9):
        levels = merkle.Levels(hashes(size))
        assert levels.root() == ROOTS[size - 1]
        for s in range(1, size + 1):
            assert levels.root(s) == ROOTS[s - 1]
            for index in range(s):
                assert levels.inclusion_proof(index, s) == merkle.inclusion_proof(index, hashes(s))
            for s1 in range(0, s + 1):
                assert levels.consistency_proof(s1, s) == merkle.consistency_proof(s1, hashes(s))


def test_levels_on_a_larger_tree():
    leaves = [merkle.leaf_hash(str(i).encode()) for i in range(300)]
    levels = merkle.Levels(leaves)
    for size in (1, 2, 3, 64, 65, 127, 255, 256, 257, 300):
        assert levels.root(size) == merkle.root_from_hashes(leaves[:size])
    for size1 in (1, 5, 64, 100, 256, 299):
        proof = levels.consistency_proof(size1, 300)
        assert accepts(merkle.verify_consistency, size1, 300, levels.root(size1), levels.root(), proof), size1
    for index in (0, 1, 150, 255, 256, 299):
        path = levels.inclusion_proof(index)
        assert merkle.root_from_inclusion_proof(index, 300, leaves[index], path) == levels.root(), index
        assert accepts(merkle.verify_inclusion, index, 300, leaves[index], path, levels.root()), index
