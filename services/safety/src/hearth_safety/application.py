"""The safety application: reports verified on arrival, case work, shifts, settings.

Built in layers, one job to a module, each using the ones below it: `follow` (what identity
and messaging announce, the stores, the clock, repository plumbing), `organisations` (each
organisation's settings and support status), `casework` (what staff on a case see and do,
escalation, the queue), `rota` (shifts, concerns found on them, handovers), `reporting`
(reports and concerns, verified, triaged, opening or joining a case). This module wires them
together. Commands re-read what they change and are retried on a write conflict; refusals
are the runtime's error family (see `domain`). Fields arrive checked by the servicer.
"""

from __future__ import annotations

from .domain import WHO_SEES_A_CONCERN
from .follow import FOLLOWED
from .reporting import Filed, Reporting


class Safety(Reporting):
    name = "safety"


__all__ = ["FOLLOWED", "WHO_SEES_A_CONCERN", "Filed", "Safety"]
