"""A clock a test moves forward, for the applications' injectable `clock=`: expiry without
sleeping."""

from __future__ import annotations

import time


class Clock:
    """Wall-clock time plus however far the test has moved it."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds
