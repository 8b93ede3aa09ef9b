"""Personal details: phonenumbers and fixed rules, never guesses."""

from __future__ import annotations

import pytest

from hearth_scanner.personal_info import find_personal_details


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("my number is 07911 123456", "phone"),
        ("ring me on +44 7700 900789", "phone"),
        ("call 020 7946 0018", "phone"),
        ("email me at jo.b@example.co.uk", "email"),
        ("postcode is SW1A 1AA", "postcode"),
        ("its m1 1ae", "postcode"),
        ("i live at 14 Elm Road", "address"),
        ("I go to Oakwood Academy", "school"),
        ("im in year 8 at st marys high school", "school"),
        ("add me @jess_xo", "handle"),
        ("my snap is jessy22", "handle"),
    ],
)
def test_details_are_found_with_their_kind(text: str, kind: str) -> None:
    assert kind in [d.kind for d in find_personal_details(text)]


@pytest.mark.parametrize(
    "text",
    [
        "we played Oakwood Academy at netball",
        "room 2014 at 5",
        "the score was 3-2 in 1999",
        "see you at 4pm",
        "page 42, question 7",
        "i scored 1200 points",
    ],
)
def test_innocent_numbers_and_a_school_in_passing_are_not_details(text: str) -> None:
    assert find_personal_details(text) == []


def test_an_email_is_not_also_a_handle() -> None:
    assert [d.kind for d in find_personal_details("jo@example.com")] == ["email"]
