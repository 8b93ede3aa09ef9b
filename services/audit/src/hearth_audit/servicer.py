"""gRPC face of the audit service: proto <-> domain; fields checked by `hearth_runtime.fields`.

Domain errors are the runtime's family; its `ErrorInterceptor` answers them.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import grpc

from hearth_crypto.checkpoint import Checkpoint, NoteError, open_note
from hearth_proto.hearth.audit.v1 import audit_pb2, audit_pb2_grpc
from hearth_runtime import fields
from hearth_runtime.access import current_session
from hearth_runtime.errors import Invalid

from .application import Audit
from .domain import NotReady

MAX_TEXT = 1000
MAX_KNOWN_SIZES = 64  # documented in audit.proto
PERIODS = (audit_pb2.PERIOD_UNSPECIFIED, audit_pb2.PERIOD_DAY, audit_pb2.PERIOD_MONTH)


def percentile(values: list[int], q: float) -> int:
    """The nearest-rank percentile (q in 0..1) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


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
        leaf, size, proof = self.app.inclusion_proof(request.index, request.tree_size)
        return audit_pb2.GetInclusionProofResponse(leaf_hash=leaf, tree_size=size, proof=proof)

    def GetConsistencyProof(
        self, request: audit_pb2.GetConsistencyProofRequest, context: grpc.ServicerContext
    ) -> audit_pb2.GetConsistencyProofResponse:
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
                raise Invalid.field("last_seen", f"is not a checkpoint of this log: {e}") from None
            old_size = seen.size
        latest = self.app.latest_checkpoint()
        if request.last_seen and old_size > latest.size:
            raise NotReady(f"last_seen (size {old_size}) is newer than the latest checkpoint")
        _, proof = self.app.consistency_proof(old_size, latest.size)
        if request.last_seen and self.app.root_at(old_size) != seen.root_hash:
            raise NotReady(
                f"last_seen disagrees with this log at size {old_size}: keep it as evidence",
                reason="CHECKPOINT_DISAGREES",
            )
        return audit_pb2.WitnessCheckpointResponse(checkpoint=latest.note, proof=proof)

    def GetTrail(
        self, request: audit_pb2.GetTrailRequest, context: grpc.ServicerContext
    ) -> audit_pb2.GetTrailResponse:
        field = "pseudonym" if request.pseudonym else "subject_id"
        name = fields.text(
            request.pseudonym or request.subject_id, field, max_chars=MAX_TEXT, required=True
        )
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
        fields.known(request.period, "period", PERIODS, "a known period")
        counts, durations = self.app.figures(
            current_session(), monthly=request.period != audit_pb2.PERIOD_DAY
        )
        return audit_pb2.GetTransparencyFiguresResponse(
            counts=[
                audit_pb2.KindCount(period=p, stream=s, kind=k, count=n)
                for (p, s, k), n in sorted(counts.items())
            ],
            durations=[
                audit_pb2.KindDuration(
                    period=p,
                    stream=s,
                    kind=k,
                    count=len(ms),
                    median_ms=percentile(ms, 0.5),
                    p90_ms=percentile(ms, 0.9),
                )
                for (p, s, k), ms in sorted(durations.items())
            ],
        )

    def RequestDisclosure(
        self, request: audit_pb2.RequestDisclosureRequest, context: grpc.ServicerContext
    ) -> audit_pb2.RequestDisclosureResponse:
        request_id = fields.request_id(request.request_id)
        pseudonym = fields.text(request.pseudonym, "pseudonym", max_chars=MAX_TEXT, required=True)
        reason = fields.text(request.reason, "reason", max_chars=MAX_TEXT, required=True)
        disclosure = self.app.request_disclosure(
            current_session(),
            request_id,
            pseudonym,
            reason,
            recipient=fields.text(request.recipient, "recipient", max_chars=MAX_TEXT),
            legal_basis=fields.text(request.legal_basis, "legal_basis", max_chars=MAX_TEXT),
        )
        response = audit_pb2.RequestDisclosureResponse(disclosure_id=str(disclosure.id))
        if disclosure.due_at is not None:
            response.due_at.FromDatetime(disclosure.due_at)
        return response

    def ApproveDisclosure(
        self, request: audit_pb2.ApproveDisclosureRequest, context: grpc.ServicerContext
    ) -> audit_pb2.ApproveDisclosureResponse:
        fields.request_id(request.request_id)
        disclosure_id = fields.identifier(request.disclosure_id, "disclosure_id", "disclosure")
        disclosure = self.app.approve_disclosure(current_session(), disclosure_id)
        response = audit_pb2.ApproveDisclosureResponse(
            approved_by_roles=sorted(disclosure.approvals), approved=disclosure.approved
        )
        if disclosure.due_at is not None:
            response.due_at.FromDatetime(disclosure.due_at)
            response.days_left = (disclosure.due_at - datetime.now(UTC)).days
        return response

    def ExportBundle(
        self, request: audit_pb2.ExportBundleRequest, context: grpc.ServicerContext
    ) -> audit_pb2.ExportBundleResponse:
        disclosure_id = fields.identifier(request.disclosure_id, "disclosure_id", "disclosure")
        fields.count(request.known_sizes, "known_sizes", at_most=MAX_KNOWN_SIZES)
        bundle = self.app.export_bundle(current_session(), disclosure_id, list(request.known_sizes))
        return audit_pb2.ExportBundleResponse(bundle=json.dumps(bundle).encode())
