"""Creating an application's stream, or checking that an existing one is as strong."""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import OperationalError

from .link import STREAM_NOT_FOUND, JetStreamError, JetStreamLink
from .settings import StreamSettings


class StreamSettingsError(RuntimeError):
    """An existing stream is weaker than the event log requires; it is not used."""


class StreamMissing(OperationalError):
    """A stream that is only read (another service's) does not exist yet."""


def stream_config(settings: StreamSettings) -> dict[str, Any]:
    """The append-only stream: nothing deleted, nothing purged, nothing aged out."""
    return {
        "name": settings.stream,
        "subjects": [f"{settings.subject_prefix}.>"],
        "retention": "limits",
        "storage": settings.storage,
        "num_replicas": settings.replicas,
        "max_msgs": -1,
        "max_bytes": -1,
        "max_age": 0,
        "max_msgs_per_subject": -1,
        "discard": "old",
        "deny_delete": True,
        "deny_purge": True,
        "allow_direct": True,
        "allow_atomic": True,
        "allow_rollup_hdrs": False,
    }


def weaknesses(existing: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    """What an existing stream's config lacks compared with what we would create."""
    found: list[str] = []
    for flag in ("deny_delete", "deny_purge", "allow_direct", "allow_atomic"):
        if not existing.get(flag, False):
            found.append(f"{flag} is off")
    if existing.get("allow_rollup_hdrs", False):
        found.append("allow_rollup_hdrs is on (a rollup would erase history)")
    for limit in ("max_msgs", "max_bytes", "max_msgs_per_subject"):
        if existing.get(limit, -1) not in (-1, 0):
            found.append(f"{limit} is {existing[limit]} (history would be discarded)")
    if existing.get("max_age", 0):
        found.append(f"max_age is {existing['max_age']}ns (history would expire)")
    if existing.get("storage") != wanted["storage"]:
        found.append(f"storage is {existing.get('storage')}, configured {wanted['storage']}")
    if existing.get("num_replicas", 1) < wanted["num_replicas"]:
        found.append(
            f"num_replicas is {existing.get('num_replicas')}, configured {wanted['num_replicas']}"
        )
    if not set(wanted["subjects"]) <= set(existing.get("subjects", [])):
        found.append(f"subjects {existing.get('subjects')} do not cover {wanted['subjects']}")
    return found


async def ensure_stream(link: JetStreamLink, settings: StreamSettings) -> None:
    wanted = stream_config(settings)
    try:
        info = await link.api(f"$JS.API.STREAM.INFO.{settings.stream}")
    except JetStreamError as e:
        if e.err_code != STREAM_NOT_FOUND:
            raise
        await link.api(f"$JS.API.STREAM.CREATE.{settings.stream}", wanted)
        return
    problems = weaknesses(info["config"], wanted)
    if problems:
        raise StreamSettingsError(
            f"stream {settings.stream} exists with weaker settings than the event log "
            f"requires: {'; '.join(problems)}"
        )


async def require_stream(link: JetStreamLink, settings: StreamSettings) -> None:
    """Check that a stream to be read exists; never create or change it."""
    try:
        await link.api(f"$JS.API.STREAM.INFO.{settings.stream}")
    except JetStreamError as e:
        if e.err_code != STREAM_NOT_FOUND:
            raise
        raise StreamMissing(f"stream {settings.stream} does not exist yet") from None
