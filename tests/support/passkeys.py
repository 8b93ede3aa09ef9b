"""A software WebAuthn authenticator with real cryptography, for tests of passkey sign-in.

It answers the options identity gives (the WebAuthn JSON encoding) as a browser and a
platform authenticator would (WebAuthn Level 3 §6.1 authenticator data, §6.5 attestation
format "none", §7 client data; COSE_Key per RFC 9052): an EC P-256 key per credential,
ECDSA-SHA256 signatures, a signature counter that advances by `step` at each assertion.
The CBOR here is its own small encoder, so the service's decoding is checked against an
independent one. Knobs make the answers a hostile client would send: another origin, another
RP id, no user verification, a counter set back (a clone), a signature by another key.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import secrets
import struct
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40
ES256 = -7


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def cbor(value: Any) -> bytes:
    """Canonical CBOR (RFC 8949 §4.2.1) of ints, bytes, text, lists and maps."""

    def head(major: int, n: int) -> bytes:
        if n < 24:
            return bytes([major << 5 | n])
        for extra, form in ((24, ">B"), (25, ">H"), (26, ">I"), (27, ">Q")):
            if n < 1 << (8 * struct.calcsize(form)):
                return bytes([major << 5 | extra]) + struct.pack(form, n)
        raise ValueError("integer too large")

    if isinstance(value, bool):
        return b"\xf5" if value else b"\xf4"
    if isinstance(value, int):
        return head(0, value) if value >= 0 else head(1, -1 - value)
    if isinstance(value, bytes):
        return head(2, len(value)) + value
    if isinstance(value, str):
        encoded = value.encode()
        return head(3, len(encoded)) + encoded
    if isinstance(value, list):
        return head(4, len(value)) + b"".join(cbor(v) for v in value)
    if isinstance(value, dict):
        items = sorted((cbor(k), cbor(v)) for k, v in value.items())
        return head(5, len(items)) + b"".join(k + v for k, v in items)
    raise TypeError(f"no CBOR for {type(value).__name__}")


def cose_key(public_key: ec.EllipticCurvePublicKey) -> bytes:
    """An EC2 P-256 ES256 COSE_Key."""
    numbers = public_key.public_numbers()
    return cbor(
        {
            1: 2,  # kty: EC2
            3: ES256,
            -1: 1,  # crv: P-256
            -2: numbers.x.to_bytes(32, "big"),
            -3: numbers.y.to_bytes(32, "big"),
        }
    )


@dataclass
class Credential:
    credential_id: bytes
    private_key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0


@dataclass
class SoftAuthenticator:
    """A platform authenticator holding discoverable credentials, and the browser around it.

    `origin` is what the browser puts in client data; `rp_id`, when set, overrides the RP id
    the authenticator hashes into its data (a response made for another site)."""

    origin: str
    rp_id: str | None = None
    user_verified: bool = True
    step: int = 1
    aaguid: bytes = bytes(16)
    credentials: dict[bytes, Credential] = field(default_factory=dict)
    forge_with: ec.EllipticCurvePrivateKey | None = None

    def clone(self) -> SoftAuthenticator:
        """A copy holding the same keys and counters (what cloning a security key yields)."""
        return copy.deepcopy(self)

    def _client_data(self, kind: str, challenge: str) -> bytes:
        document = {"type": kind, "challenge": challenge, "origin": self.origin}
        return json.dumps({**document, "crossOrigin": False}, separators=(",", ":")).encode()

    def _flags(self, extra: int = 0) -> int:
        return UP | (UV if self.user_verified else 0) | extra

    def create(self, options_json: str, credential_id: bytes | None = None) -> str:
        """navigator.credentials.create(): RegistrationResponseJSON for the options; with
        `credential_id`, a credential it already holds answers again (a misbehaving one)."""
        options = json.loads(options_json)
        rp_id = self.rp_id or options["rp"]["id"]
        excluded = {unb64url(c["id"]) for c in options.get("excludeCredentials", [])}
        if excluded & set(self.credentials):
            raise ValueError("InvalidStateError: a credential of this authenticator is excluded")
        if not any(p["alg"] == ES256 for p in options["pubKeyCredParams"]):
            raise ValueError("NotSupportedError: ES256 not among pubKeyCredParams")
        if credential_id is None:
            credential_id = secrets.token_bytes(32)
            credential = Credential(
                credential_id,
                ec.generate_private_key(ec.SECP256R1()),
                rp_id,
                unb64url(options["user"]["id"]),
            )
            self.credentials[credential_id] = credential
        credential = self.credentials[credential_id]
        key = credential.private_key
        attested = (
            self.aaguid
            + struct.pack(">H", len(credential_id))
            + credential_id
            + cose_key(key.public_key())
        )
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + bytes([self._flags(AT)])
            + struct.pack(">I", credential.sign_count)
            + attested
        )
        attestation = cbor({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", options["challenge"])
        return json.dumps(
            {
                "id": b64url(credential_id),
                "rawId": b64url(credential_id),
                "type": "public-key",
                "response": {
                    "clientDataJSON": b64url(client_data),
                    "attestationObject": b64url(attestation),
                    "transports": ["internal"],
                },
                "authenticatorAttachment": "platform",
                "clientExtensionResults": {},
            }
        )

    def get(self, options_json: str, credential_id: bytes | None = None) -> str:
        """navigator.credentials.get(): AuthenticationResponseJSON by `credential_id`, else by
        the first credential the options allow (any of the RP's, when they allow all)."""
        options = json.loads(options_json)
        credential = self.credentials[credential_id or self._choose(options)]
        rp_id = self.rp_id or options["rpId"]
        credential.sign_count += self.step
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + bytes([self._flags()])
            + struct.pack(">I", credential.sign_count)
        )
        client_data = self._client_data("webauthn.get", options["challenge"])
        signer = self.forge_with or credential.private_key
        signature = signer.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return json.dumps(
            {
                "id": b64url(credential.credential_id),
                "rawId": b64url(credential.credential_id),
                "type": "public-key",
                "response": {
                    "clientDataJSON": b64url(client_data),
                    "authenticatorData": b64url(auth_data),
                    "signature": b64url(signature),
                    "userHandle": b64url(credential.user_handle),
                },
                "authenticatorAttachment": "platform",
                "clientExtensionResults": {},
            }
        )

    def _choose(self, options: dict[str, Any]) -> bytes:
        allowed = [unb64url(c["id"]) for c in options.get("allowCredentials", [])]
        for credential_id, credential in self.credentials.items():
            if credential.rp_id == options["rpId"] and (not allowed or credential_id in allowed):
                return credential_id
        raise LookupError("NotAllowedError: no credential of this authenticator is allowed")
