"""gRPC face of identity: proto in, domain call, proto out; domain errors to status codes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn, TypeVar
from uuid import UUID

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from hearth_proto.hearth.age.v1 import types_pb2
from hearth_proto.hearth.identity.v1 import identity_pb2, identity_pb2_grpc
from hearth_runtime.access import current_session
from hearth_runtime.admin import OPERATOR

from .application import BadProof, Identity, TooManyDevices
from .domain import (
    STAFF_ROLES,
    Conflict,
    NotFound,
    NotPermitted,
    Precondition,
    Role,
)
from .login import LoginRefused

MAX_REQUEST_ID = 128
MAX_TEXT = 200
MAX_SIGNATURE = 64
MAX_CHALLENGE_ID = 512
PURPOSE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
T = TypeVar("T")

# Domain refusals, most specific first, and the status each answers.
STATUS: list[tuple[type[Exception], grpc.StatusCode]] = [
    (LoginRefused, grpc.StatusCode.UNAUTHENTICATED),
    (TooManyDevices, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (BadProof, grpc.StatusCode.INVALID_ARGUMENT),
    (Conflict, grpc.StatusCode.ALREADY_EXISTS),
    (NotFound, grpc.StatusCode.NOT_FOUND),
    (NotPermitted, grpc.StatusCode.PERMISSION_DENIED),
    (Precondition, grpc.StatusCode.FAILED_PRECONDITION),
]


def abort(context: grpc.ServicerContext, code: grpc.StatusCode, message: str) -> NoReturn:
    context.abort(code, message)
    raise AssertionError("unreachable: abort raises")


@contextmanager
def refusals(context: grpc.ServicerContext) -> Iterator[None]:
    try:
        yield
    except tuple(e for e, _ in STATUS) as e:
        code = next(c for kind, c in STATUS if isinstance(e, kind))
        abort(context, code, str(e))


def account_id(context: grpc.ServicerContext, value: str, field: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        abort(context, grpc.StatusCode.INVALID_ARGUMENT, f"{field} must be an account id (UUID)")


def request_id(context: grpc.ServicerContext, value: str) -> str:
    if not 0 < len(value) <= MAX_REQUEST_ID:
        abort(
            context,
            grpc.StatusCode.INVALID_ARGUMENT,
            f"request_id must be 1..{MAX_REQUEST_ID} characters",
        )
    return value


def device_key(context: grpc.ServicerContext, value: bytes) -> bytes:
    if len(value) != 32:
        abort(
            context,
            grpc.StatusCode.INVALID_ARGUMENT,
            "device_public_key must be a 32-byte Ed25519 key",
        )
    return value


def text(context: grpc.ServicerContext, value: str, field: str, *, required: bool) -> str:
    if (required and not value.strip()) or len(value) > MAX_TEXT:
        need = "1.." if required else "at most "
        message = f"{field} must be {need}{MAX_TEXT} characters"
        abort(context, grpc.StatusCode.INVALID_ARGUMENT, message)
    return value


def caller() -> UUID:
    """The session's account; a token for no account id of ours is refused like any other."""
    try:
        return UUID(current_session().account_id)
    except ValueError:
        raise NotFound("the session's account does not exist") from None


def timestamp(seconds: int) -> Timestamp:
    return Timestamp(seconds=seconds)


class IdentityServicer(identity_pb2_grpc.IdentityServiceServicer):
    def __init__(self, app: Identity) -> None:
        self.app = app

    def _run(self, context: grpc.ServicerContext, call: Callable[[], T]) -> T:
        with refusals(context):
            return call()
        raise AssertionError("unreachable")

    def RegisterAccount(
        self, request: identity_pb2.RegisterAccountRequest, context: grpc.ServicerContext
    ) -> identity_pb2.RegisterAccountResponse:
        rid = request_id(context, request.request_id)
        if request.role not in Role._value2member_map_:
            abort(context, grpc.StatusCode.INVALID_ARGUMENT, "role must be a known role")
        key = device_key(context, request.device_public_key)
        personal = {
            "display_name": text(context, request.display_name, "display_name", required=False),
            "contact_detail": text(
                context, request.contact_detail, "contact_detail", required=False
            ),
        }
        personal = {k: v for k, v in personal.items() if v}
        role = Role(request.role)
        code = request.invitation_code
        if code and role not in STAFF_ROLES:
            abort(context, grpc.StatusCode.INVALID_ARGUMENT, "invitation_code is for staff roles")
        if len(code) > MAX_REQUEST_ID:
            abort(context, grpc.StatusCode.INVALID_ARGUMENT, "invitation_code is malformed")
        registered = self._run(
            context, lambda: self.app.register_account(role, key, rid, personal, code)
        )
        return identity_pb2.RegisterAccountResponse(account_id=str(registered))

    def InviteStaff(
        self, request: identity_pb2.InviteStaffRequest, context: grpc.ServicerContext
    ) -> identity_pb2.InviteStaffResponse:
        if request.role not in {r.value for r in STAFF_ROLES}:
            abort(context, grpc.StatusCode.INVALID_ARGUMENT, "role must be a staff role")
        operator = current_session().has_role(OPERATOR)
        name = request.organisation_name
        if name:  # optional, but never blank
            name = text(context, name, "organisation_name", required=True)
        organisation = None
        if request.organisation_id or not (operator or name):
            organisation = account_id(context, request.organisation_id, "organisation_id")
        code, expires_at = self._run(
            context,
            lambda: self.app.invite_staff(
                current_session().account_id,
                operator=operator,
                organisation_id=organisation,
                role=Role(request.role),
                organisation_name=name,
            ),
        )
        expiry = Timestamp()
        expiry.FromDatetime(expires_at)
        return identity_pb2.InviteStaffResponse(invitation_code=code, expires_at=expiry)

    def GetAccount(
        self, request: identity_pb2.GetAccountRequest, context: grpc.ServicerContext
    ) -> identity_pb2.GetAccountResponse:
        with refusals(context):
            account = self.app.get_account(caller())
            personal = self.app.personal_data(account)
        now = self.app.now()
        return identity_pb2.GetAccountResponse(
            account_id=str(account.id),
            role=identity_pb2.Role.ValueType(account.role),
            devices=len(account.device_keys),
            attested_band=types_pb2.AgeBand.ValueType(account.attested_band(now)),
            effective_band=types_pb2.AgeBand.ValueType(account.effective_band(now)),
            organisations=account.organisations,
            house_rules_version=account.house_rules_version,
            erased=account.erased,
            display_name=personal.get("display_name", ""),
        )

    def AddDevice(
        self, request: identity_pb2.AddDeviceRequest, context: grpc.ServicerContext
    ) -> identity_pb2.AddDeviceResponse:
        request_id(context, request.request_id)
        key = device_key(context, request.device_public_key)
        if len(request.proof) != MAX_SIGNATURE:
            abort(context, grpc.StatusCode.INVALID_ARGUMENT, "proof must be a 64-byte signature")
        devices = self._run(context, lambda: self.app.add_device(caller(), key, request.proof))
        return identity_pb2.AddDeviceResponse(devices=devices)

    def RemoveDevice(
        self, request: identity_pb2.RemoveDeviceRequest, context: grpc.ServicerContext
    ) -> identity_pb2.RemoveDeviceResponse:
        key = device_key(context, request.device_public_key)
        devices = self._run(context, lambda: self.app.remove_device(caller(), key))
        return identity_pb2.RemoveDeviceResponse(devices=devices)

    def BeginLogin(
        self, request: identity_pb2.BeginLoginRequest, context: grpc.ServicerContext
    ) -> identity_pb2.BeginLoginResponse:
        account = account_id(context, request.account_id, "account_id")
        key = device_key(context, request.device_public_key)
        challenge = self._run(context, lambda: self.app.begin_login(account, key))
        return identity_pb2.BeginLoginResponse(
            challenge_id=challenge.challenge_id,
            challenge=challenge.challenge,
            expires_at=timestamp(int(challenge.expires_at)),
        )

    def CompleteLogin(
        self, request: identity_pb2.CompleteLoginRequest, context: grpc.ServicerContext
    ) -> identity_pb2.CompleteLoginResponse:
        if not 0 < len(request.challenge_id) <= MAX_CHALLENGE_ID:
            abort(context, grpc.StatusCode.INVALID_ARGUMENT, "challenge_id is required")
        if len(request.signature) != MAX_SIGNATURE:
            abort(
                context, grpc.StatusCode.INVALID_ARGUMENT, "signature must be a 64-byte signature"
            )
        issued = self._run(
            context, lambda: self.app.complete_login(request.challenge_id, request.signature)
        )
        return identity_pb2.CompleteLoginResponse(
            session_token=issued.token, expires_at=timestamp(issued.expires_at)
        )

    def RenewSession(
        self, request: identity_pb2.RenewSessionRequest, context: grpc.ServicerContext
    ) -> identity_pb2.RenewSessionResponse:
        issued = self._run(context, lambda: self.app.renew_session(caller()))
        return identity_pb2.RenewSessionResponse(
            session_token=issued.token, expires_at=timestamp(issued.expires_at)
        )

    def CreateOrganisation(
        self, request: identity_pb2.CreateOrganisationRequest, context: grpc.ServicerContext
    ) -> identity_pb2.CreateOrganisationResponse:
        rid = request_id(context, request.request_id)
        name = text(context, request.name, "name", required=True)
        created = self._run(context, lambda: self.app.create_organisation(caller(), rid, name))
        return identity_pb2.CreateOrganisationResponse(organisation_id=str(created))

    def AddOrganisationMember(
        self, request: identity_pb2.AddOrganisationMemberRequest, context: grpc.ServicerContext
    ) -> identity_pb2.AddOrganisationMemberResponse:
        org = account_id(context, request.organisation_id, "organisation_id")
        member = account_id(context, request.account_id, "account_id")
        self._run(context, lambda: self.app.add_member(caller(), org, member))
        return identity_pb2.AddOrganisationMemberResponse()

    def VetPractitioner(
        self, request: identity_pb2.VetPractitionerRequest, context: grpc.ServicerContext
    ) -> identity_pb2.VetPractitionerResponse:
        org = account_id(context, request.organisation_id, "organisation_id")
        practitioner = account_id(context, request.account_id, "account_id")
        at = self._run(context, lambda: self.app.vet_practitioner(caller(), org, practitioner))
        vetted_at = Timestamp()
        vetted_at.FromDatetime(at)
        return identity_pb2.VetPractitionerResponse(vetted_at=vetted_at)

    def ConsentToGuardianLink(
        self, request: identity_pb2.ConsentToGuardianLinkRequest, context: grpc.ServicerContext
    ) -> identity_pb2.ConsentToGuardianLinkResponse:
        other = account_id(context, request.other_account_id, "other_account_id")
        linked = self._run(context, lambda: self.app.consent_to_link(caller(), other))
        return identity_pb2.ConsentToGuardianLinkResponse(linked=linked)

    def ConfirmGuardianLink(
        self, request: identity_pb2.ConfirmGuardianLinkRequest, context: grpc.ServicerContext
    ) -> identity_pb2.ConfirmGuardianLinkResponse:
        guardian = account_id(context, request.guardian_account_id, "guardian_account_id")
        child = account_id(context, request.child_account_id, "child_account_id")
        self._run(context, lambda: self.app.confirm_link(caller(), guardian, child))
        return identity_pb2.ConfirmGuardianLinkResponse()

    def RecordGuardianConsent(
        self, request: identity_pb2.RecordGuardianConsentRequest, context: grpc.ServicerContext
    ) -> identity_pb2.RecordGuardianConsentResponse:
        child = account_id(context, request.child_account_id, "child_account_id")
        self._run(
            context, lambda: self.app.record_guardian_consent(caller(), child, request.granted)
        )
        return identity_pb2.RecordGuardianConsentResponse()

    def ApproveContact(
        self, request: identity_pb2.ApproveContactRequest, context: grpc.ServicerContext
    ) -> identity_pb2.ApproveContactResponse:
        child = account_id(context, request.child_account_id, "child_account_id")
        contact = account_id(context, request.contact_account_id, "contact_account_id")
        self._run(context, lambda: self.app.approve_contact(caller(), child, contact))
        return identity_pb2.ApproveContactResponse()

    def GetHouseRules(
        self, request: identity_pb2.GetHouseRulesRequest, context: grpc.ServicerContext
    ) -> identity_pb2.GetHouseRulesResponse:
        rules = self.app.house_rules
        return identity_pb2.GetHouseRulesResponse(version=rules.version, text=rules.text)

    def AcceptHouseRules(
        self, request: identity_pb2.AcceptHouseRulesRequest, context: grpc.ServicerContext
    ) -> identity_pb2.AcceptHouseRulesResponse:
        if request.version <= 0:
            abort(context, grpc.StatusCode.INVALID_ARGUMENT, "version must be a positive number")
        self._run(context, lambda: self.app.accept_house_rules(caller(), request.version))
        return identity_pb2.AcceptHouseRulesResponse()

    def RecordConsent(
        self, request: identity_pb2.RecordConsentRequest, context: grpc.ServicerContext
    ) -> identity_pb2.RecordConsentResponse:
        if not PURPOSE.match(request.purpose):
            abort(
                context,
                grpc.StatusCode.INVALID_ARGUMENT,
                "purpose must be 1..64 lower case letters, digits or underscores",
            )
        self._run(
            context, lambda: self.app.record_consent(caller(), request.purpose, request.granted)
        )
        return identity_pb2.RecordConsentResponse()

    def ExportMyData(
        self, request: identity_pb2.ExportMyDataRequest, context: grpc.ServicerContext
    ) -> identity_pb2.ExportMyDataResponse:
        document = self._run(context, lambda: self.app.export(caller()))
        return identity_pb2.ExportMyDataResponse(document=json.dumps(document, indent=2))

    def EraseAccount(
        self, request: identity_pb2.EraseAccountRequest, context: grpc.ServicerContext
    ) -> identity_pb2.EraseAccountResponse:
        def erase() -> None:
            me = caller()
            self.app.erase(me, requested_by=me)

        self._run(context, erase)
        return identity_pb2.EraseAccountResponse()
