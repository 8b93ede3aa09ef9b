"""gRPC face of the audit service."""

from __future__ import annotations

import grpc

from hearth_proto.hearth.audit.v1 import audit_pb2, audit_pb2_grpc

from .application import Audit


class AuditServicer(audit_pb2_grpc.AuditServiceServicer):
    def __init__(self, app: Audit) -> None:
        self.app = app

    def GetLogState(
        self, request: audit_pb2.GetLogStateRequest, context: grpc.ServicerContext
    ) -> audit_pb2.GetLogStateResponse:
        log = self.app.audit_log
        return audit_pb2.GetLogStateResponse(events_by_stream=log.by_stream, size=log.size)
