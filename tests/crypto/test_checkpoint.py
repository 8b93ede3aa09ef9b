"""Tests for signed notes, checkpoints and cosignatures: published vectors, then tampering."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from nacl.signing import SigningKey, VerifyKey

from hearth_crypto.checkpoint import (
    AmbiguousKey,
    Checkpoint,
    CosignatureVerifier,
    Cosigner,
    InvalidSignature,
    MalformedCheckpoint,
    MalformedKey,
    MalformedNote,
    NoteError,
    NoteSignature,
    NoteSigner,
    NoteVerifier,
    UnknownKey,
    cosignature_message,
    cosignature_timestamp,
    key_id,
    open_note,
)

# --- golang.org/x/mod/sumdb/note vectors ----------------------------------------------
# From golang/mod, sumdb/note/note_test.go (commit 02c991387e35f9e4c0a9b7ce137717055f8d716d):
# TestNewVerifier, TestNewSigner, TestSign, TestOpen.
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotp"
    "RZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox3"
    "3WWd1RvMc+QQ=\n"
)


def _splice(line: str, at: int, insert: str) -> bytes:
    # Go slices the UTF-8 bytes (the em dash is three of them), so splice bytes too.
    raw = line.encode()
    return raw[:at] + insert.encode() + raw[at:]


@pytest.fixture
def peter() -> NoteVerifier:
    return NoteVerifier.from_vkey(PETER_VKEY)


@pytest.fixture
def enoch() -> NoteVerifier:
    return NoteVerifier.from_vkey(ENOCH_VKEY)


def test_go_verifier_key_parses(peter: NoteVerifier) -> None:
    assert peter.name == "PeterNeumann"
    assert peter.key_id == 0xC74F20A3
    assert peter.vkey == PETER_VKEY
    assert key_id("PeterNeumann", 0x01, bytes(peter.verify_key)) == 0xC74F20A3


def test_every_mangled_go_verifier_key_is_rejected() -> None:
    # TestNewVerifier: every proper substring and every single-byte increment must fail.
    candidates = {
        PETER_VKEY[i:j]
        for i in range(len(PETER_VKEY) + 1)
        for j in range(i + 1, len(PETER_VKEY) + 1)
        if (i, j) != (0, len(PETER_VKEY))
    }
    for i in range(len(PETER_VKEY)):
        candidates.add(PETER_VKEY[:i] + chr(ord(PETER_VKEY[i]) + 1) + PETER_VKEY[i + 1 :])
    candidates |= {
        # Wrong key length and unknown algorithm, each with an adjusted key id.
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    }
    for candidate in candidates:
        with pytest.raises(MalformedKey):
            NoteVerifier.from_vkey(candidate)
            pytest.fail(f"accepted {candidate!r}")


def test_go_private_key_parses_and_round_trips(peter: NoteVerifier) -> None:
    signer = NoteSigner.from_private_key(PETER_SKEY)
    assert signer.name == "PeterNeumann"
    assert signer.key_id == 0xC74F20A3
    assert signer.vkey == PETER_VKEY
    assert signer.verifier == peter
    assert signer.private_key() == PETER_SKEY
    assert "PRIVATE" not in repr(signer)


def test_every_mangled_go_private_key_is_rejected() -> None:
    # TestNewSigner.
    candidates = {
        PETER_SKEY[i:j]
        for i in range(len(PETER_SKEY) + 1)
        for j in range(i + 1, len(PETER_SKEY) + 1)
        if (i, j) != (0, len(PETER_SKEY))
    }
    for i in range(len(PETER_SKEY)):
        candidates.add(PETER_SKEY[:i] + chr(ord(PETER_SKEY[i]) + 1) + PETER_SKEY[i + 1 :])
    for candidate in candidates:
        with pytest.raises(MalformedKey):
            NoteSigner.from_private_key(candidate)
            pytest.fail(f"accepted {candidate!r}")


def test_signing_reproduces_the_go_signed_note() -> None:
    # TestSign: Ed25519 is deterministic, so the note matches byte for byte.
    signer = NoteSigner.from_private_key(PETER_SKEY)
    assert signer.sign(TEXT) == TEXT + "\n" + PETER_SIG


def test_adding_a_signature_replaces_the_signers_old_one() -> None:
    signer = NoteSigner.from_private_key(PETER_SKEY)
    bogus = NoteSignature("PeterNeumann", 0xC74F20A3, bytes(64)).line()
    assert signer.add_signature(TEXT + "\n" + bogus) == TEXT + "\n" + PETER_SIG


def test_adding_a_signature_keeps_other_signatures(
    peter: NoteVerifier, enoch: NoteVerifier
) -> None:
    signer = NoteSigner.from_private_key(PETER_SKEY)
    note = signer.add_signature(TEXT + "\n" + ENOCH_SIG)
    assert note == TEXT + "\n" + ENOCH_SIG + PETER_SIG
    assert open_note(note, [peter, enoch]).signers == ("EnochRoot", "PeterNeumann")


@pytest.mark.parametrize("body", ["abc", "", "abc\x01\n"])
def test_signing_refuses_text_that_is_not_a_note_body(body: str) -> None:
    with pytest.raises(MalformedNote):
        NoteSigner.from_private_key(PETER_SKEY).sign(body)


def test_open_verifies_known_keys_and_sets_aside_unknown_ones(
    peter: NoteVerifier, enoch: NoteVerifier
) -> None:
    note = TEXT + "\n" + PETER_SIG + ENOCH_SIG
    opened = open_note(note, [peter])
    assert opened.body == TEXT
    assert opened.signers == ("PeterNeumann",)
    assert [(s.name, s.key_id) for s in opened.unverified] == [("EnochRoot", 0xAF0CFE78)]
    assert opened.signed_by(peter) is not None
    assert opened.signed_by(enoch) is None

    both = open_note(note.encode(), [peter, enoch])
    assert both.signers == ("PeterNeumann", "EnochRoot")
    assert both.unverified == ()


def test_open_without_a_known_key_raises_unknown_key() -> None:
    note = TEXT + "\n" + PETER_SIG + ENOCH_SIG
    with pytest.raises(UnknownKey, match=r"PeterNeumann\+c74f20a3, EnochRoot\+af0cfe78") as info:
        open_note(note, [])
    assert [s.name for s in info.value.signatures] == ["PeterNeumann", "EnochRoot"]


def test_a_key_with_the_right_name_but_another_id_is_unknown() -> None:
    impostor = NoteVerifier("PeterNeumann", SigningKey.generate().verify_key)
    with pytest.raises(UnknownKey):
        open_note(TEXT + "\n" + PETER_SIG, [impostor])


class _ClaimsPetersKey:
    """A verifier that claims Peter's name and key id but holds another key."""

    name = "PeterNeumann"
    key_id = 0xC74F20A3

    def __init__(self) -> None:
        self._key: VerifyKey = SigningKey.generate().verify_key

    def verify(self, body: bytes, signature: bytes) -> bool:
        return NoteVerifier(self.name, self._key).verify(body, signature)


def test_a_wrong_key_under_a_known_id_fails_the_whole_note(enoch: NoteVerifier) -> None:
    with pytest.raises(InvalidSignature, match=r"PeterNeumann\+c74f20a3"):
        open_note(TEXT + "\n" + ENOCH_SIG + PETER_SIG, [enoch, _ClaimsPetersKey()])


def test_two_different_verifiers_for_one_key_are_ambiguous(peter: NoteVerifier) -> None:
    with pytest.raises(AmbiguousKey):
        open_note(TEXT + "\n" + PETER_SIG, [peter, _ClaimsPetersKey()])
    # The same key listed twice is harmless.
    opened = open_note(TEXT + "\n" + PETER_SIG, [peter, NoteVerifier.from_vkey(PETER_VKEY)])
    assert opened.signers == ("PeterNeumann",)


def test_a_corrupted_signature_from_a_known_key_is_rejected(peter: NoteVerifier) -> None:
    note = TEXT.encode() + b"\n" + _splice(PETER_SIG, 60, "ABCD")
    with pytest.raises(InvalidSignature, match=r"invalid signature for key PeterNeumann\+c74f20a3"):
        open_note(note, [peter])


def test_duplicate_signatures_are_listed_once(peter: NoteVerifier) -> None:
    enoch_abcd = _splice(ENOCH_SIG, 60, "ABCD").decode()
    note = TEXT + "\n" + PETER_SIG + PETER_SIG + ENOCH_SIG + ENOCH_SIG + enoch_abcd
    opened = open_note(note, [peter])
    assert opened.signers == ("PeterNeumann",)
    assert len(opened.unverified) == 2
    assert opened.unverified[0].name == opened.unverified[1].name == "EnochRoot"


def test_too_many_signatures_are_malformed(peter: NoteVerifier) -> None:
    with pytest.raises(MalformedNote):
        open_note(TEXT + "\n" + PETER_SIG * 101, [peter])
    assert open_note(TEXT + "\n" + PETER_SIG * 100, [peter]).signers == ("PeterNeumann",)


@pytest.mark.parametrize(
    "note",
    [
        TEXT.encode(),
        (TEXT + "\n").encode(),
        (TEXT + "\n" + PETER_SIG[:-1]).encode(),
        ("\x01" + TEXT + "\n" + PETER_SIG).encode(),
        b"\xff" + (TEXT + "\n" + PETER_SIG).encode(),
        (
            TEXT + "\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZS"
        ).encode(),
        (TEXT + "\n" + PETER_SIG + "Unexpected line.\n").encode(),
        (TEXT + "\n- PeterNeumann " + PETER_SIG.split(" ")[2]).encode(),  # hyphen, not em dash
        (TEXT + "\n" + PETER_SIG.replace("AM=", "AN=")).encode(),  # non-canonical base64
        (TEXT + "\n— PeterNeumann AAAA\n").encode(),  # shorter than a key id and one byte
    ],
)
def test_malformed_notes_are_rejected(peter: NoteVerifier, note: bytes) -> None:
    # The badMsgs of TestOpen, plus a few of our own.
    with pytest.raises(MalformedNote):
        open_note(note, [peter])


@pytest.mark.parametrize(
    "altered",
    [
        TEXT.replace("cryptography", "cryptographY"),
        "then you don't know what your problem is.\n"
        "If you think cryptography is the answer to your problem,\n",
        TEXT + "extra line\n",
        TEXT[: TEXT.index("\n") + 1],
        TEXT + "\n",
    ],
)
def test_altered_or_reordered_bodies_are_rejected(peter: NoteVerifier, altered: str) -> None:
    with pytest.raises(InvalidSignature):
        open_note(altered + "\n" + PETER_SIG, [peter])


@given(st.integers(0, len(TEXT) - 1), st.characters(codec="utf-8", exclude_characters="\n"))
def test_any_changed_character_breaks_the_signature(position: int, char: str) -> None:
    peter = NoteVerifier.from_vkey(PETER_VKEY)
    altered = TEXT[:position] + char + TEXT[position + 1 :]
    if altered == TEXT:
        return
    with pytest.raises(NoteError):
        open_note(altered + "\n" + PETER_SIG, [peter])


@given(
    st.lists(
        st.text(
            st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), min_size=0, max_size=30
        ),
        min_size=1,
        max_size=6,
    )
)
def test_any_note_body_signs_and_opens(lines: list[str]) -> None:
    signer = NoteSigner.from_private_key(PETER_SKEY)
    body = "\n".join(lines) + "\n"
    opened = open_note(signer.sign(body), [signer.verifier])
    assert opened.body == body


# --- Sigsum vectors -------------------------------------------------------------------
# From sigsum/sigsum-go, pkg/checkpoint/checkpoint_test.go
# (commit 2224a397c849d2dd7bf412f9675f9e323381693c). Their key is the Ed25519 seed
# crypto.PrivateKey{17}: 17 followed by 31 zero bytes.
SIGSUM_KEY = SigningKey(bytes([17]) + bytes(31))
SIGSUM_ROOT = base64.b64decode("HA5HAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
SIGSUM_ORIGIN = (
    "sigsum.org/v1/tree/e796172b92befd62d9dc67e41c2f5bc9d3100a3023b20b1ca40288dd1c679e69"
)
SIGSUM_CHECKPOINT = (
    f"{SIGSUM_ORIGIN}\n10\nHA5HAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n"
    f"— {SIGSUM_ORIGIN} gJ2ho0n8F8olcerUF1FFdv235A/5as/coWrpLrtE7ovMeP5whgwouYExowG/lTznxu6O"
    "UGjjt5yJQ6bXtTcf718MqAQ=\n"
)
# TestCheckpointVerifyCosignatureByKey: the second line is example.org/witness (the same
# key) cosigning "example.org/log" size 10 at time 1234; the others differ in key id,
# name, and signature size.
SIGSUM_COSIGNATURES = [
    "— example.org/witness yX8uUAAAAAAAAATSftMzceM8zssdZ9jin9SjwIxzx9iADMf63VqirX2hafol9RsqNq"
    "bofIz0LVRqHXI2kpEBSki5RTXFtxz1vo9+Cg==\n",
    "— example.org/witness ys8uUAAAAAAAAATSftMzceM8zssdZ9jin9SjwIxzx9iADMf63VqirX2hafol9RsqNq"
    "bofIz0LVRqHXI2kpEBSki5RTXFtxz1vo9+Cg==\n",
    "— example.org/witness-2 ys8uUAAAAAAAAATSftMzceM8zssdZ9jin9SjwIxzx9iADMf63VqirX2hafol9Rsq"
    "NqbofIz0LVRqHXI2kpEBSki5RTXFtxz1vo9+Cg==\n",
    "— example.org/witness ys8uUAAAAAAAAATSftMzceM8zssdZ9jin9SjwIxzx9iADMf63VqirX2hafol9RsqNq"
    "bofIz0LVRqHXI2kpEBSki5RTXFtxz1vo9+CgXX\n",
]


def test_sigsum_checkpoint_is_reproduced_and_verifies() -> None:
    assert SIGSUM_ORIGIN.endswith(hashlib.sha256(bytes(SIGSUM_KEY.verify_key)).hexdigest())
    signer = NoteSigner(SIGSUM_ORIGIN, SIGSUM_KEY)
    checkpoint = Checkpoint(SIGSUM_ORIGIN, 10, SIGSUM_ROOT)
    assert signer.sign(checkpoint.body()) == SIGSUM_CHECKPOINT
    opened = open_note(SIGSUM_CHECKPOINT, [signer.verifier])
    assert Checkpoint.parse(opened.body) == checkpoint


def test_sigsum_cosignature_is_reproduced_and_verifies() -> None:
    body = Checkpoint("example.org/log", 10, SIGSUM_ROOT).body()
    witness = Cosigner("example.org/witness", SIGSUM_KEY, clock=lambda: 1234)
    assert witness.signature(body).line() == SIGSUM_COSIGNATURES[1]

    opened = open_note(body + "\n" + "".join(SIGSUM_COSIGNATURES[:3]), [witness.verifier])
    cosignature = opened.signed_by(witness.verifier)
    assert cosignature is not None
    assert cosignature_timestamp(cosignature) == 1234
    assert len(opened.unverified) == 2

    # The fourth line carries the witness's name and key id with a bad signature.
    with pytest.raises(InvalidSignature):
        open_note(body + "\n" + "".join(SIGSUM_COSIGNATURES), [witness.verifier])


def test_real_go_checksum_database_checkpoint_verifies() -> None:
    # sum.golang.org/latest of 2024-09-23, as quoted in the same sigsum-go test, and the
    # checksum database key from golang/go src/cmd/go/internal/modfetch/key.go.
    note = (
        "go.sum database tree\n30055305\nmXfgRcJ0bG0j3CPdKwgGWtUzBUbX67saZGRmFuJGGsM=\n\n"
        "— sum.golang.org Az3grpgEild5qw7+5dtV13Kf1C2Xurm8q4fhdxvcsDHnqNTaxL2AFjBY+2TyGKevu"
        "cFcAAlWFJJYle3EJlDCrQ+y3A8=\n"
    )
    sumdb = NoteVerifier.from_vkey(
        "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
    )
    checkpoint = Checkpoint.parse(open_note(note, [sumdb]).body)
    assert checkpoint.origin == "go.sum database tree"
    assert checkpoint.size == 30055305
    with pytest.raises(InvalidSignature):
        open_note(note.replace("30055305", "30055306"), [sumdb])


# --- C2SP and transparency-dev/formats cosignature vectors -----------------------------


def test_c2sp_cosigned_checkpoint_example_parses() -> None:
    # The example in C2SP/C2SP tlog-cosignature.md (commit 01194db1); its keys are not
    # published, so only the structure and the timestamp it spells out can be checked.
    note = (
        "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
        "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5"
        "/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
        "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dl"
        "rDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
    )
    with pytest.raises(UnknownKey) as info:
        open_note(note, [])
    log_signature, cosignature = info.value.signatures
    assert cosignature_timestamp(cosignature) == 1679315147
    with pytest.raises(MalformedNote):
        cosignature_timestamp(log_signature)
    checkpoint = Checkpoint.parse(note[: note.index("\n\n") + 1])
    assert (checkpoint.origin, checkpoint.size) == ("example.com/behind-the-sofa", 20852163)


def test_transparency_dev_cosignature_vectors() -> None:
    # transparency-dev/formats note/note_cosigv1_test.go (commit 091ce416):
    # TestCoSigV1NewVerifier and TestCosignatureTimestamp.
    remora = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
    assert CosignatureVerifier.from_vkey(remora).vkey == remora
    with pytest.raises(MalformedKey, match="signature type 0x04"):
        NoteVerifier.from_vkey(remora)
    with pytest.raises(MalformedKey, match="signature type 0x01"):
        CosignatureVerifier.from_vkey(PETER_VKEY)
    for bad in (
        "bananas.sigstore.dev+12344556",
        "rekor.sigstore.dev+12345678+THIS_IS_NOT_BASE64!",
        "rekor.sigstore.dev+12345678+AwEB",
    ):
        with pytest.raises(MalformedKey):
            CosignatureVerifier.from_vkey(bad)

    def line(b64: str) -> NoteSignature:
        raw = base64.b64decode(b64)
        return NoteSignature("w", int.from_bytes(raw[:4], "big"), raw[4:])

    works = "ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOw"
    works += "orDcFiEBYJXORmnFBOBA=="
    assert cosignature_timestamp(line(works)) == 1727964367
    wrong_type = "eQjRQm6eSKzFoiYalgwCPXu2y3ijtg68is9M46JKxuZB+dRfTmeQeDBoXnvxZx2ugnkyV+MUMLXpWs1h"
    wrong_type += "Pb/W/4xkNQY="
    with pytest.raises(MalformedNote):
        cosignature_timestamp(line(wrong_type))


# --- cosigning, end to end ---------------------------------------------------------------


@pytest.fixture
def log() -> NoteSigner:
    return NoteSigner.generate("audit.hearth.example/log")


@pytest.fixture
def witness() -> Cosigner:
    return Cosigner.generate("witness.example/w1")


def _signed_checkpoint(log: NoteSigner) -> str:
    checkpoint = Checkpoint(log.name, 42, hashlib.sha256(b"root").digest())
    return log.sign(checkpoint.body())


def test_witness_cosigns_a_log_checkpoint(log: NoteSigner) -> None:
    witness = Cosigner("witness.example/w1", SigningKey.generate(), clock=lambda: 1_700_000_000)
    cosigned = witness.add_signature(_signed_checkpoint(log))
    opened = open_note(cosigned, [log.verifier, witness.verifier])
    assert opened.signers == (log.name, witness.name)
    cosignature = opened.signed_by(witness.verifier)
    assert cosignature is not None
    assert cosignature_timestamp(cosignature) == 1_700_000_000
    message = cosignature_message(opened.body.encode(), 1_700_000_000)
    assert message.startswith(b"cosignature/v1\ntime 1700000000\naudit.hearth.example/log\n")
    witness.verifier.verify_key.verify(message, cosignature.signature[8:])


def test_cosignature_key_id_uses_type_4(witness: Cosigner) -> None:
    public = bytes(witness.signing_key.verify_key)
    assert witness.key_id == key_id(witness.name, 0x04, public)
    assert witness.key_id != key_id(witness.name, 0x01, public)
    assert base64.b64decode(witness.vkey.split("+", 2)[2])[0] == 0x04


def test_a_changed_cosignature_timestamp_is_rejected(log: NoteSigner, witness: Cosigner) -> None:
    body = _signed_checkpoint(log).split("\n\n")[0] + "\n"
    good = witness.signature(body)
    moved = NoteSignature(good.name, good.key_id, (1).to_bytes(8, "big") + good.signature[8:])
    with pytest.raises(InvalidSignature):
        open_note(body + "\n" + moved.line(), [witness.verifier])


def test_a_cosignature_does_not_pass_as_a_plain_signature(
    log: NoteSigner, witness: Cosigner
) -> None:
    # Same key, other signature type: a different key id, so the plain verifier ignores it.
    plain = NoteVerifier(witness.name, witness.signing_key.verify_key)
    cosigned = witness.add_signature(_signed_checkpoint(log))
    with pytest.raises(UnknownKey):
        open_note(cosigned, [plain])


def test_witness_only_cosigns_checkpoints(witness: Cosigner) -> None:
    with pytest.raises(MalformedCheckpoint):
        witness.sign("not a checkpoint\n")


def test_checkpoint_signed_by_the_wrong_log_key_is_rejected(log: NoteSigner) -> None:
    other = NoteSigner.generate(log.name)
    with pytest.raises(UnknownKey):
        open_note(_signed_checkpoint(other), [log.verifier])


def test_signed_by_tells_the_log_from_a_witness(log: NoteSigner, witness: Cosigner) -> None:
    # A note a witness alone signed opens, so a reader must insist on the log's signature.
    only_witness = witness.sign(_signed_checkpoint(log).split("\n\n")[0] + "\n")
    opened = open_note(only_witness, [log.verifier, witness.verifier])
    assert opened.signed_by(log.verifier) is None


@pytest.mark.parametrize("signer_type", [NoteSigner, Cosigner])
def test_private_keys_round_trip(signer_type: type[NoteSigner]) -> None:
    signer = signer_type.generate("keys.example/k")
    restored = signer_type.from_private_key(signer.private_key())
    assert restored.vkey == signer.vkey
    assert bytes(restored.signing_key) == bytes(signer.signing_key)


def test_private_keys_keep_their_signature_type(witness: Cosigner) -> None:
    with pytest.raises(MalformedKey, match="signature type 0x01"):
        Cosigner.from_private_key(PETER_SKEY)
    with pytest.raises(MalformedKey, match="signature type 0x04"):
        NoteSigner.from_private_key(witness.private_key())


@pytest.mark.parametrize("name", ["", "a b", "a+b", "tab\there", "nbsp\u00a0here"])
def test_invalid_key_names_are_refused(name: str) -> None:
    with pytest.raises(MalformedKey):
        NoteSigner(name, SigningKey.generate())


# --- checkpoint bodies ----------------------------------------------------------------------


def test_checkpoint_body_round_trips() -> None:
    root = hashlib.sha256(b"x").digest()
    checkpoint = Checkpoint("example.com/log", 0, root, ("ext one", "ext two"))
    body = checkpoint.body()
    b64_root = base64.b64encode(root).decode()
    assert body == f"example.com/log\n0\n{b64_root}\next one\next two\n"
    assert Checkpoint.parse(body) == checkpoint


@given(
    st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), min_size=1),
    st.integers(0, 2**64 - 1),
    st.binary(min_size=32, max_size=32),
)
def test_any_checkpoint_round_trips(origin: str, size: int, root: bytes) -> None:
    checkpoint = Checkpoint(origin, size, root)
    assert Checkpoint.parse(checkpoint.body()) == checkpoint


ROOT_B64 = base64.b64encode(bytes(32)).decode()


@pytest.mark.parametrize(
    "body",
    [
        f"log\n10\n{ROOT_B64}",  # no final newline
        "log\n10\n",  # no root line
        f"\n10\n{ROOT_B64}\n",  # empty origin
        f"log\n010\n{ROOT_B64}\n",  # leading zero
        f"log\n+10\n{ROOT_B64}\n",
        f"log\n1_0\n{ROOT_B64}\n",
        f"log\n 10\n{ROOT_B64}\n",
        f"log\n-1\n{ROOT_B64}\n",
        f"log\n\u0661\u0660\n{ROOT_B64}\n",  # Arabic-Indic digits
        f"log\n{2**64}\n{ROOT_B64}\n",
        f"log\n{'9' * 5000}\n{ROOT_B64}\n",
        "log\n10\nAAAA\n",  # root too short
        f"log\n10\n{ROOT_B64[:-2]}B=\n",  # non-canonical base64
        f"log\n10\n{ROOT_B64}\n\n",  # empty extension line
        f"log\x01\n10\n{ROOT_B64}\n",
    ],
)
def test_malformed_checkpoints_are_rejected(body: str) -> None:
    with pytest.raises(MalformedCheckpoint):
        Checkpoint.parse(body)


def test_checkpoint_fields_are_checked_on_construction() -> None:
    root = bytes(32)
    for origin, size, root_hash, extensions in [
        ("", 1, root, ()),
        ("a\nb", 1, root, ()),
        ("log", -1, root, ()),
        ("log", 2**64, root, ()),
        ("log", 1, root[:31], ()),
        ("log", 1, root, ("",)),
        ("log", 1, root, ("two\nlines",)),
    ]:
        with pytest.raises(MalformedCheckpoint):
            Checkpoint(origin, size, root_hash, extensions)
