"""gRPC face of identity: proto in, domain call, proto out; domain errors to status codes."""

from __future__ import annotations

from uuid import UUID

import grpc

from hearth_proto.hearth.identity.v1 import identity_pb2, identity_pb2_grpc
from hearth_runtime.access import current_session

from .application import AccountNotFound, Identity, RequestConflict
from .domain import Role

MAX_REQUEST_ID = 128


class IdentityServicer(identity_pb2_grpc.IdentityServiceServicer):
    def __init__(self, app: Identity) -> None:
        self.app = app

    def RegisterAccount(
        self, request: identity_pb2.RegisterAccountRequest, context: grpc.ServicerContext
    ) -> identity_pb2.RegisterAccountResponse:
        if not 0 < len(request.request_id) <= MAX_REQUEST_ID:
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"request_id must be 1..{MAX_REQUEST_ID} characters",
            )
        if request.role not in Role._value2member_map_:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "role must be a known role")
        if len(request.device_public_key) != 32:
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, "device_public_key must be a 32-byte Ed25519 key"
            )
        try:
            account_id = self.app.register_account(
                Role(request.role), request.device_public_key, request.request_id
            )
        except RequestConflict as e:
            context.abort(grpc.StatusCode.ALREADY_EXISTS, str(e))
        return identity_pb2.RegisterAccountResponse(account_id=str(account_id))

    def GetAccount(
        self, request: identity_pb2.GetAccountRequest, context: grpc.ServicerContext
    ) -> identity_pb2.GetAccountResponse:
        session = current_session()
        try:
            account = self.app.get_account(UUID(session.account_id))
        except (AccountNotFound, ValueError):
            context.abort(grpc.StatusCode.NOT_FOUND, "the session's account does not exist")
        return identity_pb2.GetAccountResponse(
            account_id=str(account.id),
            role=identity_pb2.Role.ValueType(account.role),
            devices=len(account.device_keys),
        )
