"""A platform with the console for the browser tests, and Chromium to drive it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from hearth_runtime.embedded_nats import EmbeddedNats, free_port
from hearth_runtime.platform import Platform
from tests.conftest import unique_name
from tests.messaging.conftest import messaging_environ
from tests.support.platform import running

from .browser import system_chromium
from .club import Club

SERVICES = ["identity", "age", "messaging", "safety", "audit", "console"]


@pytest.fixture(scope="module")
def console_environ() -> dict[str, str]:
    prefix = unique_name("c")
    port = free_port()
    origin = f"http://localhost:{port}"
    return {
        **messaging_environ(prefix),
        **{
            f"HEARTH_{app.upper()}_{what}": f"{prefix}_{app}".upper()
            if what == "STREAM"
            else f"{prefix}.{app}"
            for app in ("age", "safety", "audit")
            for what in ("STREAM", "SUBJECT_PREFIX")
        },
        "HEARTH_CONSOLE_HTTP_PORT": str(port),
        "HEARTH_CONSOLE_POLL_SECONDS": "2",
        # Tokens shorter than the story: the console renews them as staff work (RenewSession).
        "HEARTH_IDENTITY_SESSION_LIFETIME": "120",
        # Identity checks each passkey ceremony against the console's origin.
        "HEARTH_IDENTITY_WEBAUTHN_ORIGINS": origin,
    }


@pytest.fixture(scope="module")
def platform(
    nats_server: EmbeddedNats,
    tmp_path_factory: pytest.TempPathFactory,
    console_environ: dict[str, str],
) -> Iterator[Platform]:
    with running(nats_server, tmp_path_factory, "console", console_environ, SERVICES) as p:
        yield p


@pytest.fixture(scope="module")
def base(platform: Platform) -> str:
    return platform.hosts["console"].parts.web_address


@pytest.fixture(scope="module")
def club(platform: Platform, tmp_path_factory: pytest.TempPathFactory) -> Club:
    return Club(platform, tmp_path_factory.mktemp("devices"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with system_chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Screenshots of each page; `HEARTH_CONSOLE_SCREENSHOTS=docs/images` keeps the README's."""
    kept = os.environ.get("HEARTH_CONSOLE_SCREENSHOTS")
    if kept:
        path = Path(kept)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("screenshots")
