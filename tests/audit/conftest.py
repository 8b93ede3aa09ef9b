"""The platform under audit: identity and audit on the session's nats-server, own streams.

Everyone who calls audit here is a real account, registered through identity with an
invitation and logged in with its own device key: the regulator (an auditor), the
safeguarding leads and the data protection officer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hearth_crypto.checkpoint import NoteSigner
from hearth_runtime.embedded_nats import EmbeddedNats
from hearth_runtime.platform import Platform
from hearth_sdk.identity import IdentityClient
from tests.conftest import stream_environ, unique_name
from tests.identity.support import Devices
from tests.support.platform import running

ORIGIN = "test.hearth/audit"
Metadata = tuple[tuple[str, str], ...]
_accounts: dict[tuple[str, str], IdentityClient] = {}


def as_role(platform: Platform, role: str, *, account: str | None = None) -> Metadata:
    """The session of a real, logged-in account of `role`; one account per name (default: one
    per role), staff invited by the operator as `hearth admin invite-staff` does."""
    name = account or role
    key = (str(platform.data_dir), name)
    if key not in _accounts:
        _accounts[key] = Devices(platform, platform.data_dir / "accounts").account(role, name)
    return _accounts[key].metadata()


@pytest.fixture(scope="module")
def log_signer() -> NoteSigner:
    return NoteSigner.generate(ORIGIN)


@pytest.fixture(scope="module")
def platform(
    nats_server: EmbeddedNats, tmp_path_factory: pytest.TempPathFactory, log_signer: NoteSigner
) -> Iterator[Platform]:
    environ = {
        # age is not started here: following a stream that does not exist yet must not matter.
        **stream_environ(unique_name("a"), "identity", "audit", "age", "messaging"),
        "HEARTH_AUDIT_FOLLOW": "identity,age",
        "HEARTH_AUDIT_CHECKPOINT_EVERY": "3",
        "HEARTH_AUDIT_CHECKPOINT_INTERVAL": "0.2",
        "HEARTH_AUDIT_CHECKPOINT_KEY": log_signer.private_key(),
    }
    with running(nats_server, tmp_path_factory, "platform", environ, ["identity", "audit"]) as p:
        for role in ("auditor", "safeguarding_lead", "data_protection_officer"):
            as_role(p, role)  # registered before any test counts what audit has witnessed
        yield p
