"""The console in Debian's Chromium, passkeys in Chromium's virtual authenticator, against a
real platform: staff enrol and sign in with passkeys; a moderator takes the top case, reads
the verified context and escalates; the lead suspends and refers; the moderator's shift end is
refused while a concern is unreported, then ends with a handover that the next moderator
reads; a young person cannot sign in; a forged post without the CSRF token is refused. Every
page is checked with axe-core and saved as a screenshot."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from hearth_proto.hearth.identity.v1 import identity_pb2
from hearth_runtime.platform import Platform

from .browser import Person, serious_violations
from .club import GROOMING, Club

pytestmark = pytest.mark.timeout(600)


def accessible(page: Page, what: str) -> None:
    found = serious_violations(page)
    assert not found, f"{what}: axe-core found {found}"


def enrol(person: Person, code: str) -> None:
    """Enrol a passkey with an invitation: the virtual authenticator creates it."""
    page = person.page
    page.goto("/enrol")
    accessible(page, "enrol")
    page.get_by_label("Invitation code").fill(code)
    page.get_by_label("Your name").fill(person.name)
    page.get_by_role("button", name="Create a passkey and sign in").click()
    page.wait_for_url(re.compile(r"/(queue|settings|transparency)"))
    assert len(person.credentials()) == 1  # the passkey lives in the authenticator


def sign_in(person: Person) -> None:
    page = person.page
    page.goto("/signin")
    accessible(page, "sign-in")
    page.get_by_role("button", name="Sign in with a passkey").focus()
    page.keyboard.press("Enter")  # keyboard only
    page.wait_for_url(re.compile(r"/(queue|settings|transparency)"))


class Story:
    """The people of the story, each in a browser of their own."""

    def __init__(self, browser: Browser, base: str, club: Club, shots: Path) -> None:
        self.club = club
        self.sam = Person(browser, base, "Sam", shots)  # moderator
        self.lee = Person(browser, base, "Lee", shots)  # safeguarding lead
        self.max = Person(browser, base, "Max", shots)  # the next moderator
        self.ava = Person(browser, base, "Ava", shots)  # a young person
        self.case_id = ""

    def close(self) -> None:
        for person in (self.sam, self.lee, self.max, self.ava):
            person.close()


@pytest.fixture(scope="module")
def story(browser: Browser, base: str, club: Club, shots: Path) -> Iterator[Story]:
    story = Story(browser, base, club, shots)
    yield story
    story.close()


def test_staff_enrol_passkeys_and_the_moderator_takes_and_escalates_the_top_case(
    story: Story, club: Club
) -> None:
    enrol(story.sam, club.invitation(identity_pb2.ROLE_MODERATOR))
    enrol(story.lee, club.invitation(identity_pb2.ROLE_SAFEGUARDING_LEAD))
    # The session cookie is HttpOnly: the page's scripts cannot read it.
    assert "hearth_console" not in story.lee.page.evaluate("document.cookie")
    club.name_lead(story.lee.account_id())
    sam = story.sam.page
    sam.goto("/shift")
    accessible(sam, "shift (off)")
    sam.get_by_role("button", name="Start my shift").click()
    expect(sam.get_by_role("status").first).to_contain_text("You are on shift")
    story.sam.shot("shift-on")

    filed = club.report_grooming()
    story.case_id = filed.case_id
    sam.goto("/queue")
    top = sam.locator("#queue-rows tr").first
    expect(top).to_contain_text(filed.case_id[:8])
    expect(top).to_contain_text("High")
    expect(top).to_contain_text("Grooming")  # the opening report's category
    expect(top).to_contain_text("You")
    accessible(sam, "queue")
    sam.goto("/queue?category=spam")
    expect(sam.locator("#queue-rows")).to_contain_text("No open cases match these filters.")
    sam.get_by_label("Category").select_option("grooming")
    sam.get_by_role("button", name="Apply filters").click()
    top = sam.locator("#queue-rows tr").first
    expect(top).to_contain_text(filed.case_id[:8])
    story.sam.shot("queue")
    top.get_by_role("link").click()
    sam.wait_for_url(f"**/case/{filed.case_id}")
    messages = sam.locator(".message")
    expect(messages).to_have_count(len(GROOMING))
    expect(messages.last).to_contain_text(GROOMING[-1])
    expect(messages.last).to_contain_text("Reported message")
    expect(sam.locator(".verification")).to_have_count(len(GROOMING))
    expect(messages.first).to_contain_text("Franking verified · received by the reporter")
    expect(sam.get_by_text("he wants me to keep secrets")).to_be_visible()
    accessible(sam, "case")
    story.sam.shot("case")
    # A moderator may not suspend: safety refuses, and the page says why.
    sam.get_by_label("Suspend: no sending").check()
    sam.get_by_label("Reason for the action").fill("grooming")
    sam.get_by_label("I confirm this action").check()
    sam.get_by_role("button", name="Take the action").click()
    expect(sam.locator(".error-summary")).to_contain_text("NEEDS_SAFEGUARDING_LEAD")
    sam.go_back()
    sam.get_by_label("Why you are escalating").fill("an adult grooming a young person")
    sam.get_by_role("button", name="Escalate").click()
    expect(sam.locator("#done")).to_contain_text("escalate")
    story.sam.shot("case-escalated")
    # A case note, sealed by safety; the page reads it back (a recorded read).
    sam.get_by_label("A note for the case").fill("rang the school's DSL; they know him")
    sam.get_by_role("button", name="Add the note").click()
    expect(sam.locator("#done")).to_contain_text("note")
    expect(sam.locator(".note")).to_have_count(1)
    expect(sam.locator(".note")).to_contain_text("rang the school's DSL; they know him")


def test_reading_the_content_was_recorded_and_audit_shows_the_read(
    story: Story, platform: Platform
) -> None:
    app = platform.hosts["safety"].parts.applications[0]
    events = [
        n.topic
        for n in app.recorder.select_notifications(1, 10_000)
        if "CaseContentRead" in n.topic or "CaseNotesRead" in n.topic
    ]
    assert {e.rsplit(".", 1)[-1] for e in events} == {"CaseContentRead", "CaseNotesRead"}


def test_the_lead_suspends_the_subject_and_refers_to_the_police(story: Story) -> None:
    lee = story.lee.page
    lee.goto("/queue")
    expect(lee.locator("#queue-rows")).to_contain_text(story.case_id[:8])
    lee.goto(f"/case/{story.case_id}")
    expect(lee.locator(".message").last).to_contain_text(GROOMING[-1])  # the lead reads too
    lee.get_by_label("Suspend: no sending").check()
    lee.get_by_label("Reason for the action").fill("grooming a young person of the club")
    lee.get_by_label("I confirm this action").check()
    lee.get_by_role("button", name="Take the action").click()
    expect(lee.locator("#done")).to_contain_text("action")
    expect(lee.get_by_role("table", name="Actions taken on this case")).to_contain_text("suspend")
    expect(lee.locator(".numbers")).to_contain_text("0808 800 5000")
    expect(lee.locator(".numbers")).to_contain_text("999")
    lee.get_by_role("radio", name="Police").check()
    lee.get_by_label("What you told them").fill("called 101, reference 4471")
    lee.get_by_label("I confirm the referral was made").check()
    lee.get_by_role("button", name="Record the referral").click()
    expect(lee.locator("#done")).to_contain_text("refer")
    actions = lee.get_by_role("table", name="Actions taken on this case")
    expect(actions).to_contain_text("refer: Police")
    expect(lee.locator(".timeline")).to_contain_text("Action: refer (police)")
    expect(lee.locator("svg.chart rect")).to_have_count(3)  # reported, suspended, referred
    accessible(lee, "case (lead)")
    story.lee.shot("case-lead")


def test_the_shift_ends_only_once_the_concern_is_reported_and_the_next_moderator_reads_the_handover(
    story: Story,
) -> None:
    sam = story.sam.page
    sam.goto("/shift")
    sam.get_by_label("Hold a concern about case").fill(story.case_id)
    sam.get_by_role("button", name="Hold the concern").click()
    sam.get_by_label("Risks the next shift should know about").fill(
        "Rob asks young people to keep secrets; watch his other conversations"
    )
    sam.get_by_label("Keywords seen").fill("secret, delete")
    sam.get_by_role("radio", name="Cumulative").check()
    sam.get_by_role("button", name="End my shift and sign out").click()
    refusal = sam.get_by_role("alert")
    expect(refusal).to_contain_text("UNREPORTED_CONCERN")
    accessible(sam, "shift (refused)")
    story.sam.shot("shift-refused")
    sam.get_by_role("button", name="Report to the lead").click()
    expect(sam.get_by_text("Concerns you hold")).to_be_visible()
    sam.get_by_label("Risks the next shift should know about").fill(
        "Rob asks young people to keep secrets; watch his other conversations"
    )
    sam.get_by_role("radio", name="Cumulative").check()
    sam.get_by_role("button", name="End my shift and sign out").click()
    expect(sam.get_by_role("heading", name="Signed out")).to_be_visible()
    sam.goto("/queue")  # the session ended with the shift
    sam.wait_for_url("**/signin")

    enrol(story.max, story.club.invitation(identity_pb2.ROLE_MODERATOR))
    page = story.max.page
    page.goto("/shift")
    handover = page.locator(".handover").first
    expect(handover).to_contain_text("watch his other conversations")
    expect(handover).to_contain_text("cumulative")
    accessible(page, "shift (handover)")
    story.max.shot("shift-handover")
    # Sam signs in again with the same passkey: a new session, no shift in it.
    sign_in(story.sam)
    sam.goto("/shift")
    expect(sam.get_by_role("button", name="Start my shift")).to_be_visible()


def test_a_young_person_cannot_sign_in(story: Story) -> None:
    page = story.ava.page
    page.goto("/signin")
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.locator("#signin-status")).to_contain_text("Not signed in")
    assert not story.ava.credentials()  # identity gives no passkey to a young person
    page.goto("/queue")
    page.wait_for_url("**/signin")  # no session came of it
    story.ava.shot("signin-refused")


def test_a_forged_post_without_the_csrf_token_is_refused(story: Story) -> None:
    # The request carries Lee's session cookie (the browser context's) but no CSRF token.
    forged = story.lee.context.request.post(
        f"/case/{story.case_id}/close",
        form={"reason": "forged", "confirm": "yes"},
        max_redirects=0,
    )
    assert forged.status == 403
    assert "CSRF_TOKEN_MISSING" in forged.text()
    wrong = story.lee.context.request.post(
        f"/case/{story.case_id}/close",
        form={"reason": "forged", "confirm": "yes", "csrf": "not-the-token"},
        max_redirects=0,
    )
    assert wrong.status == 403
    story.lee.page.goto(f"/case/{story.case_id}")
    expect(story.lee.page.get_by_text("Status")).to_be_visible()
    expect(story.lee.page.locator(".summary")).to_contain_text("Open")  # nothing was closed


def test_settings_and_transparency_pages_for_the_lead(story: Story) -> None:
    lee = story.lee.page
    lee.goto("/settings")
    lee.get_by_label("Time zone").fill("Europe/London")
    lee.get_by_label("Mon").fill("09:00-17:00")
    lee.get_by_label("High").fill("120")
    lee.get_by_role("button", name="Save hours and deadlines").click()
    expect(lee.get_by_role("status")).to_contain_text("hours")
    expect(lee.get_by_label("Mon")).to_have_value("09:00-17:00")
    accessible(lee, "settings")
    story.lee.shot("settings")
    lee.goto("/transparency")
    expect(lee.get_by_role("heading", name="Transparency")).to_be_visible()
    accessible(lee, "transparency")
    story.lee.shot("transparency")
    csv = story.lee.context.request.get("/transparency.csv")
    assert csv.status == 200
    assert csv.text().splitlines()[0] == "period,stream,kind,count,median_ms,p90_ms"


def test_every_response_carries_a_strict_content_security_policy(story: Story) -> None:
    response = story.lee.context.request.get("/queue")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    cookie = next(c for c in story.lee.context.cookies() if c["name"] == "hearth_console")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"


# Hostile posts and reads, with real sessions: each refused with its status and reason, and
# nothing recorded.


def csrf_of(person: Person) -> str:
    person.page.goto("/shift")
    token = person.page.locator('meta[name="csrf-token"]').get_attribute("content")
    assert token
    return token


def test_hostile_forms_are_refused_with_their_reasons(story: Story, platform: Platform) -> None:
    safety = platform.hosts["safety"].parts.applications[0]
    recorded = safety.recorder.max_notification_id()
    request, token = story.max.context.request, csrf_of(story.max)
    unknown = "00000000-0000-4000-8000-000000000000"

    oversized = request.post(
        f"/case/{story.case_id}/escalate",
        form={"csrf": token, "reason": "x" * 100_000},
        max_redirects=0,
    )
    assert oversized.status == 413 and "FORM_TOO_LARGE" in oversized.text()
    for path in ("/settings", "/transparency", "/transparency.csv"):  # a moderator's role
        answer = request.get(path, max_redirects=0)
        assert answer.status == 403 and "WRONG_ROLE" in answer.text(), path
    wrong_role = request.post(
        "/settings/lead", form={"csrf": token, "lead": unknown}, max_redirects=0
    )
    assert wrong_role.status == 403 and "WRONG_ROLE" in wrong_role.text()
    missing = request.get(f"/case/{unknown}", max_redirects=0)
    assert missing.status == 404 and "CASE_NOT_FOUND" in missing.text()
    malformed = request.get("/case/not-a-case", max_redirects=0)
    assert malformed.status == 400 and "MALFORMED_CASE_ID" in malformed.text()
    escalate_missing = request.post(
        f"/case/{unknown}/escalate", form={"csrf": token, "reason": "r"}, max_redirects=0
    )
    assert escalate_missing.status == 404
    # Another moderator's case: safety refuses, and no content reaches the page.
    other = request.get(f"/case/{story.case_id}", max_redirects=0)
    assert other.status == 403 and "NOT_ASSIGNED" in other.text()
    assert GROOMING[-1] not in other.text()
    cross = request.post(
        f"/case/{story.case_id}/escalate",
        form={"csrf": token, "reason": "r"},
        headers={"Origin": "http://evil.example"},
        max_redirects=0,
    )
    assert cross.status == 403 and "CROSS_ORIGIN" in cross.text()
    unconfirmed = request.post(
        f"/case/{story.case_id}/close", form={"csrf": token, "reason": "r"}, max_redirects=0
    )
    assert unconfirmed.status == 400 and "NOT_CONFIRMED" in unconfirmed.text()
    anonymous = story.ava.context.request
    assert anonymous.get("/queue", max_redirects=0).status == 303
    assert anonymous.post("/shift/start", form={"csrf": token}, max_redirects=0).status == 403
    ava_token = csrf_of_anonymous(story.ava)
    garbled = anonymous.post(
        "/signin/complete",
        data=b"{not json",
        headers={"X-CSRF-Token": ava_token, "Content-Type": "application/json"},
        max_redirects=0,
    )
    assert garbled.status == 400
    assert safety.recorder.max_notification_id() == recorded  # nothing was recorded


def csrf_of_anonymous(person: Person) -> str:
    person.page.goto("/signin")
    token = person.page.locator('meta[name="csrf-token"]').get_attribute("content")
    assert token
    return token
