"""Scanning sends nothing: with every socket refused, the whole on-device path still runs,
and the scanner's modules do not even import a network library."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest
from nacl.signing import SigningKey

from hearth_scanner.images import fingerprint
from hearth_scanner.packs import build_pack
from hearth_scanner.taxonomy import Participant
from hearth_sdk.safety import SafetyGuard
from tests.scanner.support import encoded, picture


class NetworkUsed(AssertionError):
    pass


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    attempts: list[str] = []

    def refuse(name: str):  # type: ignore[no-untyped-def]
        def refused(*args: object, **kwargs: object) -> None:
            attempts.append(name)
            raise NetworkUsed(f"socket.{name} called while scanning")

        return refused

    for name in ("connect", "connect_ex", "send", "sendall", "sendto", "sendmsg", "bind"):
        monkeypatch.setattr(socket.socket, name, refuse(name))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    yield attempts


def test_scanning_text_images_and_packs_uses_no_socket(no_network: list[str]) -> None:
    key = SigningKey.generate()
    listed = fingerprint(encoded(picture(21)))
    pack = build_pack(
        key,
        {
            "version": 1,
            "issued_at": 0,
            "expires_at": 4e9,
            "previous_digest": "",
            "hash_lists": {"l": {"mode": "full", "pdq": [[listed.pdq, 100, "x"]]}},
        },
    )
    people = {"Mia": Participant("child", "under_13"), "Dean": Participant("adult", "18_plus")}
    guard = SafetyGuard(people["Mia"], trusted_pack_key=key.verify_key)
    guard.install_pack(pack, now=1.0)
    for text in ("ur so mature", "dont tell ur mum", "add me on snap 07911 123456"):
        guard.incoming("c", "Dean", text, people)
    guard.outgoing("c", "Mia", "i want to die", people)
    assert guard.image(encoded(picture(21), "JPEG", quality=70)).blurred
    assert no_network == []


def test_the_scanner_imports_no_network_library() -> None:
    probe = (
        "import sys\n"
        "import hearth_scanner.scanner, hearth_scanner.conversation, hearth_scanner.images\n"
        "import hearth_scanner.packs, hearth_scanner.policy, hearth_scanner.shipped\n"
        "bad = {'socket', '_socket', 'ssl', 'http.client', 'urllib.request', 'grpc', 'nats'}\n"
        "print(sorted(bad & set(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
