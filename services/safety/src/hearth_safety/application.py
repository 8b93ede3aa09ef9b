"""The safety application: reports verified on arrival, case work, shifts, settings.

Built in layers, one job to a module, each using the ones below it: `follow` (what identity
and messaging announce, the stores, the clock, repository plumbing), `organisations` (each
organisation's settings and support status), `casework` (what staff on a case see and do,
escalation, the queue), `rota` (shifts, concerns found on them, handovers), `reporting`
(reports and concerns, verified, triaged, opening or joining a case), `publishing` (the
scanner's packs, signed with the pack key, served to devices). This module wires them
together. Commands re-read what they change and are retried on a write conflict; refusals
are the runtime's error family (see `domain`). Fields arrive checked by the servicer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from .domain import WHO_SEES_A_CONCERN
from .follow import FOLLOWED
from .packs import PackSigner
from .publishing import Publishing
from .reporting import Filed


class Safety(Publishing):
    name = "safety"

    def __init__(
        self,
        env: Mapping[str, str] | None,
        *,
        case_key_wrapping: bytes | None = None,
        clock: Callable[[], float] = time.time,
        pack_signer: PackSigner | None = None,
        platform_organisation: str = "",
    ) -> None:
        super().__init__(env, case_key_wrapping=case_key_wrapping, clock=clock)
        self.pack_signer = pack_signer
        self.platform_organisation = platform_organisation


__all__ = ["FOLLOWED", "WHO_SEES_A_CONCERN", "Filed", "Safety"]
