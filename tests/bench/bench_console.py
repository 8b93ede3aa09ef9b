"""Console: the server's time to answer the queue page with 10,000 open cases, and a case
page whose history has 200 events, beside `safety.queue.next` measured in the same run.

Real parts end to end: the safety service (its board filled with the cases' CaseOpened
events in memory, as bench_safety does; the case with 200 actions saved through the
application), the console's HTTP server, its gRPC calls to safety with a moderator's token,
and the page rendered; each figure is the time from the request to the last byte over
loopback. The queue page asks for the first 500 cases and shows 100 (it pages no further);
the case page reads the case, tries its report (gone: the figure then holds the timeline and
the chart of 200 events), and renders it.
"""

from __future__ import annotations

import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from google.protobuf.timestamp_pb2 import Timestamp

from hearth_console.config import ConsoleSettings
from hearth_console.desk import COOKIE, Desk
from hearth_console.service import WebServer, listen
from hearth_console.upstream import Upstream
from hearth_console.web import Console
from hearth_proto.hearth.safety.v1 import events_pb2
from hearth_runtime.platform import Platform
from hearth_runtime.sessions import SessionVerifier
from hearth_safety.application import Safety
from hearth_safety.case import SafeguardingCase
from hearth_safety.domain import ActionKind, Severity, Staff, StaffRole
from tests.bench import bench_safety
from tests.bench.report import Report

ROUNDS = 3
OPEN_CASES = 10_000
HISTORY = 200
PAGES = 10
SEVERITIES = ("immediate", "high", "medium", "low")
QUICK = {"ROUNDS": 1, "OPEN_CASES": 500, "HISTORY": 20, "PAGES": 2}
ORGANISATION = "org-bench"


def fill_board(app: Safety) -> None:
    board = app.current_board()
    start = datetime.now(UTC)
    for i in range(OPEN_CASES):
        deadline = Timestamp()
        deadline.FromDatetime(start + timedelta(minutes=(i * 7919) % OPEN_CASES))
        board._apply(
            str(uuid.uuid4()),
            events_pb2.CaseOpened(
                organisation_id=ORGANISATION, severity=SEVERITIES[i % 4], deadline=deadline
            ),
        )


def case_with_history(app: Safety, moderator: str) -> str:
    now = datetime.now(UTC) - timedelta(days=1)
    case = SafeguardingCase.open(
        organisation_id=ORGANISATION,
        subject_account_id=str(uuid.uuid4()),
        report_id=str(uuid.uuid4()),
        involved=[str(uuid.uuid4())],
        severity=Severity.HIGH,
        deadline=now + timedelta(hours=1),
        at=now,
    )
    case.assign(moderator, now)
    by = Staff(moderator, StaffRole.MODERATOR)
    for i in range(HISTORY):
        at = now + timedelta(minutes=i)
        case.take_action(
            by, ActionKind.WARN, f"warning {i}", at, accounts=[case.subject_account_id]
        )
    app.save(case)
    return str(case.id)


def timed(url: str, cookie: str) -> float:
    request = urllib.request.Request(url, headers={"Cookie": f"{COOKIE}={cookie}"})
    started = time.perf_counter()
    for _ in range(PAGES):
        with urllib.request.urlopen(request, timeout=60) as answer:
            assert answer.status == 200, answer.status
            answer.read()
    return (time.perf_counter() - started) / PAGES * 1000


def run(report: Report) -> None:
    if "safety.queue.next" not in report.figures:
        bench_safety.queue_next(report)  # the baseline, in this run
    prefix = f"benchc{uuid.uuid4().hex[:8]}"
    environ = {
        "HEARTH_SAFETY_STREAM": f"{prefix}_SAFETY".upper(),
        "HEARTH_SAFETY_SUBJECT_PREFIX": f"{prefix}.safety",
        "HEARTH_LOG_LEVEL": "ERROR",
    }
    platform = Platform(
        report.workdir / prefix, services=["safety"], environ=environ, nats_url=report.nats_url
    ).start()
    web: WebServer | None = None
    try:
        app = platform.hosts["safety"].parts.applications[0]
        assert isinstance(app, Safety)
        moderator = str(uuid.uuid4())
        fill_board(app)
        case_id = case_with_history(app, moderator)
        verifier = SessionVerifier({platform.signer.key_id: platform.signer.public_key})
        settings = ConsoleSettings(
            http_host="127.0.0.1",
            http_port=0,
            port_configured=True,
            origin="",
            idle_seconds=3600,
            max_form_bytes=16384,
            poll_seconds=10,
            addresses={
                "safety": platform.endpoint("safety"),
                "identity": "127.0.0.1:9",  # not called by these pages
                "audit": "127.0.0.1:9",
            },
            data_dir=Path(report.workdir),
        )
        sock = listen("127.0.0.1", 0, False)
        base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        desk = Desk(3600)
        console = Console(
            settings, desk, Upstream(settings.addresses, settings.data_dir), verifier.verify, base
        )
        web = WebServer(console, sock)
        web.start()
        # The moderator's session as sign-in would leave it (tests sign in with passkeys).
        token = platform.signer.issue(
            moderator, {"moderator"}, organisations={ORGANISATION}, lifetime=3600
        )
        session = desk.sign_in(desk.open(), token, verifier.verify(token))
        queue = min(timed(f"{base}/queue", session.sid) for _ in range(ROUNDS))
        report.figure("console.queue.ms", queue, "ms", baseline="safety.queue.next")
        case = min(timed(f"{base}/case/{case_id}", session.sid) for _ in range(ROUNDS))
        report.figure("console.case.ms", case, "ms", baseline="safety.queue.next")
        report.note(
            f"{OPEN_CASES} open cases (the page fetches 500, shows 100); a case of {HISTORY} "
            "actions; HTTP over loopback, gRPC to safety, rendered"
        )
    finally:
        if web is not None:
            web.stop()
        platform.stop()
