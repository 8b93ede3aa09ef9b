"""Hostile sessions: missing, malformed, expired, forged and odd-claim tokens, every role.

Where the oddity is in the claims, they are signed with the platform's real key, so it is the
verifier's parsing of claims that is tried, not only the signature check.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator, Sequence

from nacl.signing import SigningKey

from hearth_runtime.sessions import SessionSigner

Metadata = tuple[tuple[str, str], ...]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _signed(signer: SessionSigner, claims_json: str) -> str:
    signed = f"v1.{_b64(claims_json.encode())}"
    return f"{signed}.{_b64(signer.signing_key.sign(signed.encode()).signature)}"


def bearer(token: str) -> Metadata:
    return (("authorization", f"Bearer {token}"),)


def sessions(signer: SessionSigner, account: str) -> Iterator[tuple[str, Metadata]]:
    """No session, malformed, expired, forged and odd-claim sessions (the claims are signed
    with the platform's real key where the oddity is in the claims)."""
    now = int(time.time())
    kid = signer.key_id
    claims = {"kid": kid, "sub": account, "roles": ["org_admin"], "iat": now, "exp": now + 600}

    def odd(**changes: object) -> str:
        return _signed(signer, json.dumps({**claims, **changes}))

    yield "no session", ()
    yield "empty bearer", (("authorization", "Bearer "),)
    yield "not a bearer", (("authorization", "Basic dXNlcjpwYXNz"),)
    yield "malformed", bearer("not.a.token")
    yield "wrong version", bearer("v9." + signer.issue(account, {"org_admin"}).split(".", 1)[1])
    yield (
        "expired",
        bearer(
            SessionSigner(kid, signer.signing_key, lambda: now - 7200).issue(account, {"org_admin"})
        ),
    )
    yield "issued in the future", bearer(odd(iat=now + 86400))
    yield (
        "forged (other key, same kid)",
        bearer(SessionSigner(kid, SigningKey.generate()).issue(account, {"org_admin"})),
    )
    yield (
        "unknown key",
        bearer(SessionSigner("nobody", SigningKey.generate()).issue(account, {"org_admin"})),
    )
    nested = "[" * 3000 + "]" * 3000
    yield (
        "claims nested 3000 deep",
        bearer(_signed(signer, json.dumps(claims)[:-1] + f',"x":{nested}}}')),
    )
    yield (
        "expiry 1e400",
        bearer(_signed(signer, json.dumps(claims).replace(f'"exp": {now + 600}', '"exp": 1e400'))),
    )
    yield "expiry as text", bearer(odd(exp=str(now + 600)))
    yield "expiry negative", bearer(odd(exp=-1))
    yield "expiry 2^70", bearer(odd(exp=2**70))
    yield "roles a string", bearer(odd(roles="org_admin"))
    yield "roles of numbers", bearer(odd(roles=[1, 2]))
    yield "subject a list", bearer(odd(sub=[account]))
    yield "claims an array", bearer(_signed(signer, json.dumps([claims])))
    yield "duplicate claim", bearer(_signed(signer, json.dumps(claims)[:-1] + ', "sub": "other"}'))
    yield "huge token", bearer("v1." + "A" * 100_000 + ".AAAA")
    valid = signer.issue(account, {"org_admin"})
    yield "duplicated authorization header", bearer(valid) + bearer(valid)


def roles_sessions(
    signer: SessionSigner, account: str, roles: Sequence[str]
) -> Iterator[tuple[str, Metadata]]:
    for role in roles:
        yield role, bearer(signer.issue(account, {role}))
    yield "no role", bearer(signer.issue(account, set()))
