"""Tests for the RFC 6962 Merkle tree: published vectors, then properties against a naive tree."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hearth_crypto.merkle import (
    EMPTY_ROOT,
    InvalidProof,
    MalformedHash,
    MerkleError,
    MerkleTree,
    OutOfRange,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)

# Reference vectors from transparency-dev/merkle, proof/verify_test.go (commit
# 02194e9afb6c1d95b5381350007963aa70fff472), which carries over the Certificate
# Transparency / Trillian vectors. Leaf indices in INCLUSION_PROOFS are 1-based, as there.
LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
ROOTS = [
    bytes.fromhex(h)
    for h in (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    )
]


def _hashes(*hexes: str) -> list[bytes]:
    return [bytes.fromhex(h) for h in hexes]


INCLUSION_PROOFS: list[tuple[int, int, list[bytes]]] = [
    (1, 1, []),
    (
        1,
        8,
        _hashes(
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ),
    ),
    (
        6,
        8,
        _hashes(
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ),
    ),
    (3, 3, _hashes("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")),
    (
        2,
        5,
        _hashes(
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ),
    ),
]
CONSISTENCY_PROOFS: list[tuple[int, int, list[bytes]]] = [
    (1, 1, []),
    (
        1,
        8,
        _hashes(
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ),
    ),
    (
        6,
        8,
        _hashes(
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ),
    ),
    (
        2,
        5,
        _hashes(
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ),
    ),
    (
        6,
        7,
        _hashes(
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ),
    ),
]
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


@pytest.fixture(scope="module")
def reference_tree() -> MerkleTree:
    return MerkleTree.from_leaf_hashes(leaf_hash(d) for d in LEAVES)


# --- hashing -------------------------------------------------------------------------


def test_hashes_match_transparency_dev_rfc6962_vectors() -> None:
    # transparency-dev/merkle rfc6962/rfc6962_test.go
    # (commit 78493b07ef9b552e3379abf9e23d4da26fbe797c).
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert (
        leaf_hash(b"").hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )
    assert (
        leaf_hash(b"L123456").hex()
        == "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    )
    assert (
        node_hash(b"N123", b"N456").hex()
        == "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
    )


def test_leaf_and_node_hashes_are_domain_separated() -> None:
    a, b = leaf_hash(b"Hello"), leaf_hash(b"World")
    assert a != b
    assert node_hash(a, b) != leaf_hash(a + b)
    assert node_hash(a, b) != node_hash(b, a)


# --- the reference tree ----------------------------------------------------------------


def test_root_of_every_size_matches_reference(reference_tree: MerkleTree) -> None:
    assert reference_tree.root(0) == EMPTY_ROOT
    for size, expected in enumerate(ROOTS, start=1):
        assert reference_tree.root(size) == expected


def test_root_while_growing_matches_reference() -> None:
    tree = MerkleTree()
    assert tree.root() == EMPTY_ROOT
    for data, expected in zip(LEAVES, ROOTS, strict=True):
        tree.append(leaf_hash(data))
        assert tree.root() == expected
    assert len(tree) == tree.size == 8


@pytest.mark.parametrize("cuts", [(8,), (3, 5), (1, 1, 6), (4, 0, 4), (7, 1)])
def test_extending_in_batches_gives_the_reference_roots(cuts: tuple[int, ...]) -> None:
    tree, start = MerkleTree(), 0
    for cut in cuts:
        tree.extend(leaf_hash(d) for d in LEAVES[start : start + cut])
        start += cut
        assert tree.size == start
        assert tree.root() == (ROOTS[start - 1] if start else EMPTY_ROOT)
    for size, expected in enumerate(ROOTS, start=1):
        assert tree.root(size) == expected


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 70), st.lists(st.integers(0, 40), max_size=5))
def test_a_batch_extend_stores_the_nodes_appending_does(before: int, batches: list[int]) -> None:
    hashes = [leaf_hash(n.to_bytes(4, "big")) for n in range(before + sum(batches))]
    one_by_one, batched = MerkleTree(), MerkleTree.from_leaf_hashes(hashes[:before])
    for h in hashes:
        one_by_one.append(h)
    start = before
    for size in batches:
        batched.extend(hashes[start : start + size])
        start += size
    assert batched.size == one_by_one.size
    assert batched.root() == one_by_one.root()
    last = one_by_one.size - 1
    if last >= 0:
        assert batched.inclusion_proof(last, batched.size) == one_by_one.inclusion_proof(
            last, one_by_one.size
        )
        assert batched.inclusion_proof(0, batched.size) == one_by_one.inclusion_proof(
            0, one_by_one.size
        )


def test_a_batch_with_a_malformed_hash_changes_nothing() -> None:
    tree = MerkleTree.from_leaf_hashes([SOME_HASH])
    with pytest.raises(MalformedHash):
        tree.extend([SOME_HASH, b"short"])
    assert tree.size == 1 and tree.root() == SOME_HASH


@pytest.mark.parametrize(("leaf", "size", "proof"), INCLUSION_PROOFS)
def test_inclusion_proof_matches_reference(
    reference_tree: MerkleTree, leaf: int, size: int, proof: list[bytes]
) -> None:
    assert reference_tree.inclusion_proof(leaf - 1, size) == proof
    verify_inclusion(leaf_hash(LEAVES[leaf - 1]), leaf - 1, size, proof, ROOTS[size - 1])


@pytest.mark.parametrize(("size1", "size2", "proof"), CONSISTENCY_PROOFS)
def test_consistency_proof_matches_reference(
    reference_tree: MerkleTree, size1: int, size2: int, proof: list[bytes]
) -> None:
    assert reference_tree.consistency_proof(size1, size2) == proof
    verify_consistency(size1, size2, ROOTS[size1 - 1], ROOTS[size2 - 1], proof)


def _flip(proof: Sequence[bytes], i: int, mask: int) -> list[bytes]:
    out = list(proof)
    out[i] = bytes([out[i][0] ^ mask]) + out[i][1:]
    return out


def _corrupt_inclusion(
    index: int, size: int, proof: list[bytes], root: bytes, leaf: bytes
) -> list[tuple[str, bytes, int, int, list[bytes], bytes]]:
    # The probes of corruptInclusionProof in transparency-dev/merkle proof/verify_test.go.
    probes = [
        ("index - 1", leaf, index - 1, size, proof, root),
        ("index + 1", leaf, index + 1, size, proof, root),
        ("index ^ 2", leaf, index ^ 2, size, proof, root),
        ("size * 2", leaf, index, size * 2, proof, root),
        ("size // 2", leaf, index, size // 2, proof, root),
        ("wrong leaf", b"WrongLeaf", index, size, proof, root),
        ("empty root", leaf, index, size, proof, EMPTY_ROOT),
        ("random root", leaf, index, size, proof, SOME_HASH),
        ("trailing garbage", leaf, index, size, [*proof, b""], root),
        ("trailing root", leaf, index, size, [*proof, root], root),
        ("preceding garbage", leaf, index, size, [b"", *proof], root),
        ("preceding root", leaf, index, size, [root, *proof], root),
    ]
    probes += [
        (f"flipped bit 3 of proof[{i}]", leaf, index, size, _flip(proof, i, 8), root)
        for i in range(len(proof))
    ]
    if proof:
        probes.append(("removed component", leaf, index, size, proof[:-1], root))
    if len(proof) > 1:
        probes.append(
            ("inserted component", leaf, index, size, [proof[0], SOME_HASH, *proof[1:]], root)
        )
    return probes


@pytest.mark.parametrize(("leaf", "size", "proof"), INCLUSION_PROOFS)
def test_corrupted_inclusion_proofs_are_rejected(leaf: int, size: int, proof: list[bytes]) -> None:
    index, root, lh = leaf - 1, ROOTS[size - 1], leaf_hash(LEAVES[leaf - 1])
    for desc, p_leaf, p_index, p_size, p_proof, p_root in _corrupt_inclusion(
        index, size, proof, root, lh
    ):
        with pytest.raises(InvalidProof):
            verify_inclusion(p_leaf, p_index, p_size, p_proof, p_root)
            pytest.fail(f"accepted corrupted proof: {desc}")


def _corrupt_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: list[bytes]
) -> list[tuple[str, int, int, bytes, bytes, list[bytes]]]:
    # The probes of corruptConsistencyProof in transparency-dev/merkle proof/verify_test.go.
    probes = [
        ("size1 - 1", size1 - 1, size2, root1, root2, proof),
        ("size1 + 1", size1 + 1, size2, root1, root2, proof),
        ("size1 ^ 2", size1 ^ 2, size2, root1, root2, proof),
        ("size2 * 2", size1, size2 * 2, root1, root2, proof),
        ("size2 // 2", size1, size2 // 2, root1, root2, proof),
        ("wrong root1", size1, size2, b"WrongRoot", root2, proof),
        ("wrong root2", size1, size2, root1, b"WrongRoot", proof),
        ("swapped roots", size1, size2, root2, root1, proof),
        ("empty proof", size1, size2, root1, root2, []),
        ("trailing garbage", size1, size2, root1, root2, [*proof, b""]),
        ("trailing root1", size1, size2, root1, root2, [*proof, root1]),
        ("trailing root2", size1, size2, root1, root2, [*proof, root2]),
        ("preceding garbage", size1, size2, root1, root2, [b"", *proof]),
        ("preceding root1", size1, size2, root1, root2, [root1, *proof]),
        ("preceding root2", size1, size2, root1, root2, [root2, *proof]),
        ("preceding proof[0]", size1, size2, root1, root2, [proof[0], *proof]),
        ("truncated proof", size1, size2, root1, root2, proof[:-1]),
    ]
    probes += [
        (f"flipped bit 4 of proof[{i}]", size1, size2, root1, root2, _flip(proof, i, 16))
        for i in range(len(proof))
    ]
    return probes


@pytest.mark.parametrize(("size1", "size2", "proof"), [v for v in CONSISTENCY_PROOFS if v[2]])
def test_corrupted_consistency_proofs_are_rejected(
    size1: int, size2: int, proof: list[bytes]
) -> None:
    root1, root2 = ROOTS[size1 - 1], ROOTS[size2 - 1]
    for desc, s1, s2, r1, r2, p in _corrupt_consistency(size1, size2, root1, root2, proof):
        with pytest.raises(InvalidProof):
            verify_consistency(s1, s2, r1, r2, p)
            pytest.fail(f"accepted corrupted proof: {desc}")


# --- edge cases of the verifiers (after TestVerifyInclusion / TestVerifyConsistency) ----


@pytest.mark.parametrize(("index", "size"), [(0, 0), (0, 1), (1, 0), (2, 1)])
def test_inclusion_in_degenerate_trees_is_rejected(index: int, size: int) -> None:
    for leaf, root in [(SOME_HASH, b""), (b"", EMPTY_ROOT), (SOME_HASH, EMPTY_ROOT)]:
        with pytest.raises(InvalidProof):
            verify_inclusion(leaf, index, size, [], root)


def test_single_leaf_tree_root_is_the_leaf_hash() -> None:
    h = leaf_hash(b"data")
    assert MerkleTree.from_leaf_hashes([h]).root() == h
    verify_inclusion(h, 0, 1, [], h)
    for leaf, root in [(h, b""), (b"", h), (b"", b"")]:
        with pytest.raises(InvalidProof):
            verify_inclusion(leaf, 0, 1, [], root)


def test_trivial_consistency_pairs() -> None:
    r1, r2 = leaf_hash(b"1"), leaf_hash(b"2")
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    verify_consistency(0, 1, EMPTY_ROOT, r2, [])
    verify_consistency(1, 1, r2, r2, [])
    rejected = [
        (1, 1, r1, r2, []),  # same size, different roots
        (0, 1, r1, r2, []),  # size 0 with a root other than the empty tree's
        (1, 0, r1, r2, []),  # time travel
        (2, 1, r1, r2, []),
        (1, 2, r1, r2, []),  # a real extension needs a proof
        (0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT]),  # trivial pairs take no proof
        (0, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT]),
        (1, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT]),
    ]
    for size1, size2, root1, root2, proof in rejected:
        with pytest.raises(InvalidProof):
            verify_consistency(size1, size2, root1, root2, proof)


def test_invalid_proof_is_a_merkle_error_and_a_value_error() -> None:
    with pytest.raises(MerkleError):
        verify_inclusion(SOME_HASH, 0, 2, [], SOME_HASH)
    with pytest.raises(ValueError, match="shorter"):
        verify_inclusion(SOME_HASH, 0, 2, [], SOME_HASH)


# --- the tree's own argument checks ------------------------------------------------------


def test_out_of_range_arguments_raise_clear_errors(reference_tree: MerkleTree) -> None:
    with pytest.raises(OutOfRange, match="leaf index 8 is outside a tree of size 8"):
        reference_tree.inclusion_proof(8, 8)
    with pytest.raises(OutOfRange, match=r"tree size 9 is outside 0\.\.8"):
        reference_tree.inclusion_proof(0, 9)
    with pytest.raises(OutOfRange):
        reference_tree.inclusion_proof(-1, 8)
    with pytest.raises(OutOfRange):
        reference_tree.inclusion_proof(0, 0)
    with pytest.raises(OutOfRange):
        reference_tree.root(9)
    with pytest.raises(OutOfRange):
        reference_tree.root(-1)
    with pytest.raises(OutOfRange, match=r"old tree size 6 is outside 0\.\.5"):
        reference_tree.consistency_proof(6, 5)
    with pytest.raises(OutOfRange):
        reference_tree.consistency_proof(1, 9)
    with pytest.raises(OutOfRange):
        reference_tree.leaf(8)
    assert issubclass(OutOfRange, ValueError)
    assert issubclass(OutOfRange, MerkleError)


def test_trivial_consistency_proofs_are_empty(reference_tree: MerkleTree) -> None:
    assert reference_tree.consistency_proof(0, 5) == []
    assert reference_tree.consistency_proof(5, 5) == []
    assert reference_tree.consistency_proof(0, 0) == []


def test_append_rejects_values_that_are_not_hashes() -> None:
    tree = MerkleTree()
    with pytest.raises(MalformedHash, match="32 bytes"):
        tree.append(b"short")
    with pytest.raises(MalformedHash):
        MerkleTree.from_leaf_hashes([SOME_HASH, SOME_HASH + b"\x00"])
    assert tree.size == 0


def test_append_returns_the_index_and_leaf_reads_it_back() -> None:
    tree = MerkleTree()
    hashes = [leaf_hash(bytes([i])) for i in range(5)]
    assert [tree.append(h) for h in hashes] == [0, 1, 2, 3, 4]
    assert [tree.leaf(i) for i in range(5)] == hashes


def test_rebuilt_tree_answers_like_the_original() -> None:
    hashes = [leaf_hash(i.to_bytes(4, "big")) for i in range(1000)]
    grown = MerkleTree()
    grown.extend(hashes)
    rebuilt = MerkleTree.from_leaf_hashes(iter(hashes))
    for size in (1, 2, 3, 511, 512, 513, 999, 1000):
        assert rebuilt.root(size) == grown.root(size)
    assert rebuilt.inclusion_proof(777, 1000) == grown.inclusion_proof(777, 1000)
    assert rebuilt.consistency_proof(300, 1000) == grown.consistency_proof(300, 1000)


def test_storage_stays_within_two_hashes_per_leaf() -> None:
    size = (1 << 14) + 5
    tree = MerkleTree.from_leaf_hashes(leaf_hash(i.to_bytes(4, "big")) for i in range(size))
    stored = sum(len(level) for level in tree._levels)
    assert stored < 2 * 32 * size


def test_proofs_in_a_larger_tree_verify() -> None:
    size = (1 << 17) + 3
    tree = MerkleTree.from_leaf_hashes(leaf_hash(i.to_bytes(4, "big")) for i in range(size))
    root = tree.root()
    for index in (0, 1, 65535, 65536, 131071, 131072, size - 1):
        proof = tree.inclusion_proof(index, size)
        assert len(proof) <= 18
        verify_inclusion(tree.leaf(index), index, size, proof, root)
    for old in (1, 3, 65536, 100_000, size - 1):
        verify_consistency(old, size, tree.root(old), root, tree.consistency_proof(old, size))


# --- properties against the recursive definitions of RFC 9162 ----------------------------


def naive_mth(leaves: Sequence[bytes]) -> bytes:
    """MTH of RFC 9162 section 2.1.1, over leaf hashes, written as the recursion."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1 << ((n - 1).bit_length() - 1)
    return node_hash(naive_mth(leaves[:k]), naive_mth(leaves[k:]))


def naive_path(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 section 2.1.3.1."""
    n = len(leaves)
    if n == 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if m < k:
        return [*naive_path(m, leaves[:k]), naive_mth(leaves[k:])]
    return [*naive_path(m - k, leaves[k:]), naive_mth(leaves[:k])]


def naive_subproof(m: int, leaves: Sequence[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of RFC 9162 section 2.1.4.1."""
    n = len(leaves)
    if m == n:
        return [] if b else [naive_mth(leaves)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return [*naive_subproof(m, leaves[:k], b), naive_mth(leaves[k:])]
    return [*naive_subproof(m - k, leaves[k:], False), naive_mth(leaves[:k])]


MAX_SIZE = 300
PROPERTY_LEAVES = [leaf_hash(b"hearth-%d" % i) for i in range(MAX_SIZE)]
PROPERTY_TREE = MerkleTree.from_leaf_hashes(PROPERTY_LEAVES)


@st.composite
def index_and_size(draw: st.DrawFn) -> tuple[int, int]:
    size = draw(st.integers(1, MAX_SIZE))
    return draw(st.integers(0, size - 1)), size


@st.composite
def two_sizes(draw: st.DrawFn) -> tuple[int, int]:
    new = draw(st.integers(1, MAX_SIZE))
    return draw(st.integers(1, new)), new


@given(st.integers(0, MAX_SIZE))
def test_root_matches_naive_mth(size: int) -> None:
    assert PROPERTY_TREE.root(size) == naive_mth(PROPERTY_LEAVES[:size])


@given(st.lists(st.binary(max_size=8), max_size=40))
def test_fresh_tree_root_matches_naive_mth(data: list[bytes]) -> None:
    hashes = [leaf_hash(d) for d in data]
    assert MerkleTree.from_leaf_hashes(hashes).root() == naive_mth(hashes)


@settings(max_examples=300)
@given(index_and_size(), st.data())
def test_inclusion_proofs_match_rfc_and_verify(args: tuple[int, int], data: st.DataObject) -> None:
    index, size = args
    leaves = PROPERTY_LEAVES[:size]
    proof = PROPERTY_TREE.inclusion_proof(index, size)
    assert proof == naive_path(index, leaves)
    root = naive_mth(leaves)
    verify_inclusion(leaves[index], index, size, proof, root)

    if proof:
        i = data.draw(st.integers(0, len(proof) - 1), label="element")
        bit = data.draw(st.integers(0, 255), label="bit")
        tampered = list(proof)
        tampered[i] = _flip_bit(tampered[i], bit)
        with pytest.raises(InvalidProof):
            verify_inclusion(leaves[index], index, size, tampered, root)
    bit = data.draw(st.integers(0, 255), label="leaf or root bit")
    with pytest.raises(InvalidProof):
        verify_inclusion(_flip_bit(leaves[index], bit), index, size, proof, root)
    with pytest.raises(InvalidProof):
        verify_inclusion(leaves[index], index, size, proof, _flip_bit(root, bit))


@settings(max_examples=300)
@given(two_sizes(), st.data())
def test_consistency_proofs_match_rfc_and_verify(
    sizes: tuple[int, int], data: st.DataObject
) -> None:
    old, new = sizes
    proof = PROPERTY_TREE.consistency_proof(old, new)
    if old < new:
        assert proof == naive_subproof(old, PROPERTY_LEAVES[:new], True)
    old_root, new_root = naive_mth(PROPERTY_LEAVES[:old]), naive_mth(PROPERTY_LEAVES[:new])
    verify_consistency(old, new, old_root, new_root, proof)

    if proof:
        i = data.draw(st.integers(0, len(proof) - 1), label="element")
        bit = data.draw(st.integers(0, 255), label="bit")
        tampered = list(proof)
        tampered[i] = _flip_bit(tampered[i], bit)
        with pytest.raises(InvalidProof):
            verify_consistency(old, new, old_root, new_root, tampered)
    bit = data.draw(st.integers(0, 255), label="root bit")
    with pytest.raises(InvalidProof):
        verify_consistency(old, new, _flip_bit(old_root, bit), new_root, proof)
    with pytest.raises(InvalidProof):
        verify_consistency(old, new, old_root, _flip_bit(new_root, bit), proof)


def _flip_bit(value: bytes, bit: int) -> bytes:
    out = bytearray(value)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)
