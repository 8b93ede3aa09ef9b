"""`make demo` runs the platform's main job end to end: run it as a user would."""

from __future__ import annotations

import re
import subprocess
import sys


def test_demo_runs_to_the_end_and_tells_the_story() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "hearth_runtime.cli", "demo"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    out = result.stdout
    assert result.returncode == 0, result.stderr[-3000:]
    assert "decoded: role=ROLE_YOUNG_PERSON request_id=demo-registration-1" in out
    # Step 3 shows identity's stream: the registration first, no follower positions before it.
    step3 = out.split("== 3.", 1)[1].split("== 4.", 1)[0]
    shown = [
        line.strip() for line in step3.splitlines() if line.strip().startswith(("seq", "topic"))
    ]
    assert shown[0].startswith("seq ") and "hearth.identity.events." in shown[0]
    assert shown[1].startswith("topic hearth.identity.v1.AccountRegistered ")
    assert "tracking records: 0" in out
    assert "identity events taken in = 1" in out
    assert "(same: True); audit still = 1" in out
    assert "without a token: UNAUTHENTICATED" in out
    assert "PERMISSION_DENIED" in out
    assert "CONSUMER follow identity hearth.identity.v1.AccountRegistered  [audit]" in out
    # Identity's chapter: a guardian link in force, a vetting, nothing personal in the clear.
    assert "child consents:    linked=True" in out
    assert "names or contact details in the clear anywhere in the stream: none" in out
    assert "their unexpired session is refused at once: UNAUTHENTICATED (SESSION_REVOKED)" in out
    # Messaging's chapter, on identity's real events: house rules first, then the policy decides.
    assert "before accepting the house rules: FAILED_PRECONDITION" in out
    assert "contact policy: allowed (vetted_practitioner_same_org)" in out
    assert "refused: PERMISSION_DENIED, reason code 'NOT_ALLOWED'" in out
    assert "Mia's tablet decrypts: 'Dinner at six, love you'" in out
    # Scanner's chapter: risk builds step by step, a warning with help before replying, the
    # child's reply not blocked, a listed image blurred, nothing on the wire while scanning.
    risks = re.findall(r"conversation risk ([0-9.]+) \((\w+)\)", out)
    assert len(risks) == 3
    assert [float(r) for r, _ in risks] == sorted(float(r) for r, _ in risks)
    assert [level for _, level in risks] == ["low", "raised", "high"]
    assert "Ava sees, before replying:" in out
    assert "Childline: call 0800 1111" in out and "childline.org.uk" in out and "call 999" in out
    assert "may send: True" in out
    assert re.search(r"match: pdq distance \d+ on demo-known-images; shown blurred: True", out)
    assert "bytes on the wire while scanning: 0" in out
    assert "what left the device: nothing" in out
    # Safety's chapter: the report verifies, a high case goes to the moderator on shift, the
    # lead suspends and refers, messaging refuses, Childline out of hours, audit's figures.
    assert re.search(r"report verified: 3 franked messages; case \S+ severity high", out)
    assert "assigned to: Sam" in out
    assert "Sam tries to suspend: PERMISSION_DENIED NEEDS_SAFEGUARDING_LEAD" in out
    assert "escalated to the lead: Lee" in out
    assert "messaging refuses Rob's next message: PERMISSION_DENIED ACCOUNT_SUSPENDED" in out
    assert "reports read now: False" in out and "Childline free on 0800 1111" in out
    assert "ReportReceived/category=grooming: 1" in out
    assert "CaseActionTaken/referral=police: 1" in out
    assert re.search(r"time to first action: median \d+ ms, p90 \d+ ms", out)
    # The case's bundle: every step, verified offline; a step taken out fails the chain.
    assert re.search(r"OK: evidence bundle for ps-\S+ verified in .*\n.*\n.*7 events", out)
    assert "kind        hearth.safety.v1.CaseEscalated: 1" in out
    assert re.search(r"without the escalation: FAILED: hash chain: .*\(exit 1\)", out)
    # The records chapter: the keeper required, both told, a coroner's package verifies offline
    # and a tampered one fails.
    assert "PERMISSION_DENIED RECORD_KEEPER_REQUIRED: add keeper" in out
    assert "Jo sees: This conversation is recorded by your organisation" in out
    assert "records kept: 2" in out
    assert "Jo receives 2 record(s)" in out
    assert "none added, altered or left out of the scope" in out
    assert "tampered: FAILED: altered: record 1" in out
    assert out.rstrip().endswith("Demo complete.")
