"""Console sessions without a browser: idle timeout, token expiry, a fresh id at sign-in, a
bounded number of anonymous sessions, and the door that admits staff roles only."""

from __future__ import annotations

from pathlib import Path

import pytest
from nacl.signing import SigningKey

from hearth_console.config import ConsoleSettings
from hearth_console.desk import MAX_SESSIONS, Desk
from hearth_console.signin import admit
from hearth_console.upstream import Refused, Upstream
from hearth_console.web import Console
from hearth_runtime.sessions import SessionSigner, SessionVerifier
from tests.support.clock import Clock

SIGNER = SessionSigner("k1", SigningKey.generate())


def console(clock: Clock) -> Console:
    settings = ConsoleSettings(
        http_host="127.0.0.1",
        http_port=0,
        port_configured=True,
        origin="http://localhost:1",
        idle_seconds=60,
        max_form_bytes=1024,
        poll_seconds=10,
        addresses={},
        data_dir=Path("."),
    )
    verifier = SessionVerifier({"k1": SIGNER.public_key}, clock=clock)
    return Console(settings, Desk(60, clock), Upstream({}, Path(".")), verifier.verify, "")


def test_a_session_ends_when_idle_and_when_its_token_expires() -> None:
    clock = Clock()
    desk = console(clock).desk
    anonymous = desk.open()
    clock.advance(59)
    assert desk.find(anonymous.sid) is anonymous  # touched: idle time starts again
    clock.advance(61)
    assert desk.find(anonymous.sid) is None
    signer = SessionSigner("k1", SIGNER.signing_key, clock=clock)
    token = signer.issue("m1", {"moderator"}, lifetime=90)
    staff = console(clock).verify_token(token)
    signed_in = desk.sign_in(desk.open(), token, staff)
    for _ in range(3):
        clock.advance(40)  # never idle, but the token runs out at 90 s
        found = desk.find(signed_in.sid)
    assert found is None


def test_signing_in_replaces_the_anonymous_session_with_a_new_id() -> None:
    clock = Clock()
    desk = console(clock).desk
    anonymous = desk.open()
    token = SessionSigner("k1", SIGNER.signing_key, clock=clock).issue("m1", {"moderator"})
    signed_in = desk.sign_in(anonymous, token, console(clock).verify_token(token))
    assert signed_in.sid != anonymous.sid and signed_in.csrf != anonymous.csrf
    assert desk.find(anonymous.sid) is None
    assert not signed_in.csrf_matches("") and signed_in.csrf_matches(signed_in.csrf)


def test_anonymous_sessions_are_bounded() -> None:
    desk = console(Clock()).desk
    first = desk.open()
    for _ in range(MAX_SESSIONS):
        desk.open()
    assert len(desk._sessions) == MAX_SESSIONS
    assert desk.find(first.sid) is None  # the stalest made room


@pytest.mark.parametrize("role", ["young_person", "child", "guardian", "practitioner"])
def test_only_staff_roles_are_admitted(role: str) -> None:
    clock = Clock()
    front = console(clock)
    token = SessionSigner("k1", SIGNER.signing_key, clock=clock).issue("a1", {role})
    with pytest.raises(Refused) as refused:
        admit(front, token)
    assert (refused.value.status, refused.value.reason) == (403, "NOT_STAFF")
    staff = SessionSigner("k1", SIGNER.signing_key, clock=clock).issue("a2", {"auditor"})
    assert admit(front, staff).account_id == "a2"


def test_a_token_not_signed_by_identity_is_refused() -> None:
    clock = Clock()
    forged = SessionSigner("k1", SigningKey.generate(), clock=clock).issue("a1", {"moderator"})
    with pytest.raises(Refused) as refused:
        admit(console(clock), forged)
    assert (refused.value.status, refused.value.reason) == (401, "SESSION_REFUSED")
