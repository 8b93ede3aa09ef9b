"""gRPC face of the audit service: proto <-> domain, domain errors -> status codes."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import grpc

from hearth_crypto.checkpoint import Checkpoint, NoteError, open_note
from hearth_proto.hearth.audit.v1 import audit_pb2, audit_pb2_grpc
from hearth_runtime.access import current_session

from .application import Audit
from .domain import AuditError, Conflict, NotFound, NotReady, Refused

MAX_TEXT = 1000
MAX_KNOWN_SIZES = 64  # documented in audit.proto
STATUS: list[tuple[type[AuditError], grpc.StatusCode]] = [
    (NotFound, grpc.StatusCode.NOT_FOUND),
    (Refused, grpc.StatusCode.PERMISSION_DENIED),
    (Conflict, grpc.StatusCode.ALREADY_EXISTS),
    (NotReady, grpc.StatusCode.FAILED_PRECONDITION),
]


@contextmanager
def domain_errors(context: grpc.ServicerContext) -> Iterator[None]:
    try:
        yield
    except AuditError as e:
        code = next((c for t, c in STATUS if isinstance(e, t)), grpc.StatusCode.FAILED_PRECONDITION)
        context.abort(code, str(e))


def _text(context: grpc.ServicerContext, value: str, what: str, *, required: bool = True) -> str:
    if required and not value.strip():
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"{what} is required")
    if len(value) > MAX_TEXT:
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"{what} is longer than {MAX_TEXT}")
    return value


def _uuid(context: grpc.ServicerContext, value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"{what} is not a UUID")
        raise AssertionError("abort raises") from None


class AuditServicer(audit_pb2_grpc.AuditServiceServicer):
    def __init__(self, app: Audit) -> None:
        self.app = app

    def GetLogState(
        self, request: audit_pb2.GetLogStateRequest, context: grpc.ServicerContext
    ) -> audit_pb2.GetLogStateResponse:
        by_stream, size = self.app.log_state()
        return audit_pb2.GetLogStateResponse(events_by_stream=by_stream, size=size)

    def GetCheckpoint(
        self, request: audit_pb2.GetCheckpointRequest, context: grpc.ServicerContext
    ) -> audit_pb2.GetCheckpointResponse:
        checkpoint = self.app.current_checkpoint()
        response = audit_pb2.GetCheckpointResponse(verifier_key=self.app.signer.vkey)
        if checkpoint is not None:
            response.checkpoint = checkpoint.note
            response.size = checkpoint.size
            response.root_hash = checkpoint.root_hash
        return response

    def GetInclusionProof(
        self, request: audit_pb2.GetInclusionProofRequest, context: grpc.ServicerContext
    ) -> audit_pb2.GetInclusionProofResponse:
        with domain_errors(context):
            leaf, size, proof = self.app.inclusion_proof(request.index, request.tree_size)
        return audit_pb2.GetInclusionProofResponse(leaf_hash=leaf, tree_size=size, proof=proof)

    def GetConsistencyProof(
        self, request: audit_pb2.GetConsistencyProofRequest, context: grpc.ServicerContext
    ) -> audit_pb2.GetConsistencyProofResponse:
        with domain_errors(context):
            size, proof = self.app.consistency_proof(request.old_size, request.new_size)
        return audit_pb2.GetConsistencyProofResponse(
            old_size=request.old_size, new_size=size, proof=proof
        )

    def WitnessCheckpoint(
        self, request: audit_pb2.WitnessCheckpointRequest, context: grpc.ServicerContext
    ) -> audit_pb2.WitnessCheckpointResponse:
        old_size = 0
        if request.last_seen:
            try:
                seen = Checkpoint.parse(
                    open_note(request.last_seen, [self.app.signer.verifier]).body
                )
            except NoteError as e:
                context.abort(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"last_seen is not a checkpoint of this log: {e}",
                )
            old_size = seen.size
        with domain_errors(context):
            latest = self.app.latest_checkpoint()
            if request.last_seen and old_size > latest.size:
                raise NotReady(f"last_seen (size {old_size}) is newer than the latest checkpoint")
            _, proof = self.app.consistency_proof(old_size, latest.size)
            if request.last_seen and self.app.root_at(old_size) != seen.root_hash:
                raise NotReady(
                    f"last_seen disagrees with this log at size {old_size}: keep it as evidence"
                )
        return audit_pb2.WitnessCheckpointResponse(checkpoint=latest.note, proof=proof)

    def GetTrail(
        self, request: audit_pb2.GetTrailRequest, context: grpc.ServicerContext
    ) -> audit_pb2.GetTrailResponse:
        name = request.pseudonym or request.subject_id
        _text(context, name, "pseudonym or subject_id")
        with domain_errors(context):
            pseudonym, entries = self.app.trail(current_session(), name)
        return audit_pb2.GetTrailResponse(
            pseudonym=pseudonym,
            entries=[
                audit_pb2.TrailEntry(
                    index=e.index, stream=e.stream, sequence=e.sequence, kind=e.kind, day=e.day
                )
                for e in entries
            ],
        )

    def GetTransparencyFigures(
        self, request: audit_pb2.GetTransparencyFiguresRequest, context: grpc.ServicerContext
    ) -> audit_pb2.GetTransparencyFiguresResponse:
        if request.period not in (
            audit_pb2.PERIOD_UNSPECIFIED,
            audit_pb2.PERIOD_DAY,
            audit_pb2.PERIOD_MONTH,
        ):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "unknown period")
        counts = self.app.figures(current_session(), monthly=request.period != audit_pb2.PERIOD_DAY)
        return audit_pb2.GetTransparencyFiguresResponse(
            counts=[
                audit_pb2.KindCount(period=p, stream=s, kind=k, count=n)
                for (p, s, k), n in sorted(counts.items())
            ]
        )

    def RequestDisclosure(
        self, request: audit_pb2.RequestDisclosureRequest, context: grpc.ServicerContext
    ) -> audit_pb2.RequestDisclosureResponse:
        request_id = _text(context, request.request_id, "request_id")
        pseudonym = _text(context, request.pseudonym, "pseudonym")
        reason = _text(context, request.reason, "reason")
        with domain_errors(context):
            disclosure = self.app.request_disclosure(
                current_session(), request_id, pseudonym, reason
            )
        return audit_pb2.RequestDisclosureResponse(disclosure_id=str(disclosure.id))

    def ApproveDisclosure(
        self, request: audit_pb2.ApproveDisclosureRequest, context: grpc.ServicerContext
    ) -> audit_pb2.ApproveDisclosureResponse:
        _text(context, request.request_id, "request_id")
        disclosure_id = _uuid(context, request.disclosure_id, "disclosure_id")
        with domain_errors(context):
            disclosure = self.app.approve_disclosure(current_session(), disclosure_id)
        return audit_pb2.ApproveDisclosureResponse(
            approved_by_roles=sorted(disclosure.approvals), approved=disclosure.approved
        )

    def ExportBundle(
        self, request: audit_pb2.ExportBundleRequest, context: grpc.ServicerContext
    ) -> audit_pb2.ExportBundleResponse:
        disclosure_id = _uuid(context, request.disclosure_id, "disclosure_id")
        if len(request.known_sizes) > MAX_KNOWN_SIZES:
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"at most {MAX_KNOWN_SIZES} known_sizes, got {len(request.known_sizes)}",
            )
        with domain_errors(context):
            bundle = self.app.export_bundle(
                current_session(), disclosure_id, list(request.known_sizes)
            )
        return audit_pb2.ExportBundleResponse(bundle=json.dumps(bundle).encode())
