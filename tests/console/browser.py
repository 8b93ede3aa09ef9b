"""Debian's Chromium driven by Playwright (never Playwright's own browser download), with
Chromium's virtual WebAuthn authenticator for passkeys and axe-core for accessibility."""

from __future__ import annotations

import base64
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, CDPSession, Page, sync_playwright

# Without the background-networking flags Chromium keeps dialling out of this closed network.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERIOUS = ("serious", "critical")


@contextmanager
def system_chromium() -> Iterator[Browser]:
    path = shutil.which("chromium")  # Debian's; `make browser-tools` installs it
    if path is None:  # a failure with its reason, never a skip
        raise RuntimeError(
            "Debian's chromium is not installed: `make browser-tools` (as root) installs it"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, headless=True, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


class Person:
    """One staff member's browser: their own context (cookies) and a virtual authenticator
    that holds their passkey (resident, user-verifying, presence answered at once)."""

    def __init__(self, browser: Browser, base: str, name: str, shots: Path) -> None:
        self.name, self.base, self.shots = name, base, shots
        self.context: BrowserContext = browser.new_context(base_url=base)
        self.page: Page = self.context.new_page()
        self.cdp: CDPSession = self.context.new_cdp_session(self.page)
        self.cdp.send("WebAuthn.enable")
        added = self.cdp.send(
            "WebAuthn.addVirtualAuthenticator",
            {
                "options": {
                    "protocol": "ctap2",
                    "transport": "internal",
                    "hasResidentKey": True,
                    "hasUserVerification": True,
                    "isUserVerified": True,
                    "automaticPresenceSimulation": True,
                }
            },
        )
        self.authenticator = added["authenticatorId"]

    def credentials(self) -> list[dict[str, Any]]:
        found = self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.authenticator})
        credentials: list[dict[str, Any]] = found["credentials"]
        return credentials

    def account_id(self) -> str:
        """The account the passkey signs in as: identity makes the user handle its id."""
        (credential,) = self.credentials()
        return str(uuid.UUID(bytes=base64.b64decode(credential["userHandle"])))

    def shot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        self.context.close()


def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each."""
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v.get("impact") in SERIOUS
    ]
