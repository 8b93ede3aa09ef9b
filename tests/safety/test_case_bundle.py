"""A case's evidence bundle, as a regulator gets it: the case is a subject of audit's log, so
its trail (report received and triaged, assigned, escalated, acted on, outcome, closed) is
disclosed with two roles' approval and exported as audit's own bundle, which `hearth-audit
verify` checks offline; a tampered copy fails, naming the check. A platform of its own, so
the transparency figures other tests count are not this case's."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hearth_audit.evidence import verify_bundle
from hearth_proto.hearth.audit.v1 import audit_pb2, audit_pb2_grpc
from hearth_proto.hearth.safety.v1 import safety_pb2 as pb
from hearth_runtime.embedded_nats import EmbeddedNats
from hearth_sdk.channel import bearer, connect
from tests.messaging.support import People
from tests.safety.conftest import safety_environ, safety_platform
from tests.safety.team import Team, rid
from tests.support.polling import wait_for

HEARTH_AUDIT = str(Path(sys.executable).parent / "hearth-audit")
STEPS = {
    "hearth.safety.v1.CaseOpened": 1,  # the report received, with its category and triage
    "hearth.safety.v1.CaseAssigned": 1,
    "hearth.safety.v1.CaseEscalated": 1,
    "hearth.safety.v1.CaseActionTaken": 2,
    "hearth.safety.v1.CaseOutcomeRecorded": 1,
    "hearth.safety.v1.CaseClosed": 1,
}


@pytest.fixture(scope="module")
def people(nats_server: EmbeddedNats, tmp_path_factory: pytest.TempPathFactory) -> Iterator[People]:
    with safety_platform(nats_server, tmp_path_factory.mktemp("bundle"), safety_environ()) as (
        _,
        people,
    ):
        yield people


def handled_case(team: Team, subject: str) -> str:
    """A grooming concern about `subject`, worked from report to closure."""
    concern = team.call(
        team.child,
        "RaiseConcern",
        pb.RaiseConcernRequest(
            request_id=rid(),
            note="he asked me to keep our chats secret",
            category="grooming",
            subject_account_id=subject,
        ),
    )
    case_id = str(concern.case_id)
    team.call(
        team.lead,
        "AssignCase",
        pb.AssignCaseRequest(
            request_id=rid(), case_id=case_id, moderator_account_id=team.moderator
        ),
    )
    team.call(
        team.moderator,
        "EscalateCase",
        pb.EscalateCaseRequest(request_id=rid(), case_id=case_id, reason="an adult, secrecy"),
    )
    for kind, referral in (("suspend", ""), ("refer", "childrens_services")):
        team.call(
            team.lead,
            "TakeAction",
            pb.TakeActionRequest(
                request_id=rid(),
                case_id=case_id,
                kind=kind,
                account_ids=[subject],
                referral=referral,
                reason="secrecy with a child",
            ),
        )
    team.call(
        team.lead,
        "RecordOutcome",
        pb.RecordOutcomeRequest(
            request_id=rid(), case_id=case_id, outcome="referred", reason="with the LADO"
        ),
    )
    team.call(
        team.lead,
        "CloseCase",
        pb.CloseCaseRequest(request_id=rid(), case_id=case_id, reason="referred; account held"),
    )
    return case_id


def test_a_cases_bundle_shows_every_step_and_verifies_offline(
    people: People, tmp_path: Path
) -> None:
    team = Team(people, "org-" + uuid.uuid4().hex[:8])
    subject = people.account("practitioner", "18_plus", orgs=(team.org,), vetted=True)
    people.settle()
    team.call(
        team.admin,
        "NameSafeguardingLead",
        pb.NameSafeguardingLeadRequest(
            request_id=rid(), organisation_id=team.org, lead_account_id=team.lead
        ),
    )
    case_id = handled_case(team, subject)

    audit = audit_pb2_grpc.AuditServiceStub(connect(people.platform.endpoint("audit")))
    regulator = bearer(people.token("regulator-" + uuid.uuid4().hex[:6], "auditor"))
    lead = bearer(people.token(team.lead, "safeguarding_lead", "18_plus", (team.org,)))
    dpo = bearer(people.token("dpo-" + uuid.uuid4().hex[:6], "data_protection_officer"))

    def trail() -> audit_pb2.GetTrailResponse:
        answer: audit_pb2.GetTrailResponse = audit.GetTrail(
            audit_pb2.GetTrailRequest(subject_id=case_id), metadata=regulator
        )
        return answer

    def closed_in_trail() -> bool:
        try:
            return "hearth.safety.v1.CaseClosed" in {e.kind for e in trail().entries}
        except Exception:
            return False

    wait_for(closed_in_trail, timeout=30)
    pseudonym = trail().pseudonym
    disclosure_id = audit.RequestDisclosure(
        audit_pb2.RequestDisclosureRequest(
            request_id=rid(), pseudonym=pseudonym, reason="Ofsted inspection of case handling"
        ),
        metadata=regulator,
    ).disclosure_id
    for approver in (lead, dpo):
        audit.ApproveDisclosure(
            audit_pb2.ApproveDisclosureRequest(request_id=rid(), disclosure_id=disclosure_id),
            metadata=approver,
        )
    key = audit.GetCheckpoint(audit_pb2.GetCheckpointRequest(), metadata=regulator).verifier_key
    export = audit_pb2.ExportBundleRequest(disclosure_id=disclosure_id)

    def signed_with_the_close() -> bool:  # a checkpoint that covers the whole case
        bundle = json.loads(audit.ExportBundle(export, metadata=regulator).bundle)
        return "hearth.safety.v1.CaseClosed" in verify_bundle(bundle, trusted_key=key).kinds

    wait_for(signed_with_the_close, timeout=30)
    bundle = json.loads(audit.ExportBundle(export, metadata=regulator).bundle)
    result = verify_bundle(bundle, trusted_key=key)
    assert result.pseudonym == pseudonym
    assert [(stream, subject_id) for stream, subject_id, _ in result.trails] == [
        ("safety", case_id)
    ]
    assert {k: result.kinds.get(k, 0) for k in STEPS} == STEPS
    # The opening event carries the report's category and triage; no content, no note.
    opened = [e for e in bundle["events"] if b"CaseOpened" in base64.b64decode(e["leaf"])]
    leaf = base64.b64decode(opened[0]["leaf"])
    assert b"grooming" in leaf and b"keep our chats secret" not in leaf

    path = tmp_path / "case-bundle.json"
    path.write_text(json.dumps(bundle))
    ok = subprocess.run(
        [HEARTH_AUDIT, "verify", str(path), "--key", key],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stdout
    assert "kind        hearth.safety.v1.CaseClosed: 1" in ok.stdout

    # One step quietly removed (the escalation): the hash chain shows the gap.
    bundle["events"] = [
        e for e in bundle["events"] if b"CaseEscalated" not in base64.b64decode(e["leaf"])
    ]
    path.write_text(json.dumps(bundle))
    failed = subprocess.run(
        [HEARTH_AUDIT, "verify", str(path), "--key", key],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert failed.returncode == 1 and failed.stdout.startswith("FAILED: hash chain"), failed.stdout
