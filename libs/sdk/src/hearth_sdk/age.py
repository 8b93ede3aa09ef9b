"""Client side of age assurance: verify once, keep blind-signed tokens locally, redeem one.

The device blinds each token message before it leaves, so the age service signs tokens it
never sees; the finished tokens (with their holder keys) stay in a local JSON wallet. A
redemption presents one token with a holder proof over a fresh challenge, and the wallet
forgets it.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
from nacl.signing import SigningKey

from hearth_crypto import age_token, blind_rsa
from hearth_crypto.age_band import AgeBand
from hearth_proto.hearth.age.v1 import age_pb2, age_pb2_grpc, types_pb2

from .channel import SessionToken, bearer
from .local_state import write_private_json

DEFAULT_BATCH = 30


class NoToken(Exception):
    """The wallet holds no unexpired token of the band asked for."""


@dataclass(frozen=True)
class TestIssuingAuthority:
    """A development issuing authority that signs test identity documents (Ed25519)."""

    __test__ = False  # not a pytest class, despite its name

    signing_key: SigningKey
    name: str = "hearth-dev-authority"

    @classmethod
    def from_seed_file(cls, path: Path, name: str = "hearth-dev-authority") -> TestIssuingAuthority:
        return cls(SigningKey(base64.b64decode(path.read_text().strip())), name)

    def issue(
        self, birth_date: date, *, document_number: str = "", expires_on: date | None = None
    ) -> tuple[bytes, bytes]:
        """A serialised `TestIdentityDocument` and the authority's signature over it."""
        document = age_pb2.TestIdentityDocument(
            authority=self.name,
            document_number=document_number or f"T{uuid.uuid4().hex[:9].upper()}",
            birth_date=birth_date.isoformat(),
            expires_on=(expires_on or date.today() + timedelta(days=3650)).isoformat(),
        ).SerializeToString()
        return document, self.signing_key.sign(document).signature


def synthetic_face(apparent_age: float, size: int = 16) -> bytes:
    """A test image for the development estimator: a PGM whose brightness encodes an age."""
    level = max(0, min(255, round(apparent_age / 50.0 * 255)))
    return f"P5\n{size} {size}\n255\n".encode() + bytes([level]) * (size * size)


class TokenWallet:
    """Finished tokens in a local JSON file (it holds holder secrets: keep it private)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: list[dict[str, Any]] = []
        if path.exists():
            self.entries = list(json.loads(path.read_text())["tokens"])

    def add(self, key: age_pb2.IssuerKey, tokens: Sequence[age_token.Token]) -> None:
        for token in tokens:
            self.entries.append(
                {
                    "band": int(key.band),
                    "method_class": int(key.method_class),
                    "epoch": key.epoch,
                    "not_after": key.not_after.ToDatetime(tzinfo=UTC).isoformat(),
                    "token": token.to_dict(),
                }
            )
        self.save()

    def count(self, band: int | None = None) -> int:
        return sum(1 for e in self.entries if band is None or e["band"] == band)

    def take(self, band: int, now: datetime | None = None) -> age_token.Token:
        """Remove and return an unexpired token of `band` (saved before it is used)."""
        now = now or datetime.now(UTC)
        for i, entry in enumerate(self.entries):
            if entry["band"] == band and datetime.fromisoformat(entry["not_after"]) > now:
                del self.entries[i]
                self.save()
                return age_token.Token.from_dict(entry["token"])
        raise NoToken(f"no unexpired token of band {types_pb2.AgeBand.Name(band)}")  # type: ignore[arg-type]

    def save(self) -> None:
        write_private_json(self.path, {"version": 1, "tokens": self.entries})


def issuer_public(key: age_pb2.IssuerKey) -> age_token.IssuerPublicKey:
    return age_token.IssuerPublicKey(
        AgeBand(key.band), int(key.epoch), blind_rsa.PublicKey.from_der(key.public_key_der)
    )


class AgeClient:
    """One account's age assurance calls, with its session token and its wallet."""

    def __init__(
        self,
        channel: grpc.Channel,
        session_token: SessionToken,
        wallet: TokenWallet,
        *,
        account_id: str = "",
    ) -> None:
        self.stub = age_pb2_grpc.AgeServiceStub(channel)
        self.session_token = session_token
        self.wallet = wallet
        self.account_id = account_id

    @property
    def metadata(self) -> tuple[tuple[str, str]]:
        """Call metadata with a current session token."""
        return bearer(self.session_token)

    def issuer_keys(self) -> list[age_pb2.IssuerKey]:
        response = self.stub.GetIssuerKeys(age_pb2.GetIssuerKeysRequest(), metadata=self.metadata)
        return list(response.keys)

    def issuer_key(self, band: int, method_class: int) -> age_pb2.IssuerKey:
        for key in self.issuer_keys():
            if key.band == band and key.method_class == method_class:
                return key
        raise LookupError("the age service publishes no key for this band and method")

    def start_verification(self, method_class: int) -> str:
        request = age_pb2.StartVerificationRequest(
            request_id=str(uuid.uuid4()),
            method_class=method_class,  # type: ignore[arg-type]
        )
        response: age_pb2.StartVerificationResponse = self.stub.StartVerification(
            request, metadata=self.metadata
        )
        return response.verification_id

    def submit_document(
        self, verification_id: str, document: bytes, signature: bytes
    ) -> age_pb2.AgeDecision:
        request = age_pb2.SubmitDocumentRequest(
            verification_id=verification_id, document=document, signature=signature
        )
        response: age_pb2.SubmitDocumentResponse = self.stub.SubmitDocument(
            request, metadata=self.metadata
        )
        return response.decision

    def submit_face_image(self, verification_id: str, image: bytes) -> age_pb2.AgeDecision:
        request = age_pb2.SubmitFaceImageRequest(verification_id=verification_id, image=image)
        response: age_pb2.SubmitFaceImageResponse = self.stub.SubmitFaceImage(
            request, metadata=self.metadata
        )
        return response.decision

    def vouch(
        self, verification_id: str, band: int, subject_account_id: str
    ) -> age_pb2.AgeDecision:
        """As a vetted practitioner or linked guardian: vouch for the account that opened the
        session (it shares the verification id with the voucher)."""
        request = age_pb2.VouchRequest(
            verification_id=verification_id,
            band=band,  # type: ignore[arg-type]
            subject_account_id=subject_account_id,
        )
        response: age_pb2.VouchResponse = self.stub.Vouch(request, metadata=self.metadata)
        return response.decision

    def obtain_tokens(
        self, verification_id: str, decision: age_pb2.AgeDecision, count: int = DEFAULT_BATCH
    ) -> int:
        """Blind `count` fresh token messages, have them signed, finalise and store them."""
        key = self.issuer_key(decision.band, decision.method_class)
        issuer = issuer_public(key)
        requests = [age_token.create_token_request(issuer) for _ in range(count)]
        response = self.stub.IssueTokens(
            age_pb2.IssueTokensRequest(
                verification_id=verification_id,
                request_id=str(uuid.uuid4()),
                key_id=key.key_id,
                blinded_messages=[r.blinded_message for r in requests],
            ),
            metadata=self.metadata,
        )
        tokens = [
            age_token.finalize_token(r, s)
            for r, s in zip(requests, response.blind_signatures, strict=True)
        ]
        self.wallet.add(key, tokens)
        return len(tokens)

    def presentation(self, token: age_token.Token) -> tuple[bytes, age_token.TokenPresentation]:
        challenge = self.stub.GetRedemptionChallenge(
            age_pb2.GetRedemptionChallengeRequest(), metadata=self.metadata
        ).challenge
        return challenge, token.present(challenge)

    def redeem_token(self, token: age_token.Token, band: int) -> age_pb2.RedeemTokenResponse:
        challenge, shown = self.presentation(token)
        response: age_pb2.RedeemTokenResponse = self.stub.RedeemToken(
            age_pb2.RedeemTokenRequest(
                request_id=str(uuid.uuid4()),
                band=band,  # type: ignore[arg-type]
                challenge=challenge,
                token_message=shown.message,
                randomizer=shown.randomizer,
                signature=shown.signature,
                holder_proof=shown.holder_proof,
            ),
            metadata=self.metadata,
        )
        return response

    def redeem(self, band: int) -> age_pb2.RedeemTokenResponse:
        """Redeem one stored token of `band` for this account."""
        return self.redeem_token(self.wallet.take(band), band)
