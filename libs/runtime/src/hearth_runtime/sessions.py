"""Short-lived session tokens, signed with Ed25519 by identity and verified offline everywhere.

A token is `v1.<base64url(JSON claims)>.<base64url(signature)>`; the signature covers
`v1.<claims>`, and the claims name the signing key (`kid`), so keys rotate by publishing a new
public key beside the old one. Verification needs only the public keys.

A verified token is remembered until it expires (`SessionVerifier.cache_size` of them): a
client sends the same token on every call, and the Ed25519 check is the dearest part of an
unary call's admission. What a token says cannot change while it is valid; what can (the
account's sessions revoked on erasure) is asked by the access check after verification, on
every call, so a revocation still wins over a remembered token.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from .config import ConfigError
from .secret_files import development_secret

VERSION = "v1"
CLOCK_SKEW = 30  # seconds of clock difference tolerated between services
MAX_TOKEN_BYTES = 4096
VERIFIED_CACHE_SIZE = 50_000  # tokens remembered at once (about 20 MB at most)


class SessionError(Exception):
    """A session token is missing, malformed, forged or expired (UNAUTHENTICATED)."""


@dataclass(frozen=True)
class Session:
    """Who is calling: what a verified token says."""

    account_id: str
    roles: frozenset[str]
    expires_at: int
    age_band: str = ""
    organisations: frozenset[str] = field(default_factory=frozenset)
    key_id: str = ""

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionSigner:
    """Issues session tokens (the identity service holds one)."""

    def __init__(
        self, key_id: str, signing_key: SigningKey, clock: Callable[[], float] = time.time
    ):
        self.key_id = key_id
        self.signing_key = signing_key
        self.clock = clock

    @property
    def public_key(self) -> VerifyKey:
        return self.signing_key.verify_key

    def issue(
        self,
        account_id: str,
        roles: set[str] | frozenset[str],
        *,
        lifetime: int = 900,
        age_band: str = "",
        organisations: set[str] | frozenset[str] = frozenset(),
    ) -> str:
        now = int(self.clock())
        claims = {
            "kid": self.key_id,
            "sub": account_id,
            "roles": sorted(roles),
            "band": age_band,
            "orgs": sorted(organisations),
            "iat": now,
            "exp": now + lifetime,
        }
        signed = f"{VERSION}.{_b64(json.dumps(claims, separators=(',', ':')).encode())}"
        signature = self.signing_key.sign(signed.encode()).signature
        return f"{signed}.{_b64(signature)}"


class SessionVerifier:
    """Verifies tokens offline against the published public keys."""

    def __init__(
        self,
        keys: Mapping[str, VerifyKey],
        clock: Callable[[], float] = time.time,
        *,
        cache_size: int = VERIFIED_CACHE_SIZE,
    ):
        self.keys = dict(keys)
        self.clock = clock
        self.cache_size = cache_size
        # Token -> its session, in the order verified; only tokens that passed are kept.
        self._verified: dict[str, Session] = {}

    def verify(self, token: str) -> Session:
        """The session a token proves; a token verified before is taken from memory until
        it expires (a forged one never is: only what passed the signature is kept)."""
        session = self._verified.get(token)
        if session is not None:
            if self.clock() <= session.expires_at + CLOCK_SKEW:
                return session
            self._verified.pop(token, None)
        session = self._verify(token)
        if self.cache_size:
            while len(self._verified) >= self.cache_size:
                with contextlib.suppress(KeyError, StopIteration, RuntimeError):
                    del self._verified[next(iter(self._verified))]  # the oldest first
            self._verified[token] = session
        return session

    def _verify(self, token: str) -> Session:
        if len(token) > MAX_TOKEN_BYTES:
            raise SessionError("session token is too long")
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != VERSION or not all(map(_B64URL.fullmatch, parts[1:])):
            raise SessionError("malformed session token")
        try:
            claims = _claims(_unb64(parts[1]))
            signature = _unb64(parts[2])
        except (ValueError, binascii.Error):
            raise SessionError("malformed session token") from None
        kid = claims.get("kid")
        key = self.keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise SessionError("session token signed by an unknown key")
        try:
            key.verify(f"{parts[0]}.{parts[1]}".encode(), signature)
        except (BadSignatureError, ValueError):
            raise SessionError("session token signature is invalid") from None
        try:
            expires_at, issued_at = _whole(claims, "exp"), _whole(claims, "iat")
            session = Session(
                account_id=_text(claims, "sub"),
                roles=_texts(claims, "roles"),
                expires_at=expires_at,
                age_band=_text(claims, "band", required=False),
                organisations=_texts(claims, "orgs", required=False),
                key_id=_text(claims, "kid"),
            )
        except (KeyError, TypeError, ValueError):
            raise SessionError("malformed session token claims") from None
        now = self.clock()
        if now > expires_at + CLOCK_SKEW:
            raise SessionError("session token has expired")
        if issued_at > now + CLOCK_SKEW:
            raise SessionError("session token is issued in the future")
        return session


# Claims are parsed before the signature is checked (they name the key), so whatever a forger
# puts there must be cheap and harmless to read: bounded size, nesting, counts and lengths,
# whole numbers in range, no floats, no duplicate names.
_B64URL = re.compile(r"[A-Za-z0-9_-]+")
MAX_DEPTH = 2  # the claims object and the lists in it
MAX_ITEMS = 64  # roles, organisations
MAX_TEXT = 128  # characters in any one claim text
MAX_SECONDS = 2**40  # far beyond any real expiry, far inside every integer type
Claims = dict[str, object]


def _claims(data: bytes) -> Claims:
    text = data.decode("utf-8")  # UnicodeDecodeError is a ValueError
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            escaped, in_string = (False, True) if escaped else (char == "\\", char != '"')
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_DEPTH:
                raise ValueError("claims nested too deep")
        elif char in "]}":
            depth -= 1
    claims = json.loads(
        text, object_pairs_hook=_unique, parse_float=_no_float, parse_constant=_no_float
    )
    if not isinstance(claims, dict):
        raise ValueError("claims are not an object")
    return claims


def _unique(pairs: list[tuple[str, object]]) -> Claims:
    claims = dict(pairs)
    if len(claims) != len(pairs):
        raise ValueError("a claim is named twice")
    return claims


def _no_float(text: str) -> object:
    raise ValueError("claims hold whole numbers only")


def _whole(claims: Claims, name: str) -> int:
    value = claims[name]
    if type(value) is not int or not 0 <= value <= MAX_SECONDS:
        raise ValueError(f"{name} is not a time in range")
    return value


def _text(claims: Claims, name: str, *, required: bool = True) -> str:
    value = claims[name] if required else claims.get(name, "")
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise ValueError(f"{name} is not a short text")
    return value


def _texts(claims: Claims, name: str, *, required: bool = True) -> frozenset[str]:
    values = claims[name] if required else claims.get(name, [])
    if not isinstance(values, list) or len(values) > MAX_ITEMS:
        raise ValueError(f"{name} is not a short list")
    return frozenset(_text({name: v}, name) for v in values)


def parse_public_keys(spec: str) -> dict[str, VerifyKey]:
    """`kid:base64key,kid2:base64key` as in HEARTH_SESSION_PUBLIC_KEYS."""
    keys: dict[str, VerifyKey] = {}
    for item in filter(None, (s.strip() for s in spec.split(","))):
        kid, _, encoded = item.partition(":")
        try:
            keys[kid] = VerifyKey(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            raise ConfigError(
                f"HEARTH_SESSION_PUBLIC_KEYS entry {kid!r} is not kid:base64(32-byte key)"
            ) from None
    if not keys:
        raise ConfigError("HEARTH_SESSION_PUBLIC_KEYS names no key")
    return keys


def parse_signing_key(spec: str) -> SessionSigner:
    """`kid:base64seed` as in HEARTH_SESSION_SIGNING_KEY."""
    kid, _, encoded = spec.partition(":")
    try:
        return SessionSigner(kid, SigningKey(base64.b64decode(encoded, validate=True)))
    except (binascii.Error, ValueError):
        raise ConfigError("HEARTH_SESSION_SIGNING_KEY is not kid:base64(32-byte seed)") from None


def format_signing_key(signer: SessionSigner) -> str:
    return f"{signer.key_id}:{base64.b64encode(bytes(signer.signing_key)).decode()}"


def format_public_keys(keys: Mapping[str, VerifyKey]) -> str:
    return ",".join(f"{kid}:{base64.b64encode(bytes(k)).decode()}" for kid, k in keys.items())


def development_signer(data_dir: Path, environ: Mapping[str, str]) -> SessionSigner:
    """Development only: a signing key generated once and kept under the data directory."""

    def generate() -> bytes:
        return format_signing_key(
            SessionSigner(f"dev-{int(time.time())}", SigningKey.generate())
        ).encode()

    kept = development_secret(
        environ,
        data_dir / "keys" / "session-signing.key",
        generate,
        variable="HEARTH_SESSION_SIGNING_KEY",
    )
    return parse_signing_key(kept.decode().strip())
