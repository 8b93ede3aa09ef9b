"""`hearth admin`: the platform operator's bootstrap, inviting the first staff of the platform.

The operator is not an account and not a role anyone is given: it is whoever holds identity's
session signing key (a Kubernetes Secret in production; `hearth up` generates one under
`var/keys/` in development). Holding that key already lets one sign any session, so the
bootstrap adds no power: `hearth admin invite-org-admin NAME` signs a one-minute token with the
`operator` role and calls identity's `InviteStaff` with it over gRPC, as any client would, and
prints the single-use invitation code. Identity accepts the operator role on `InviteStaff`
alone. Everyone else is then invited by an org admin (or, for platform-wide staff such as a
regulator's auditor, by `hearth admin invite-staff ROLE`) and logs in with their own device.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import grpc

from hearth_proto.hearth.identity.v1 import identity_pb2, identity_pb2_grpc

from .config import ConfigError, Env
from .secret_files import refuse_in_production
from .sessions import SessionSigner, parse_signing_key

OPERATOR = "operator"  # the role an operator token carries, and who it says invited
OPERATOR_TOKEN_LIFETIME = 60  # seconds: long enough for one call, useless if it leaks later
# Role names as sessions carry them; identity decides which of them are staff roles.
ROLES = {
    name.removeprefix("ROLE_").lower(): value
    for name, value in identity_pb2.Role.items()
    if value != identity_pb2.ROLE_UNSPECIFIED
}


@dataclass(frozen=True)
class Invitation:
    code: str
    expires_at: datetime


def operator_metadata(signer: SessionSigner) -> tuple[tuple[str, str]]:
    """Call metadata with a fresh one-minute operator token: the bootstrap's only credential."""
    token = signer.issue(OPERATOR, {OPERATOR}, lifetime=OPERATOR_TOKEN_LIFETIME)
    return (("authorization", f"Bearer {token}"),)


def invite(
    channel: grpc.Channel,
    signer: SessionSigner,
    role: identity_pb2.Role.ValueType,
    *,
    organisation_name: str = "",
    timeout: float = 10.0,
) -> Invitation:
    """Identity's single-use code for one staff member, invited by the operator."""
    stub = identity_pb2_grpc.IdentityServiceStub(channel)
    response = stub.InviteStaff(
        identity_pb2.InviteStaffRequest(role=role, organisation_name=organisation_name),
        metadata=operator_metadata(signer),
        timeout=timeout,
    )
    return Invitation(
        response.invitation_code, response.expires_at.ToDatetime(tzinfo=UTC).replace(microsecond=0)
    )


def invite_org_admin(
    channel: grpc.Channel, signer: SessionSigner, organisation_name: str
) -> Invitation:
    """The code for a new organisation's first org admin; the organisation exists once they
    register with it."""
    return invite(channel, signer, identity_pb2.ROLE_ORG_ADMIN, organisation_name=organisation_name)


def operator_signer(environ: Mapping[str, str], data_dir: Path) -> SessionSigner:
    """HEARTH_SESSION_SIGNING_KEY, or in development the key `hearth up` keeps in `data_dir`."""
    configured = Env(environ).raw("HEARTH_SESSION_SIGNING_KEY")
    if configured:
        return parse_signing_key(configured)
    refuse_in_production(
        environ, "a development signing key", "set HEARTH_SESSION_SIGNING_KEY to identity's key"
    )
    path = data_dir / "keys" / "session-signing.key"
    if not path.exists():
        raise ConfigError(
            f"HEARTH_SESSION_SIGNING_KEY is not set and there is no development key at {path} "
            "(run `hearth up` first, or set HEARTH_DATA_DIR)"
        )
    return parse_signing_key(path.read_text().strip())


def identity_address(given: str | None, data_dir: Path) -> str:
    """--identity, else the address `hearth up` wrote to `data_dir/endpoints.json`."""
    if given:
        return given
    path = data_dir / "endpoints.json"
    try:
        return str(json.loads(path.read_text())["identity"])
    except (OSError, ValueError, KeyError):
        raise ConfigError(
            f"no --identity address given and none in {path} (is `hearth up` running?)"
        ) from None


def run(args: argparse.Namespace) -> int:
    environ = os.environ
    data_dir = Path(Env(environ).text("HEARTH_DATA_DIR", "var"))
    signer = operator_signer(environ, data_dir)
    address = identity_address(args.identity, data_dir)
    if args.action == "invite-org-admin":
        name = args.target.strip()
        if not name:
            print("hearth admin: the organisation's name must not be empty", file=sys.stderr)
            return 2
        role, what = identity_pb2.ROLE_ORG_ADMIN, f"the first org admin of {name!r}"
    else:
        name = ""
        if args.target not in ROLES:
            print(f"hearth admin: ROLE is one of {', '.join(ROLES)}", file=sys.stderr)
            return 2
        role, what = ROLES[args.target], f"a platform-wide {args.target}"
    with grpc.insecure_channel(address) as channel:
        try:
            invitation = invite(channel, signer, role, organisation_name=name)
        except grpc.RpcError as e:
            print(
                f"hearth admin: identity refused: {e.code().name}: {e.details()}", file=sys.stderr
            )
            return 1
    print(invitation.code)
    print(
        f"single-use invitation for {what}, valid until {invitation.expires_at.isoformat()}; "
        "they register with it (RegisterAccount invitation_code)",
        file=sys.stderr,
    )
    return 0


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    admin = commands.add_parser(
        "admin",
        help="operator bootstrap: invite staff with the session signing key",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = admin.add_subparsers(dest="action", required=True)
    org = actions.add_parser("invite-org-admin", help="a new organisation's first org admin")
    org.add_argument("target", metavar="ORG_NAME")
    staff = actions.add_parser("invite-staff", help="platform-wide staff (auditor, ...)")
    staff.add_argument("target", metavar="ROLE", help=", ".join(ROLES))
    for action in (org, staff):
        action.add_argument("--identity", help="identity's address (default: var/endpoints.json)")
    admin.set_defaults(run=run)
