"""Who is at the browser: console sessions kept server-side, keyed by an opaque cookie.

Identity's session token never reaches the browser: the cookie carries only a random id
(HttpOnly, Secure, SameSite=Strict), and the token stays in this process's memory with the
person's verified claims, a CSRF token for every form, and the shift they started here. A
session ends when its idle time runs out, when the token expires, when the person signs
out, or when they end their shift. Before sign-in a browser holds an anonymous session, so
the sign-in posts carry a CSRF token too; signing in replaces it with a fresh id (no
fixation). Sessions live in one process: the console runs as one replica (or behind sticky
sessions) and a restart signs everyone out, which for staff on shift is a safe failure.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from hearth_runtime.sessions import Session

COOKIE = "hearth_console"
MAX_SESSIONS = 10_000  # anonymous sessions are cheap to make: bound them


@dataclass
class DeskSession:
    """One browser's session: anonymous until `staff` is set by sign-in."""

    sid: str
    csrf: str
    last_seen: float
    token: str = ""
    staff: Session | None = None
    shift_id: str = ""
    # Concerns held on this shift and not yet reported to the lead: (concern id, case id).
    concerns: list[tuple[str, str]] = field(default_factory=list)
    # Sign-in in progress: identity's challenge id for this browser.
    pending: dict[str, str] = field(default_factory=dict)

    def csrf_matches(self, offered: str) -> bool:
        return hmac.compare_digest(self.csrf.encode(), offered.encode())


class Desk:
    """The console's sessions, in memory, with idle and token expiry."""

    def __init__(self, idle_seconds: float, clock: Callable[[], float] = time.time) -> None:
        self.idle_seconds = idle_seconds
        self.clock = clock
        self._sessions: dict[str, DeskSession] = {}
        self._lock = threading.Lock()

    def find(self, sid: str | None) -> DeskSession | None:
        """The live session with this cookie, touched; None when unknown, idle or expired."""
        if not sid:
            return None
        now = self.clock()
        with self._lock:
            found = self._sessions.get(sid)
            if found is None:
                return None
            expired = found.staff is not None and found.staff.expires_at <= now
            if now - found.last_seen > self.idle_seconds or expired:
                del self._sessions[sid]
                return None
            found.last_seen = now
            return found

    def open(self) -> DeskSession:
        """A new anonymous session (for the sign-in page's forms)."""
        now = self.clock()
        with self._lock:
            if len(self._sessions) >= MAX_SESSIONS:
                self._sweep(now)
            if len(self._sessions) >= MAX_SESSIONS:  # still full: drop the stalest
                stalest = min(self._sessions.values(), key=lambda s: s.last_seen)
                del self._sessions[stalest.sid]
            session = DeskSession(secrets.token_urlsafe(32), secrets.token_urlsafe(32), now)
            self._sessions[session.sid] = session
            return session

    def sign_in(self, anonymous: DeskSession, token: str, staff: Session) -> DeskSession:
        """Replace the anonymous session with a signed-in one under a new id."""
        self.end(anonymous.sid)
        session = self.open()
        session.token, session.staff = token, staff
        return session

    def end(self, sid: str) -> None:
        with self._lock:
            self._sessions.pop(sid, None)

    def _sweep(self, now: float) -> None:
        for sid in [
            s.sid for s in self._sessions.values() if now - s.last_seen > self.idle_seconds
        ]:
            del self._sessions[sid]
