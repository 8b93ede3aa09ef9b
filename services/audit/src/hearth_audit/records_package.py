"""An evidence package of case records (`hearth-records-package/v1`), and its offline check.

A record keeper answers an approved disclosure (a coroner's, a bereaved family's, the
police's) with one JSON document: the audit evidence bundle of the young person's record
book (every event of that book, each proved in the signed log, the trail statement saying
there are no more), the records in scope as the keeper decrypted them, each with its
franking proof, and the relay's public keys. `verify_package` checks the bundle with
`verify_bundle`, then that the records are exactly those the log says were kept in the
scope: each record's digest (`hearth_crypto.case_record`) is a `CaseRecordKept` digest of
the book, no record is there twice, none is missing (left out), none is extra (added), none
differs (altered); and that each record's franking proves what the sender sent.

The relay keys are given by the package; a recipient who wants them from the log too checks
them against messaging's `RelayKeyPublished` events (an auditor's bundle of those).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hearth_crypto.case_record import CaseRecord, MalformedRecord
from hearth_crypto.franking import FrankingError, verify_report
from hearth_eventlog.records import decode_record
from hearth_proto.hearth.messaging.v1 import events_pb2 as messaging_events

from .evidence import AuditedEvent, BundleError, Verification, _unb64, verify_bundle

PACKAGE_FORMAT = "hearth-records-package/v1"
OPENED = messaging_events.CaseRecordBookOpened.DESCRIPTOR.full_name
KEPT = messaging_events.CaseRecordKept.DESCRIPTOR.full_name
DESTROYED = messaging_events.CaseRecordsDestroyed.DESCRIPTOR.full_name


@dataclass
class PackageVerification:
    """What `verify_package` established, beside the bundle's own checks."""

    bundle: Verification
    organisation_id: str = ""
    young_person_account_id: str = ""
    records: int = 0
    kept_in_log: int = 0
    out_of_scope: int = 0
    destroyed: int = 0
    disclosure: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            **self.bundle.as_json(),
            "package": PACKAGE_FORMAT,
            "organisation_id": self.organisation_id,
            "young_person_account_id": self.young_person_account_id,
            "records": self.records,
            "records_kept_in_log": self.kept_in_log,
            "records_out_of_scope": self.out_of_scope,
            "records_destroyed_before": self.destroyed,
            "disclosure": self.disclosure,
        }


def is_package(document: object) -> bool:
    return isinstance(document, dict) and document.get("format") == PACKAGE_FORMAT


def verify_package(
    package: object,
    *,
    trusted_key: str | None = None,
    previous_checkpoint: str | None = None,
) -> PackageVerification:
    """Check a package offline; raises `BundleError` naming the first check that failed."""
    if not is_package(package):
        raise BundleError("format", f"not a {PACKAGE_FORMAT} document")
    assert isinstance(package, dict)
    bundle = package.get("bundle")
    result = PackageVerification(
        verify_bundle(bundle, trusted_key=trusted_key, previous_checkpoint=previous_checkpoint)
    )
    scope = package.get("scope")
    if not isinstance(scope, dict):
        raise BundleError("scope", "the package states no scope")
    start, end = scope.get("from_ms", 0), scope.get("to_ms", 0)
    if not all(isinstance(x, int) and not isinstance(x, bool) for x in (start, end)):
        raise BundleError("scope", "from_ms and to_ms are whole milliseconds")
    disclosure = package.get("disclosure")
    if isinstance(disclosure, dict):
        result.disclosure = {str(k): str(v) for k, v in disclosure.items()}

    expected = _kept_in_scope(bundle, result, start, end)
    seen: set[bytes] = set()
    records = package.get("records")
    if not isinstance(records, list):
        raise BundleError("records", "the package holds no list of records")
    keys = _relay_keys(package.get("relay_keys"))
    for position, raw in enumerate(records):
        try:
            record = CaseRecord.from_json(raw)
        except MalformedRecord as e:
            raise BundleError("records", f"record {position}: {e}") from e
        digest = record.digest()
        kept = expected.get(record.message_id)
        if kept is None:
            raise BundleError(
                "added",
                f"record {position} (message {record.message_id}) is not a record the log "
                "says was kept in this scope",
            )
        if digest != kept.digest or record.relayed_at_ms != kept.relayed_at_ms:
            raise BundleError(
                "altered",
                f"record {position} (message {record.message_id}) is not the record whose "
                "digest the log holds",
            )
        if digest in seen:
            raise BundleError("added", f"record {position} is in the package twice")
        seen.add(digest)
        if (record.organisation_id, record.young_person_account_id) != (
            result.organisation_id,
            result.young_person_account_id,
        ):
            raise BundleError("scope", f"record {position} is of another book")
        try:
            verify_report(keys, record.franking_report())
        except FrankingError as e:
            raise BundleError("franking", f"record {position}: {e}") from e
    missing = [m for m, kept in expected.items() if kept.digest not in seen]
    if missing:
        raise BundleError(
            "left out",
            f"{len(missing)} record(s) the log says were kept in this scope are not in the "
            f"package (message {missing[0]}, ...)",
        )
    result.records = len(records)
    return result


def _kept_in_scope(
    bundle: Any, result: PackageVerification, start: int, end: int
) -> dict[str, messaging_events.CaseRecordKept]:
    """The book's records the log holds in [start, end] (end 0: no end), by message id."""
    expected: dict[str, messaging_events.CaseRecordKept] = {}
    for position, entry in enumerate(bundle["events"]):
        event = AuditedEvent.decode(_unb64(entry["leaf"], "leaf"))
        record = decode_record(event.payload)
        if position == 0:
            if record.topic != OPENED:
                raise BundleError("scope", "the bundle is not the trail of a case record book")
            opened = messaging_events.CaseRecordBookOpened.FromString(record.state)
            result.organisation_id = opened.organisation_id
            result.young_person_account_id = opened.young_person_account_id
        elif record.topic == KEPT:
            kept = messaging_events.CaseRecordKept.FromString(record.state)
            result.kept_in_log += 1
            if kept.relayed_at_ms < start or (end and kept.relayed_at_ms > end):
                result.out_of_scope += 1
                continue
            expected[kept.message_id] = kept
        elif record.topic == DESTROYED:
            # Destroyed records can never be disclosed: their key is gone.
            result.destroyed += len(expected)
            expected.clear()
    return expected


def _relay_keys(keys: object) -> dict[str, bytes]:
    if not isinstance(keys, dict):
        raise BundleError("relay keys", "the package names no relay keys")
    return {str(k): _unb64(v, "relay key") for k, v in keys.items()}
