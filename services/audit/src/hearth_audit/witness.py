"""A witness: an independent party that cosigns the log's checkpoints only when consistent.

It keeps the last checkpoint it cosigned. Given a newer checkpoint and a consistency proof
from the kept one, it checks the log's signature and the proof, then adds its own
cosignature/v1. A log that forked (two checkpoints not extending each other) is refused, and
the witness keeps its old checkpoint as evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hearth_crypto.checkpoint import Checkpoint, Cosigner, NoteError, NoteVerifier, open_note
from hearth_crypto.merkle import InvalidProof, verify_consistency


class WitnessRefused(Exception):
    """The checkpoint was not cosigned; the message says why."""


class Witness:
    def __init__(self, log_key: NoteVerifier, cosigner: Cosigner, last: str | None = None):
        self.log_key = log_key
        self.cosigner = cosigner
        self.last = last

    @property
    def last_checkpoint(self) -> Checkpoint | None:
        return None if self.last is None else self._open(self.last)

    def _open(self, note: str) -> Checkpoint:
        try:
            return Checkpoint.parse(open_note(note, [self.log_key]).body)
        except NoteError as e:
            raise WitnessRefused(f"not a checkpoint signed by {self.log_key.name}: {e}") from e

    def cosign(self, note: str, proof: Sequence[bytes]) -> str:
        """Cosign `note` if it extends the last cosigned checkpoint; returns the cosigned note."""
        checkpoint = self._open(note)
        last = self.last_checkpoint
        if last is not None:
            if checkpoint.origin != last.origin:
                raise WitnessRefused(f"origin {checkpoint.origin} is not {last.origin}")
            if checkpoint.size < last.size:
                raise WitnessRefused(
                    f"checkpoint {checkpoint.size} is older than the one cosigned ({last.size})"
                )
            try:
                verify_consistency(
                    last.size, checkpoint.size, last.root_hash, checkpoint.root_hash, proof
                )
            except InvalidProof as e:
                raise WitnessRefused(
                    f"checkpoint {checkpoint.size} is not consistent with {last.size}: {e}"
                ) from e
        cosigned = self.cosigner.add_signature(note)
        self.last = cosigned
        return cosigned


def load_cosigner(path: Path, name: str) -> Cosigner:
    """The witness's own key, generated on first use and kept at `path`."""
    if path.exists():
        return Cosigner.from_private_key(path.read_text().strip())
    cosigner = Cosigner.generate(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(cosigner.private_key())
    return cosigner
