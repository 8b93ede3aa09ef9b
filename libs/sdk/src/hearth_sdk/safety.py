"""Safety on the child's device: what the child sees, decided here, and nothing sent.

A :class:`SafetyGuard` scans every message before it is shown or sent and every image before
it is shown or sent, with the pack in force (or the rules built in), and follows each
conversation's risk. What comes back is an :class:`Outcome`: a warning in words for the
child's age band with Childline and 999 signposting, an image blurred until the child chooses
to see it, and whether a content-free notice to a linked guardian is allowed. The child's own
voice is never blocked: `may_send` is always true, a warning before sending is a pause.

Scanning has no network at all: the guard holds no channel, and the only things that leave
the device are a report the child chooses to make (:mod:`hearth_sdk.safety_report`) and,
where the organisation turns it on, a guardian notice sent end to end encrypted through the
messaging SDK (:func:`send_guardian_notice`) carrying a category and never words.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from nacl.signing import VerifyKey

from hearth_scanner.conversation import ConversationRisk, RiskState
from hearth_scanner.images import ImageMatch, blurred, fingerprint, match_lists
from hearth_scanner.packs import PackKeeper, SafetyPack
from hearth_scanner.policy import WarningPolicy
from hearth_scanner.scanner import MessageScan, TextScanner
from hearth_scanner.shipped import shipped_scanner
from hearth_scanner.taxonomy import Participant

from .local_state import write_private_json
from .messaging import MessagingDevice

CHILDLINE = "Childline: call 0800 1111 for free, or talk online at childline.org.uk"
EMERGENCY = "If you are in danger right now, call 999."
# Categories where the family may be the source of harm: never a guardian notice. A child's
# disclosure goes to their own signposting, and to the organisation's safeguarding lead only
# when the child reports.
NEVER_NOTIFY_GUARDIAN = frozenset({"self_harm", "disclosure"})
NOTICE_TYPE = "hearth.safety.guardian_notice.v1"

_WORDS = {
    "under_13": {
        "grooming": "This message might not be safe. Safe grown-ups don't ask you to keep "
        "secrets, send pictures or move to another app. You can tell a grown-up you trust.",
        "bullying": "This message looks unkind. It is not your fault. You can block them and "
        "tell a grown-up you trust.",
        "self_harm": "It sounds like things feel really hard. You are not alone, and you can "
        "talk to someone right now.",
        "personal_info": "This has details like where you live or your number. Only share "
        "them with people you know in real life.",
        "alert": "Some things in this chat are worrying. You can stop talking any time and tell "
        "a grown-up you trust.",
        "image": "This picture is hidden because it might upset you. You choose whether to see it.",
    },
    "teen": {
        "grooming": "Heads up: this looks like a pattern people use to pressure or groom young "
        "people (secrets, pictures, moving apps). You don't owe anyone a reply.",
        "bullying": "This message looks like bullying. It's not on you. You can block, report, "
        "or talk to someone.",
        "self_harm": "It sounds like you're going through a lot. You can still send this; "
        "talking to someone can help too.",
        "personal_info": "You're about to share personal details (number, address, school or "
        "a handle). Make sure you trust who gets them.",
        "alert": "This conversation has several warning signs. You can leave it, block or "
        "report at any time.",
        "image": "This image is blurred because it matches one known to be harmful. Tap to "
        "view it if you choose.",
    },
}


@dataclass(frozen=True)
class SafetySettings:
    """An organisation's choices, per age band, with defaults that protect."""

    policy: WarningPolicy = field(default_factory=WarningPolicy)
    # Guardian notices: off by default above 13; the organisation may change that.
    guardian_notices: dict[str, bool] = field(
        default_factory=lambda: {"under_13": True, "13_15": False, "16_17": False}
    )
    notify_categories: frozenset[str] = frozenset({"grooming", "bullying"})
    blur_listed_images: bool = True

    def notice_allowed(self, band: str, category: str) -> bool:
        if category in NEVER_NOTIFY_GUARDIAN:
            return False
        return self.guardian_notices.get(band, False) and category in self.notify_categories


@dataclass(frozen=True)
class ChildWarning:
    """What the child sees: plain words for their age, help, and the choice stays theirs."""

    categories: tuple[str, ...]
    text: str
    signposting: tuple[str, ...] = (CHILDLINE, EMERGENCY)


@dataclass(frozen=True)
class Outcome:
    """The device's decision about one message."""

    scan: MessageScan
    risk: RiskState
    warning: ChildWarning | None
    guardian_notice: str | None  # a category, when a notice is allowed and warranted
    may_send: bool = True  # the child's own voice is never blocked


@dataclass(frozen=True)
class ImageOutcome:
    """The device's decision about one image: shown as `preview` until the child chooses."""

    match: ImageMatch | None
    preview: bytes
    original: bytes = field(repr=False)
    warning: ChildWarning | None

    @property
    def blurred(self) -> bool:
        return self.preview is not self.original

    def reveal(self) -> bytes:
        """The child chose to see it."""
        return self.original


class SafetyGuard:
    """One child's device: the scanner, the pack in force, each conversation's risk."""

    def __init__(
        self,
        child: Participant,
        *,
        trusted_pack_key: VerifyKey | None = None,
        settings: SafetySettings | None = None,
        scanner: TextScanner | None = None,
        pack_path: Path | None = None,
    ) -> None:
        """`pack_path`, when given, keeps the pack in force and the highest version seen on
        the device, so a restart keeps the last good pack and still refuses a rollback."""
        self.child = child
        self.settings = settings or SafetySettings()
        self.scanner = scanner or shipped_scanner()
        self.packs = PackKeeper(trusted_pack_key) if trusted_pack_key is not None else None
        self.pack_path = pack_path
        self.conversations: dict[str, ConversationRisk] = {}
        if self.packs is not None and pack_path is not None and pack_path.exists():
            kept = json.loads(pack_path.read_text())
            self._use(self.packs.restore(base64.b64decode(kept["pack"]), int(kept["highest"])))

    # --- packs -------------------------------------------------------------------------

    def install_pack(
        self, data: bytes, now: float | None = None, *, organisation_id: str = ""
    ) -> SafetyPack:
        """Verify and use a pack; a refused pack raises a PackError and changes nothing. With
        `organisation_id`, a pack signed for another organisation is refused."""
        if self.packs is None:
            raise ValueError("this device trusts no pack key")
        at = time.time() if now is None else now
        pack = self.packs.offer(data, at, organisation_id=organisation_id)
        if self.pack_path is not None:
            kept = {"pack": base64.b64encode(data).decode(), "highest": self.packs.highest_version}
            write_private_json(self.pack_path, kept)
        self._use(pack)
        return pack

    def _use(self, pack: SafetyPack) -> None:
        if pack.rules is not None or pack.model is not None:
            self.scanner = TextScanner(pack.rules or self.scanner.rules, pack.model)

    def pack_status(self, now: float | None = None) -> str:
        if self.packs is None:
            return "no pack key configured: built-in rules only"
        return self.packs.status(time.time() if now is None else now)

    # --- messages ----------------------------------------------------------------------

    def _risk(self, conversation_id: str, people: dict[str, Participant]) -> ConversationRisk:
        risk = self.conversations.get(conversation_id)
        if risk is None:
            risk = self.conversations[conversation_id] = ConversationRisk(dict(people))
        risk.participants.update(people)
        return risk

    def _words(self, key: str) -> str:
        return _WORDS["under_13" if self.child.band == "under_13" else "teen"][key]

    def _warning(self, categories: list[str], risk: RiskState) -> ChildWarning | None:
        if categories:
            return ChildWarning(tuple(categories), self._words(categories[0]))
        if risk.new_alert:
            return ChildWarning(("alert",), self._words("alert"))
        return None

    def _notice(self, categories: list[str], risk: RiskState) -> str | None:
        wanted = list(categories)
        if risk.new_alert:
            wanted += [i.split(".")[0] for i, v in risk.indicators.items() if v > 0]
        for category in wanted:
            if self.settings.notice_allowed(self.child.band, category):
                return category
        return None

    def incoming(
        self,
        conversation_id: str,
        sender: str,
        text: str,
        people: dict[str, Participant],
        at: float | None = None,
    ) -> Outcome:
        """Before showing a received message. `people` names everyone in the conversation
        (the child under their own name) with the role and band identity vouches for."""
        risk = self._risk(conversation_id, people)
        readers = [p for name, p in people.items() if name != sender]
        scan = self.scanner.scan(text, people.get(sender, Participant("adult", "18_plus")), readers)
        state = risk.add(sender, scan, at)
        categories = self.settings.policy.on_view(scan, self.child, state)
        return Outcome(
            scan, state, self._warning(categories, state), self._notice(categories, state)
        )

    def outgoing(
        self,
        conversation_id: str,
        me: str,
        text: str,
        people: dict[str, Participant],
        at: float | None = None,
    ) -> Outcome:
        """Before sending the child's message: maybe a pause with help, never a block."""
        risk = self._risk(conversation_id, people)
        readers = [p for name, p in people.items() if name != me]
        scan = self.scanner.scan(text, self.child, readers)
        state = risk.add(me, scan, at)
        categories = self.settings.policy.on_send(scan, self.child, readers)
        # The child's own words start no guardian notice: a disclosure is theirs to share.
        return Outcome(scan, state, self._warning(categories, state), None)

    # --- images ------------------------------------------------------------------------

    def image(self, data: bytes) -> ImageOutcome:
        """Before showing or sending an image: a listed one is blurred until the child
        chooses; an image the scanner cannot read is shown blurred too."""
        lists = self.packs.current.hash_lists.values() if self.packs and self.packs.current else []
        found = match_lists(lists, fingerprint(data))
        if found is None or not self.settings.blur_listed_images:
            return ImageOutcome(found, data, data, None)
        warning = ChildWarning(("image",), self._words("image"))
        return ImageOutcome(found, blurred(data), data, warning)


def guardian_notice_body(category: str) -> bytes:
    """The whole of a guardian notice: its type, a category and a fresh id. No words, no
    names, no conversation: a guardian learns that something happened, not what."""
    notice = {"type": NOTICE_TYPE, "category": category, "notice_id": str(uuid.uuid4())}
    return json.dumps(notice, sort_keys=True).encode()


def send_guardian_notice(
    device: MessagingDevice,
    guardian_conversation_id: str,
    category: str,
    band: str,
    settings: SafetySettings | None = None,
) -> bool:
    """Send a content-free notice, end to end encrypted, to the guardian's devices in the
    child's conversation with them; only where the settings allow it for this band and
    category. Returns whether a notice was sent."""
    if not (settings or SafetySettings()).notice_allowed(band, category):
        return False
    device.send(guardian_conversation_id, guardian_notice_body(category))
    return True
