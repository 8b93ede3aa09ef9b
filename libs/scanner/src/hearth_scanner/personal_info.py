"""Personal information in a message: phone numbers, emails, UK postcodes, street addresses,
the school one attends, social handles. Found by `phonenumbers` and fixed rules, never guessed.

Read on the original text (a postcode's shape matters), each finding says what it is and where.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

from .normalise import normalise

_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
# Royal Mail's shape: outward code (area letters, district) and inward code (digit, 2 letters).
_POSTCODE = re.compile(
    r"\b(?:GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2})\b", re.IGNORECASE
)
_STREET = re.compile(
    r"\b\d{1,4}[a-z]?,? (?:[a-z]+ ){1,3}(?:road|rd|street|avenue|ave|lane|close|drive|way|"
    r"crescent|court|place|grove|gardens|terrace|hill|row|square|mews|walk|rise|view)\b"
)
_LIVES_AT = re.compile(
    r"\b(?:(?:i|we) (?:live|am living|stay)|my house is) (?:on|at|near|next to|opposite|just "
    r"off|round the corner from) (?:the )?[a-z0-9]+|\bmy (?:home )?address(?: is)? ?:? ?[a-z0-9]+"
)
_NOT_A_NAME = r"(?!same |the same |to |a |that |this |your |his |her |my )"
_SCHOOL = re.compile(
    r"\b(?:i go to|i am at|i attend|my school is|i am in year \d+ at|im in year \d+ at|we go "
    r"to|i study at|i am a student at|i go) (?:the )?"
    + _NOT_A_NAME
    + r"(?:(?![a-z]+ing\b)[a-z]+ ){1,3}"
    r"(?:academy|school|high|primary|college|grammar|comp|comprehensive|juniors|infants)\b"
)
_HANDLE = re.compile(r"(?<![\w.@])@[A-Za-z0-9_.]{3,30}\b")
_NAMED_HANDLE = re.compile(
    r"\bmy (?:snap|insta|tiktok|discord|username|user name|gamertag|handle|twitter|psn|xbox "
    r"tag|whatsapp|kik|telegram)(?: name)? (?:is|:) ?[a-z0-9_.]{3,30}\b"
)


@dataclass(frozen=True, slots=True)
class PersonalDetail:
    """One piece of personal information: its kind and the text that carries it."""

    kind: str  # phone, email, postcode, address, school, handle
    text: str


def _phones(text: str) -> list[PersonalDetail]:
    found = []
    for match in phonenumbers.PhoneNumberMatcher(
        text, "GB", leniency=phonenumbers.Leniency.POSSIBLE
    ):
        digits = sum(c.isdigit() for c in match.raw_string)
        plausible = match.raw_string.lstrip().startswith(("0", "+")) and digits >= 10
        if phonenumbers.is_valid_number(match.number) or plausible:
            found.append(PersonalDetail("phone", match.raw_string))
    return found


def find_personal_details(text: str) -> list[PersonalDetail]:
    """Every personal detail the rules see in `text`."""
    found = _phones(text)
    emails = [m.group(0) for m in _EMAIL.finditer(text)]
    found += [PersonalDetail("email", e) for e in emails]
    found += [PersonalDetail("postcode", m.group(0)) for m in _POSTCODE.finditer(text)]
    plain = normalise(text)
    found += [PersonalDetail("address", m.group(0)) for m in _STREET.finditer(plain)]
    found += [PersonalDetail("address", m.group(0)) for m in _LIVES_AT.finditer(plain)]
    found += [PersonalDetail("school", m.group(0)) for m in _SCHOOL.finditer(plain)]
    handles = [m.group(0) for m in _HANDLE.finditer(text)]
    found += [PersonalDetail("handle", h) for h in handles if not any(h in e for e in emails)]
    found += [PersonalDetail("handle", m.group(0)) for m in _NAMED_HANDLE.finditer(plain)]
    return found
