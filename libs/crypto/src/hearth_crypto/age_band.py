"""The age band: all the platform ever learns of a person's age, in one type for every service.

`AgeBand` matches the protobuf enum `hearth.age.v1.AgeBand` value for value (a test holds the
two together), so a band crosses a proto field as its number; `label` is the short word that
session tokens, the contact policy and exports use. It lives here, the lowest layer, because
every user of a band (the age tokens, identity, age, messaging, the SDK) can import it.
"""

from __future__ import annotations

import enum


class AgeBand(enum.IntEnum):
    """Mirrors `hearth.age.v1.AgeBand` (`AGE_BAND_<label>`); `UNSPECIFIED` is "none known"."""

    UNSPECIFIED = 0
    UNDER_13 = 1
    AGE_13_15 = 2
    AGE_16_17 = 3
    AGE_18_PLUS = 4

    @property
    def label(self) -> str:
        """ "under_13", "13_15", "16_17", "18_plus"; "" for UNSPECIFIED."""
        return _LABELS[self]

    @property
    def lower_bound(self) -> int:
        """The age in whole years at which the band starts."""
        return _LOWER_BOUNDS[self]

    @classmethod
    def known(cls) -> tuple[AgeBand, ...]:
        """The real bands, youngest first (everything but UNSPECIFIED)."""
        return BANDS

    @classmethod
    def for_age(cls, years: float) -> AgeBand:
        """The band of someone `years` old (whole years reached)."""
        found = cls.UNDER_13
        for band in BANDS:
            if years >= band.lower_bound:
                found = band
        return found

    @classmethod
    def of(cls, number: int) -> AgeBand:
        """The band a proto field holds; UNSPECIFIED for a number this code does not know."""
        try:
            return cls(number)
        except ValueError:
            return cls.UNSPECIFIED

    @classmethod
    def from_label(cls, label: str) -> AgeBand:
        """The band a label (or a proto name, "AGE_BAND_13_15") names; UNSPECIFIED if none."""
        word = label.strip().lower().removeprefix("age_band_")
        return _BY_LABEL.get(word, cls.UNSPECIFIED)


BANDS = (AgeBand.UNDER_13, AgeBand.AGE_13_15, AgeBand.AGE_16_17, AgeBand.AGE_18_PLUS)
_LABELS = {
    AgeBand.UNSPECIFIED: "",
    AgeBand.UNDER_13: "under_13",
    AgeBand.AGE_13_15: "13_15",
    AgeBand.AGE_16_17: "16_17",
    AgeBand.AGE_18_PLUS: "18_plus",
}
_LOWER_BOUNDS = {
    AgeBand.UNSPECIFIED: 0,
    AgeBand.UNDER_13: 0,
    AgeBand.AGE_13_15: 13,
    AgeBand.AGE_16_17: 16,
    AgeBand.AGE_18_PLUS: 18,
}
_BY_LABEL = {label: band for band, label in _LABELS.items() if label}

__all__ = ["BANDS", "AgeBand"]
