"""gRPC face of age assurance: proto in (checked by `hearth_runtime.fields`), domain call, proto
out. Domain errors are the runtime's family; its `ErrorInterceptor` answers them.
"""

from __future__ import annotations

import base64
import binascii

import grpc
import grpc.aio
from google.protobuf.timestamp_pb2 import Timestamp

from hearth_crypto import age_token
from hearth_crypto.age_band import AgeBand
from hearth_proto.hearth.age.v1 import age_pb2, age_pb2_grpc
from hearth_runtime import fields
from hearth_runtime.access import current_session
from hearth_runtime.errors import Invalid

from .application import AgeAssurance, Decision
from .domain import MethodClass
from .keys import IssuerKeyEntry

ATTESTABLE = {band.value for band in AgeBand.known()}
METHODS = {m.value for m in MethodClass}


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
    def _capability(verification_id: str) -> bytes:
        try:
            return base64.urlsafe_b64decode(verification_id.encode("ascii") + b"==")
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raise Invalid.field("verification_id", "is malformed") from None

    def GetIssuerKeys(
        self, request: age_pb2.GetIssuerKeysRequest, context: grpc.ServicerContext
    ) -> age_pb2.GetIssuerKeysResponse:
        entries = self.app.publish_current_keys()
        return age_pb2.GetIssuerKeysResponse(keys=[_key(e) for e in entries])

    def StartVerification(
        self, request: age_pb2.StartVerificationRequest, context: grpc.ServicerContext
    ) -> age_pb2.StartVerificationResponse:
        request_id = fields.request_id(request.request_id)
        method = fields.known(request.method_class, "method_class", METHODS, "a method")
        account_id = current_session().account_id
        capability = self.app.start_verification(account_id, request_id, MethodClass(method))
        verification_id = base64.urlsafe_b64encode(capability).rstrip(b"=").decode()
        return age_pb2.StartVerificationResponse(verification_id=verification_id)

    def SubmitDocument(
        self, request: age_pb2.SubmitDocumentRequest, context: grpc.ServicerContext
    ) -> age_pb2.SubmitDocumentResponse:
        capability = self._capability(request.verification_id)
        decision = self.app.submit_document(capability, request.document, request.signature)
        return age_pb2.SubmitDocumentResponse(decision=_decision(decision))

    def SubmitFaceImage(
        self, request: age_pb2.SubmitFaceImageRequest, context: grpc.ServicerContext
    ) -> age_pb2.SubmitFaceImageResponse:
        capability = self._capability(request.verification_id)
        decision = self.app.submit_face_image(capability, request.image)
        return age_pb2.SubmitFaceImageResponse(decision=_decision(decision))

    def Vouch(
        self, request: age_pb2.VouchRequest, context: grpc.ServicerContext
    ) -> age_pb2.VouchResponse:
        capability = self._capability(request.verification_id)
        band = AgeBand(fields.known(request.band, "band", ATTESTABLE, "an age band"))
        session = current_session()
        decision = self.app.vouch(
            capability,
            band,
            request.subject_account_id,
            session.account_id,
            session.roles,
        )
        return age_pb2.VouchResponse(decision=_decision(decision))

    def IssueTokens(
        self, request: age_pb2.IssueTokensRequest, context: grpc.ServicerContext
    ) -> age_pb2.IssueTokensResponse:
        fields.request_id(request.request_id)
        capability = self._capability(request.verification_id)
        signatures, entry = self.app.issue_tokens(
            capability, request.key_id, list(request.blinded_messages)
        )
        return age_pb2.IssueTokensResponse(
            blind_signatures=signatures, key_id=entry.key_id, epoch=str(entry.epoch)
        )

    async def GetRedemptionChallenge(
        self, request: age_pb2.GetRedemptionChallengeRequest, context: grpc.aio.ServicerContext
    ) -> age_pb2.GetRedemptionChallengeResponse:
        # Async: a MAC over the time and fresh randomness, no I/O, so it is answered on the
        # server's loop without the hop to a pool thread and back, a third of its cost.
        challenge, expires = self.app.redemption_challenge(current_session().account_id)
        return age_pb2.GetRedemptionChallengeResponse(
            challenge=challenge, expires_at=_timestamp(expires)
        )

    def RedeemToken(
        self, request: age_pb2.RedeemTokenRequest, context: grpc.ServicerContext
    ) -> age_pb2.RedeemTokenResponse:
        request_id = fields.request_id(request.request_id)
        band = AgeBand(fields.known(request.band, "band", ATTESTABLE, "an age band"))
        presentation = age_token.TokenPresentation(
            request.token_message, request.randomizer, request.signature, request.holder_proof
        )
        account_id = current_session().account_id
        attestation = self.app.redeem(account_id, request_id, band, request.challenge, presentation)
        return age_pb2.RedeemTokenResponse(
            band=attestation.band.value,  # type: ignore[arg-type]
            method_class=attestation.method_class.value,  # type: ignore[arg-type]
            assurance_level=attestation.assurance_level.value,  # type: ignore[arg-type]
            epoch=attestation.epoch,
            expires_at=_timestamp(attestation.expires_at),
        )
