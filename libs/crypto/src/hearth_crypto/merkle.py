"""RFC 6962 / RFC 9162 Merkle tree for the audit transparency log.

`MerkleTree` is an append-only log of leaf hashes that answers root, inclusion and
consistency queries for its current size or any earlier one. `verify_inclusion` and
`verify_consistency` are the standalone checks an outside auditor runs; they follow
RFC 9162 sections 2.1.3.2 and 2.1.4.2 step by step and need no tree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "InvalidProof",
    "MalformedHash",
    "MerkleError",
    "MerkleTree",
    "OutOfRange",
    "leaf_hash",
    "node_hash",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH({}) of RFC 6962: the hash of the empty string."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


class MerkleError(Exception):
    """Base class for every error raised by this module."""


class InvalidProof(MerkleError, ValueError):
    """A proof, or the hashes it is checked against, does not verify."""


class OutOfRange(MerkleError, ValueError):
    """A leaf index or tree size lies outside the tree."""


class MalformedHash(MerkleError, ValueError):
    """A value that should be a SHA-256 hash is not 32 bytes long."""


def leaf_hash(data: bytes) -> bytes:
    """MTH({d}) = SHA-256(0x00 || d)."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Interior node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than n (n > 1), RFC 6962's k."""
    return 1 << ((n - 1).bit_length() - 1)


class MerkleTree:
    """An append-only RFC 6962 Merkle tree over leaf hashes.

    Storage: level j holds, back to back in one bytearray, the hash of every complete
    subtree of 2**j leaves seen so far. That is 32 * (n + n/2 + n/4 + ...) < 64n bytes,
    appending does amortised O(1) hashing, and any subtree of an earlier tree size is a
    walk of O(log n) stored nodes. Not thread-safe: use one writer, and no readers while
    it appends.
    """

    __slots__ = ("_levels", "_size")

    def __init__(self) -> None:
        self._levels: list[bytearray] = [bytearray()]
        self._size = 0

    @classmethod
    def from_leaf_hashes(cls, leaf_hashes: Iterable[bytes]) -> MerkleTree:
        """Rebuild a tree, for example after a restart, from its leaf hashes in order."""
        tree = cls()
        for h in leaf_hashes:
            tree.append(h)
        return tree

    @property
    def size(self) -> int:
        """Number of leaves."""
        return self._size

    def __len__(self) -> int:
        return self._size

    def append(self, leaf_hash: bytes) -> int:
        """Append one leaf hash (see `leaf_hash`) and return its index."""
        if len(leaf_hash) != HASH_SIZE:
            raise MalformedHash(f"leaf hash must be {HASH_SIZE} bytes, got {len(leaf_hash)}")
        index = self._size
        levels = self._levels
        levels[0] += leaf_hash
        node = leaf_hash
        # Each trailing 1 bit of the index is a left sibling now completed by this leaf.
        n, level = index, 0
        while n & 1:
            node = hashlib.sha256(_NODE_PREFIX + levels[level][-64:-32] + node).digest()
            level += 1
            if level == len(levels):
                levels.append(bytearray())
            levels[level] += node
            n >>= 1
        self._size = index + 1
        return index

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Append several leaf hashes in order, hashing the batch in one pass a level at a
        time (the same nodes `append` would make, without its per-leaf walk)."""
        added = list(leaf_hashes)
        for h in added:
            if len(h) != HASH_SIZE:
                raise MalformedHash(f"leaf hash must be {HASH_SIZE} bytes, got {len(h)}")
        levels = self._levels
        levels[0] += b"".join(added)
        sha256, prefix = hashlib.sha256, _NODE_PREFIX
        # At each level, nodes [low, high) are new; their complete parents are new above.
        low, high, level = self._size, self._size + len(added), 0
        while (parents := range(low // 2, high // 2)) and len(parents):
            below = levels[level]
            if level + 1 == len(levels):
                levels.append(bytearray())
            levels[level + 1] += b"".join(
                sha256(prefix + below[64 * p : 64 * p + 64]).digest() for p in parents
            )
            low, high, level = low // 2, high // 2, level + 1
        self._size += len(added)

    def leaf(self, index: int) -> bytes:
        """The leaf hash stored at `index`."""
        if not 0 <= index < self._size:
            raise OutOfRange(f"leaf index {index} is outside a tree of {self._size} leaves")
        return self._node(0, index)

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first `size` leaves (default: all of them)."""
        size = self._size if size is None else size
        if not 0 <= size <= self._size:
            raise OutOfRange(f"tree size {size} is outside 0..{self._size}")
        if size == 0:
            return EMPTY_ROOT
        return self._subtree(0, size)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """PATH(index, D[0:size]) of RFC 9162 section 2.1.3.1, deepest sibling first."""
        if not 0 <= size <= self._size:
            raise OutOfRange(f"tree size {size} is outside 0..{self._size}")
        if not 0 <= index < size:
            raise OutOfRange(f"leaf index {index} is outside a tree of size {size}")
        proof: list[bytes] = []
        start, end = 0, size
        while end - start > 1:
            mid = start + _split(end - start)
            if index < mid:
                proof.append(self._subtree(mid, end))
                end = mid
            else:
                proof.append(self._subtree(start, mid))
                start = mid
        proof.reverse()
        return proof

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        """PROOF(old_size, D[0:new_size]) of RFC 9162 section 2.1.4.1.

        Empty when old_size is 0 or equal to new_size: those pairs need no proof.
        """
        if not 0 <= new_size <= self._size:
            raise OutOfRange(f"tree size {new_size} is outside 0..{self._size}")
        if not 0 <= old_size <= new_size:
            raise OutOfRange(f"old tree size {old_size} is outside 0..{new_size}")
        if old_size in (0, new_size):
            return []
        proof: list[bytes] = []
        start, end = 0, new_size
        # RFC's flag b: the old tree is still a whole subtree the verifier already knows.
        known_subtree = True
        while old_size != end:
            mid = start + _split(end - start)
            if old_size <= mid:
                proof.append(self._subtree(mid, end))
                end = mid
            else:
                proof.append(self._subtree(start, mid))
                start = mid
                known_subtree = False
        if not known_subtree:
            proof.append(self._subtree(start, end))
        proof.reverse()
        return proof

    def _node(self, level: int, index: int) -> bytes:
        offset = index * HASH_SIZE
        return bytes(self._levels[level][offset : offset + HASH_SIZE])

    def _subtree(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for a node of the RFC 6962 tree shape (start is aligned).

        The range splits into complete, stored subtrees of decreasing size; the hash
        folds them right to left, as the recursive definition would.
        """
        parts: list[bytes] = []
        while True:
            n = end - start
            if n & (n - 1) == 0:
                level = n.bit_length() - 1
                parts.append(self._node(level, start >> level))
                break
            k = _split(n)
            level = k.bit_length() - 1
            parts.append(self._node(level, start >> level))
            start += k
        result = parts.pop()
        while parts:
            result = node_hash(parts.pop(), result)
        return result


def _require_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise InvalidProof(f"{what} must be {HASH_SIZE} bytes, got {len(value)}")


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that `leaf_hash` is leaf `index` of the tree of `size` leaves with `root`.

    RFC 9162 section 2.1.3.2. Returns None on success, raises InvalidProof otherwise.
    """
    _require_hash(leaf_hash, "leaf hash")
    _require_hash(root, "root hash")
    for i, p in enumerate(proof):
        _require_hash(p, f"proof element {i}")
    if not 0 <= index < size:
        raise InvalidProof(f"leaf index {index} is outside a tree of size {size}")
    fn, sn = index, size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0:
            raise InvalidProof("inclusion proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise InvalidProof("inclusion proof is shorter than the path to the root")
    if r != root:
        raise InvalidProof("inclusion proof does not lead to the expected root")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree (new_size, new_root) extends the tree (old_size, old_root).

    RFC 9162 section 2.1.4.2 for 0 < old_size < new_size. The RFC leaves the trivial
    pairs open; here equal sizes need equal roots and an empty proof, and size 0 needs
    the empty-tree root and an empty proof. Raises InvalidProof on failure.
    """
    _require_hash(old_root, "old root hash")
    _require_hash(new_root, "new root hash")
    for i, p in enumerate(proof):
        _require_hash(p, f"proof element {i}")
    if not 0 <= old_size <= new_size:
        raise InvalidProof(f"old tree size {old_size} is outside 0..{new_size}")
    if old_size == new_size:
        if proof:
            raise InvalidProof("consistency proof between equal sizes must be empty")
        if old_root != new_root:
            raise InvalidProof(f"different roots for the same tree size {old_size}")
        return
    if old_size == 0:
        if proof:
            raise InvalidProof("consistency proof from the empty tree must be empty")
        if old_root != EMPTY_ROOT:
            raise InvalidProof("the root of the empty tree must be SHA-256 of nothing")
        return

    # Steps 1-7 of RFC 9162 section 2.1.4.2.
    if not proof:
        raise InvalidProof("consistency proof is empty")
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise InvalidProof("consistency proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise InvalidProof("consistency proof is shorter than the path to the root")
    if fr != old_root:
        raise InvalidProof("consistency proof does not lead to the old root")
    if sr != new_root:
        raise InvalidProof("consistency proof does not lead to the new root")
