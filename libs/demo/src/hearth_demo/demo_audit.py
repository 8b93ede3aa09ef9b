"""Demo chapter: a regulator checks the audit trail offline, without trusting the operator."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import grpc
from nacl.signing import SigningKey

from hearth_proto.hearth.audit.v1 import audit_pb2, audit_pb2_grpc
from hearth_proto.hearth.identity.v1 import identity_pb2, identity_pb2_grpc
from hearth_runtime.admin import invite, invite_org_admin
from hearth_sdk.channel import connect
from hearth_sdk.identity import IdentityClient

from .demo import DemoContext

ROLE_LEAD = identity_pb2.ROLE_SAFEGUARDING_LEAD
ROLE_DPO = identity_pb2.ROLE_DATA_PROTECTION_OFFICER


def hearth_audit(*args: str) -> subprocess.CompletedProcess[str]:
    """The regulator's own tool, run as a separate process with no platform access."""
    return subprocess.run(
        [sys.executable, "-m", "hearth_audit.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def chapter(ctx: DemoContext) -> None:
    platform = ctx.platform
    identity_channel = connect(platform.endpoint("identity"))
    identity = identity_pb2_grpc.IdentityServiceStub(identity_channel)
    audit = audit_pb2_grpc.AuditServiceStub(connect(platform.endpoint("audit")))
    devices = platform.data_dir / "devices" / "audit"

    def person(name: str, role: identity_pb2.Role.ValueType, code: str) -> IdentityClient:
        client = IdentityClient(identity_channel, devices / f"{name.lower()}.json")
        client.register(role, display_name=name, invitation_code=code)
        client.login()
        return client

    ctx.say(
        "The people audit answers to are real accounts, invited",
        "The operator bootstraps an organisation (`hearth admin invite-org-admin NAME`, run by "
        "whoever holds identity's signing key) and invites a regulator's auditor "
        "(`hearth admin invite-staff auditor`); the organisation's admin invites its "
        "safeguarding lead and its data protection officer. Each registers with a single-use "
        "code and logs in with their own device key.",
    )
    admin = person(
        "Morgan",
        identity_pb2.ROLE_ORG_ADMIN,
        invite_org_admin(identity_channel, platform.signer, "Northgate Children's Services").code,
    )
    (organisation,) = admin.account().organisations

    def invited(role: identity_pb2.Role.ValueType) -> str:
        request = identity_pb2.InviteStaffRequest(organisation_id=organisation, role=role)
        return str(identity.InviteStaff(request, metadata=admin.metadata()).invitation_code)

    inspector = person(
        "Inspector",
        identity_pb2.ROLE_AUDITOR,
        invite(identity_channel, platform.signer, identity_pb2.ROLE_AUDITOR).code,
    )
    asha = person("Asha", identity_pb2.ROLE_SAFEGUARDING_LEAD, invited(ROLE_LEAD))
    tom = person("Tom", identity_pb2.ROLE_DATA_PROTECTION_OFFICER, invited(ROLE_DPO))
    for who, client in (("regulator", inspector), ("lead", asha), ("DPO", tom)):
        role = identity_pb2.Role.Name(client.account().role)
        ctx.show(f"{who:<9} {client.account_id}  {role}")
    regulator, lead, dpo = inspector.metadata(), asha.metadata(), tom.metadata()

    ctx.say(
        "Audit: every event becomes a leaf of a Merkle log with signed checkpoints",
        "The audit service follows identity, age and messaging. Each event (stream, sequence, "
        "subject, headers and the exact stored bytes) is an RFC 6962 leaf; the log signs a "
        "C2SP checkpoint every N events or T seconds, and never two that disagree.",
    )
    registered = identity.RegisterAccount(
        identity_pb2.RegisterAccountRequest(
            request_id="demo-audit-subject",
            role=identity_pb2.ROLE_YOUNG_PERSON,
            device_public_key=bytes(SigningKey.generate().verify_key),
        )
    )
    account_id = registered.account_id

    def trail() -> audit_pb2.GetTrailResponse | None:
        try:
            answer: audit_pb2.GetTrailResponse = audit.GetTrail(
                audit_pb2.GetTrailRequest(subject_id=account_id), metadata=regulator
            )
        except grpc.RpcError:
            return None
        return answer

    ctx.wait_until(lambda: trail() is not None)
    found = trail()
    assert found is not None
    leaf = max(e.index for e in found.entries)

    def checkpoint_covers() -> bool:
        signed = audit.GetCheckpoint(audit_pb2.GetCheckpointRequest(), metadata=regulator)
        return bool(signed.size > leaf)

    ctx.wait_until(checkpoint_covers, timeout=30)
    checkpoint = audit.GetCheckpoint(audit_pb2.GetCheckpointRequest(), metadata=regulator)
    ctx.show(f"log verifier key: {checkpoint.verifier_key}")
    for line in checkpoint.checkpoint.splitlines():
        ctx.show(f"  | {line}")

    ctx.say(
        "The regulator sees a pseudonymous trail, and the read is itself recorded",
        "GetTrail answers by pseudonym (an HMAC under the audit's own key) with metadata only: "
        "no account id, no event content. The read became a leaf of the same log.",
    )
    ctx.show(f"pseudonym {found.pseudonym}")
    for entry in found.entries:
        ctx.show(f"  leaf {entry.index}: {entry.stream} #{entry.sequence} {entry.kind} {entry.day}")

    ctx.say(
        "Disclosure needs a recorded request approved by two distinct roles",
        "The regulator asks, giving a reason; a safeguarding lead and a data protection officer "
        "(two people, two roles) approve. Until then the evidence bundle is refused.",
    )
    disclosure_id = audit.RequestDisclosure(
        audit_pb2.RequestDisclosureRequest(
            request_id="demo-disclosure",
            pseudonym=found.pseudonym,
            reason="regulatory inspection 2026-11",
        ),
        metadata=regulator,
    ).disclosure_id
    export = audit_pb2.ExportBundleRequest(disclosure_id=disclosure_id)
    try:
        audit.ExportBundle(export, metadata=regulator)
    except grpc.RpcError as e:
        ctx.show(f"before approval: {e.code().name}: {e.details()}")
    approve = audit_pb2.ApproveDisclosureRequest(request_id="ok", disclosure_id=disclosure_id)
    first = audit.ApproveDisclosure(approve, metadata=lead)
    second = audit.ApproveDisclosure(approve, metadata=dpo)
    ctx.show(f"approved by {list(first.approved_by_roles)}, then {list(second.approved_by_roles)}")
    bundle = json.loads(audit.ExportBundle(export, metadata=regulator).bundle)
    path = Path(platform.data_dir) / "evidence-bundle.json"
    path.write_text(json.dumps(bundle, indent=1))
    ctx.show(f"bundle: {path.name}, {len(bundle['events'])} event(s), {path.stat().st_size} bytes")

    ctx.say(
        "The regulator verifies the bundle offline with hearth-audit",
        "Signature of the checkpoint, inclusion proof of every event, the per-aggregate hash "
        "chain, all checked by a separate process that never talks to the platform.",
    )
    ctx.show(f"$ hearth-audit verify {path.name} --key {checkpoint.verifier_key}")
    ok = hearth_audit("verify", str(path), "--key", checkpoint.verifier_key)
    for line in ok.stdout.splitlines():
        ctx.show(f"  {line}")
    if ok.returncode != 0:
        raise RuntimeError("the genuine bundle did not verify")

    ctx.say(
        "A tampered copy fails",
        "One byte of the stored event is changed, as an operator editing history would.",
    )
    altered = bytearray(base64.b64decode(bundle["events"][0]["leaf"]))
    altered[-1] ^= 0x01
    bundle["events"][0]["leaf"] = base64.b64encode(bytes(altered)).decode()
    tampered = path.with_name("evidence-bundle-tampered.json")
    tampered.write_text(json.dumps(bundle))
    ctx.show(f"$ hearth-audit verify {tampered.name}")
    failed = hearth_audit("verify", str(tampered))
    ctx.show(f"  {failed.stdout.strip()}  (exit {failed.returncode})")
    if failed.returncode == 0:
        raise RuntimeError("the tampered bundle verified")

    ctx.show("What the platform learned: who read which pseudonymous trail, who approved.")
    ctx.show("What the regulator did not have to trust: the operator's word about the log.")
