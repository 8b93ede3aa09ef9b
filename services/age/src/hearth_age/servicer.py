"""gRPC face of age assurance: proto in, domain call, proto out; domain errors to status codes."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import NoReturn, TypeVar

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from hearth_crypto import age_token
from hearth_crypto.age_band import AgeBand
from hearth_proto.hearth.age.v1 import age_pb2, age_pb2_grpc
from hearth_runtime.access import current_session

from .application import (
    AgeAssurance,
    BatchTooLarge,
    ChallengeRejected,
    Decision,
    ExpiredEpoch,
    ForgedToken,
    InvalidRequest,
    NotTheHolder,
    NotVouchable,
    SessionNotFound,
    TokenAlreadySpent,
    WrongBand,
)
from .domain import (
    AgeAssuranceError,
    AlreadyDecided,
    AlreadyIssued,
    MethodClass,
    NotDecided,
    WrongMethod,
)
from .keys import IssuerKeyEntry
from .verifiers import EvidenceRejected, MethodNotOffered

T = TypeVar("T")
ATTESTABLE = {band.value for band in AgeBand.known()}
MAX_REQUEST_ID = 128
STATUS: dict[type[AgeAssuranceError], grpc.StatusCode] = {
    SessionNotFound: grpc.StatusCode.NOT_FOUND,
    BatchTooLarge: grpc.StatusCode.RESOURCE_EXHAUSTED,
    InvalidRequest: grpc.StatusCode.INVALID_ARGUMENT,
    EvidenceRejected: grpc.StatusCode.INVALID_ARGUMENT,
    ForgedToken: grpc.StatusCode.INVALID_ARGUMENT,
    ChallengeRejected: grpc.StatusCode.INVALID_ARGUMENT,
    WrongBand: grpc.StatusCode.PERMISSION_DENIED,
    NotVouchable: grpc.StatusCode.PERMISSION_DENIED,
    NotTheHolder: grpc.StatusCode.UNAUTHENTICATED,
    TokenAlreadySpent: grpc.StatusCode.ALREADY_EXISTS,
    ExpiredEpoch: grpc.StatusCode.FAILED_PRECONDITION,
    WrongMethod: grpc.StatusCode.FAILED_PRECONDITION,
    AlreadyDecided: grpc.StatusCode.FAILED_PRECONDITION,
    NotDecided: grpc.StatusCode.FAILED_PRECONDITION,
    AlreadyIssued: grpc.StatusCode.FAILED_PRECONDITION,
    MethodNotOffered: grpc.StatusCode.FAILED_PRECONDITION,
}


def _timestamp(when: object) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(when)  # type: ignore[arg-type]
    return stamp


def _decision(decision: Decision) -> age_pb2.AgeDecision:
    return age_pb2.AgeDecision(
        band=decision.band.value,  # type: ignore[arg-type]
        method_class=decision.method_class.value,  # type: ignore[arg-type]
        assurance_level=decision.assurance_level.value,  # type: ignore[arg-type]
    )


def _key(entry: IssuerKeyEntry) -> age_pb2.IssuerKey:
    return age_pb2.IssuerKey(
        band=entry.band.value,  # type: ignore[arg-type]
        method_class=entry.method_class.value,  # type: ignore[arg-type]
        assurance_level=entry.assurance_level.value,  # type: ignore[arg-type]
        epoch=str(entry.epoch),
        key_id=entry.key_id,
        public_key_der=entry.public_der,
        not_after=_timestamp(entry.not_after),
    )


class AgeServicer(age_pb2_grpc.AgeServiceServicer):
    def __init__(self, app: AgeAssurance) -> None:
        self.app = app

    @staticmethod
    def _run(context: grpc.ServicerContext, call: Callable[[], T]) -> T:
        try:
            return call()
        except AgeAssuranceError as e:
            code = next(
                (c for kind, c in STATUS.items() if isinstance(e, kind)),
                grpc.StatusCode.INVALID_ARGUMENT,
            )
            _abort(context, code, str(e))

    @staticmethod
    def _capability(context: grpc.ServicerContext, verification_id: str) -> bytes:
        try:
            return base64.urlsafe_b64decode(verification_id.encode("ascii") + b"==")
        except (binascii.Error, UnicodeEncodeError, ValueError):
            _abort(context, grpc.StatusCode.INVALID_ARGUMENT, "verification_id is malformed")

    @staticmethod
    def _request_id(context: grpc.ServicerContext, request_id: str) -> str:
        if not 0 < len(request_id) <= MAX_REQUEST_ID:
            _abort(
                context,
                grpc.StatusCode.INVALID_ARGUMENT,
                f"request_id must be 1..{MAX_REQUEST_ID} characters",
            )
        return request_id

    def GetIssuerKeys(
        self, request: age_pb2.GetIssuerKeysRequest, context: grpc.ServicerContext
    ) -> age_pb2.GetIssuerKeysResponse:
        entries = self.app.publish_current_keys()
        return age_pb2.GetIssuerKeysResponse(keys=[_key(e) for e in entries])

    def StartVerification(
        self, request: age_pb2.StartVerificationRequest, context: grpc.ServicerContext
    ) -> age_pb2.StartVerificationResponse:
        request_id = self._request_id(context, request.request_id)
        if request.method_class not in MethodClass._value2member_map_:
            _abort(context, grpc.StatusCode.INVALID_ARGUMENT, "method_class must be a method")
        account_id = current_session().account_id
        capability = self.app.start_verification(
            account_id, request_id, MethodClass(request.method_class)
        )
        verification_id = base64.urlsafe_b64encode(capability).rstrip(b"=").decode()
        return age_pb2.StartVerificationResponse(verification_id=verification_id)

    def SubmitDocument(
        self, request: age_pb2.SubmitDocumentRequest, context: grpc.ServicerContext
    ) -> age_pb2.SubmitDocumentResponse:
        capability = self._capability(context, request.verification_id)
        decision = self._run(
            context,
            lambda: self.app.submit_document(capability, request.document, request.signature),
        )
        return age_pb2.SubmitDocumentResponse(decision=_decision(decision))

    def SubmitFaceImage(
        self, request: age_pb2.SubmitFaceImageRequest, context: grpc.ServicerContext
    ) -> age_pb2.SubmitFaceImageResponse:
        capability = self._capability(context, request.verification_id)
        decision = self._run(context, lambda: self.app.submit_face_image(capability, request.image))
        return age_pb2.SubmitFaceImageResponse(decision=_decision(decision))

    def Vouch(
        self, request: age_pb2.VouchRequest, context: grpc.ServicerContext
    ) -> age_pb2.VouchResponse:
        capability = self._capability(context, request.verification_id)
        if request.band not in ATTESTABLE:
            _abort(context, grpc.StatusCode.INVALID_ARGUMENT, "band must be an age band")
        session = current_session()
        decision = self._run(
            context,
            lambda: self.app.vouch(
                capability,
                AgeBand(request.band),
                request.subject_account_id,
                session.account_id,
                session.roles,
            ),
        )
        return age_pb2.VouchResponse(decision=_decision(decision))

    def IssueTokens(
        self, request: age_pb2.IssueTokensRequest, context: grpc.ServicerContext
    ) -> age_pb2.IssueTokensResponse:
        self._request_id(context, request.request_id)
        capability = self._capability(context, request.verification_id)
        signatures, entry = self._run(
            context,
            lambda: self.app.issue_tokens(
                capability, request.key_id, list(request.blinded_messages)
            ),
        )
        return age_pb2.IssueTokensResponse(
            blind_signatures=signatures, key_id=entry.key_id, epoch=str(entry.epoch)
        )

    def GetRedemptionChallenge(
        self, request: age_pb2.GetRedemptionChallengeRequest, context: grpc.ServicerContext
    ) -> age_pb2.GetRedemptionChallengeResponse:
        challenge, expires = self.app.redemption_challenge(current_session().account_id)
        return age_pb2.GetRedemptionChallengeResponse(
            challenge=challenge, expires_at=_timestamp(expires)
        )

    def RedeemToken(
        self, request: age_pb2.RedeemTokenRequest, context: grpc.ServicerContext
    ) -> age_pb2.RedeemTokenResponse:
        request_id = self._request_id(context, request.request_id)
        if request.band not in ATTESTABLE:
            _abort(context, grpc.StatusCode.INVALID_ARGUMENT, "band must be an age band")
        presentation = age_token.TokenPresentation(
            request.token_message, request.randomizer, request.signature, request.holder_proof
        )
        account_id = current_session().account_id
        attestation = self._run(
            context,
            lambda: self.app.redeem(
                account_id, request_id, AgeBand(request.band), request.challenge, presentation
            ),
        )
        return age_pb2.RedeemTokenResponse(
            band=attestation.band.value,  # type: ignore[arg-type]
            method_class=attestation.method_class.value,  # type: ignore[arg-type]
            assurance_level=attestation.assurance_level.value,  # type: ignore[arg-type]
            epoch=attestation.epoch,
            expires_at=_timestamp(attestation.expires_at),
        )


def _abort(context: grpc.ServicerContext, code: grpc.StatusCode, details: str) -> NoReturn:
    context.abort(code, details)
    raise AssertionError("context.abort returns only by raising")
