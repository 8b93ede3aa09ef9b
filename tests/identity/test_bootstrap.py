"""The operator's bootstrap as an operator runs it: `hearth admin invite-org-admin ORG_NAME`
prints a single-use code; the invitee registers with it and their organisation exists."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import grpc

from hearth_proto.hearth.identity.v1 import identity_pb2
from hearth_runtime.platform import Platform
from hearth_runtime.sessions import format_signing_key
from tests.identity.support import Devices
from tests.support.status import code_of

HEARTH = str(Path(sys.executable).parent / "hearth")


def hearth(*args: str, **environ: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("HEARTH_")}
    return subprocess.run(
        [HEARTH, *args], env={**base, **environ}, capture_output=True, text=True, timeout=60
    )


def test_invite_org_admin_prints_a_code_the_first_admin_registers_with(
    platform: Platform, devices: Devices
) -> None:
    done = hearth(
        "admin", "invite-org-admin", "Hill Farm School", HEARTH_DATA_DIR=str(platform.data_dir)
    )
    assert done.returncode == 0, done.stderr
    code = done.stdout.strip()
    assert len(code) >= 32 and "\n" not in code
    assert "Hill Farm School" in done.stderr and "single-use" in done.stderr
    admin = devices.client("hill-farm-admin")
    admin.register(identity_pb2.ROLE_ORG_ADMIN, invitation_code=code)
    admin.login()
    assert len(admin.account().organisations) == 1
    again = devices.client("hill-farm-admin-2")
    status, details = code_of(
        lambda: again.register(identity_pb2.ROLE_ORG_ADMIN, invitation_code=code)
    )
    assert (status, "already been used" in details) == (grpc.StatusCode.FAILED_PRECONDITION, True)


def test_invite_staff_with_the_configured_key_and_address(
    platform: Platform, devices: Devices, tmp_path: Path
) -> None:
    done = hearth(
        "admin",
        "invite-staff",
        "data_protection_officer",
        "--identity",
        platform.endpoint("identity"),
        HEARTH_DATA_DIR=str(tmp_path),  # no development key here: the configured one is used
        HEARTH_SESSION_SIGNING_KEY=format_signing_key(platform.signer),
    )
    assert done.returncode == 0, done.stderr
    dpo = devices.client("platform-dpo")
    dpo.register(identity_pb2.ROLE_DATA_PROTECTION_OFFICER, invitation_code=done.stdout.strip())
    assert dpo.account().role == identity_pb2.ROLE_DATA_PROTECTION_OFFICER


def test_without_the_signing_key_nothing_is_invited(platform: Platform, tmp_path: Path) -> None:
    address = platform.endpoint("identity")
    missing = hearth(
        "admin", "invite-org-admin", "X", "--identity", address, HEARTH_DATA_DIR=str(tmp_path)
    )
    assert missing.returncode == 2 and "HEARTH_SESSION_SIGNING_KEY" in missing.stderr
    production = hearth(
        "admin",
        "invite-org-admin",
        "X",
        "--identity",
        address,
        HEARTH_DATA_DIR=str(platform.data_dir),
        HEARTH_ENV="production",
    )
    assert production.returncode == 2
    assert "HEARTH_ENV=production" in production.stderr
    assert "HEARTH_SESSION_SIGNING_KEY" in production.stderr
    refused = hearth("admin", "invite-staff", "child", HEARTH_DATA_DIR=str(platform.data_dir))
    assert refused.returncode == 1 and "staff role" in refused.stderr
    assert not missing.stdout and not production.stdout and not refused.stdout
