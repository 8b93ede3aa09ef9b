"""gRPC face of identity: proto in (checked by `hearth_runtime.fields`), domain call, proto out.

Domain errors are the runtime's family; its `ErrorInterceptor` answers them.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from uuid import UUID

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from hearth_proto.hearth.age.v1 import types_pb2
from hearth_proto.hearth.identity.v1 import identity_pb2, identity_pb2_grpc
from hearth_runtime import fields
from hearth_runtime.access import current_session
from hearth_runtime.admin import OPERATOR
from hearth_runtime.errors import Invalid, NotFound

from .application import Identity
from .domain import STAFF_ROLES, Role

MAX_TEXT = 200
MAX_CHALLENGE_ID = 512
# A passkey ceremony's challenge carries more (an enrolment's display name, up to MAX_TEXT).
MAX_PASSKEY_CHALLENGE_ID = 2048
# An attestation with its certificate chain is a few kilobytes; "none" far less.
MAX_CREDENTIAL_JSON = 32 * 1024
PURPOSE = re.compile(r"[a-z][a-z0-9_]{0,63}")
ROLES = {r.value for r in Role}
STAFF = {r.value for r in STAFF_ROLES}


def device_key(value: bytes) -> bytes:
    return fields.exact_bytes(value, "device_public_key", 32, "Ed25519 key")


def signature(value: bytes, field: str) -> bytes:
    return fields.exact_bytes(value, field, 64, "signature")


def passkey_challenge_id(value: str) -> str:
    if not 0 < len(value) <= MAX_PASSKEY_CHALLENGE_ID:
        raise Invalid.field("challenge_id", "is required (as the ceremony's Begin gave it)")
    return value


def credential_json(value: str) -> str:
    return fields.text(value, "credential_json", max_chars=MAX_CREDENTIAL_JSON, required=True)


def caller() -> UUID:
    """The session's account; a token for no account id of ours is refused like any other."""
    try:
        return UUID(current_session().account_id)
    except ValueError:
        raise NotFound("the session's account does not exist", reason="ACCOUNT_NOT_FOUND") from None


def timestamp(seconds: int) -> Timestamp:
    return Timestamp(seconds=seconds)


class IdentityServicer(identity_pb2_grpc.IdentityServiceServicer):
    def __init__(self, app: Identity) -> None:
        self.app = app

    def RegisterAccount(
        self, request: identity_pb2.RegisterAccountRequest, context: grpc.ServicerContext
    ) -> identity_pb2.RegisterAccountResponse:
        rid = fields.request_id(request.request_id)
        role = Role(fields.known(request.role, "role", ROLES, "a known role"))
        key = device_key(request.device_public_key)
        personal = {
            "display_name": fields.text(request.display_name, "display_name", max_chars=MAX_TEXT),
            "contact_detail": fields.text(
                request.contact_detail, "contact_detail", max_chars=MAX_TEXT
            ),
        }
        personal = {k: v for k, v in personal.items() if v}
        code = request.invitation_code
        if code and role not in STAFF_ROLES:
            raise Invalid.field("invitation_code", "is for staff roles")
        if len(code) > fields.MAX_REQUEST_ID:
            raise Invalid.field("invitation_code", "is malformed")
        registered = self.app.register_account(role, key, rid, personal, code)
        return identity_pb2.RegisterAccountResponse(account_id=str(registered))

    def InviteStaff(
        self, request: identity_pb2.InviteStaffRequest, context: grpc.ServicerContext
    ) -> identity_pb2.InviteStaffResponse:
        role = Role(fields.known(request.role, "role", STAFF, "a staff role"))
        operator = current_session().has_role(OPERATOR)
        name = request.organisation_name
        if name:  # optional, but never blank
            name = fields.text(name, "organisation_name", max_chars=MAX_TEXT, required=True)
        organisation = None
        if request.organisation_id or not (operator or name):
            organisation = fields.identifier(
                request.organisation_id, "organisation_id", "organisation"
            )
        code, expires_at = self.app.invite_staff(
            current_session().account_id,
            operator=operator,
            organisation_id=organisation,
            role=role,
            organisation_name=name,
        )
        expiry = Timestamp()
        expiry.FromDatetime(expires_at)
        return identity_pb2.InviteStaffResponse(invitation_code=code, expires_at=expiry)

    def GetAccount(
        self, request: identity_pb2.GetAccountRequest, context: grpc.ServicerContext
    ) -> identity_pb2.GetAccountResponse:
        if request.account_id and request.account_id != current_session().account_id:
            return self._staff_view(fields.identifier(request.account_id, "account_id", "account"))
        account = self.app.get_account(caller())
        personal = self.app.personal_data(account)
        now = self.app.now()
        return identity_pb2.GetAccountResponse(
            account_id=str(account.id),
            role=identity_pb2.Role.ValueType(account.role),
            devices=account.devices,
            attested_band=types_pb2.AgeBand.ValueType(account.attested_band(now)),
            effective_band=types_pb2.AgeBand.ValueType(account.effective_band(now)),
            organisations=account.organisations,
            house_rules_version=account.house_rules_version,
            erased=account.erased,
            display_name=personal.get("display_name", ""),
        )

    def _staff_view(self, account_id: UUID) -> identity_pb2.GetAccountResponse:
        """Another account for staff of its organisation: no personal data, and the safety
        team's restrictions in force."""
        account = self.app.staff_view(current_session(), account_id)
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
            restrictions=[
                identity_pb2.AccountRestriction(
                    action_id=action_id,
                    kind=kind,
                    case_id=case_id,
                    other_account_id=other,
                    since=_timestamp(at),
                )
                for action_id, (kind, case_id, other, at) in sorted(account.restrictions.items())
            ],
        )

    def AddDevice(
        self, request: identity_pb2.AddDeviceRequest, context: grpc.ServicerContext
    ) -> identity_pb2.AddDeviceResponse:
        fields.request_id(request.request_id)
        key = device_key(request.device_public_key)
        proof = signature(request.proof, "proof")
        devices = self.app.add_device(caller(), key, proof)
        return identity_pb2.AddDeviceResponse(devices=devices)

    def RemoveDevice(
        self, request: identity_pb2.RemoveDeviceRequest, context: grpc.ServicerContext
    ) -> identity_pb2.RemoveDeviceResponse:
        key = device_key(request.device_public_key)
        devices = self.app.remove_device(caller(), key)
        return identity_pb2.RemoveDeviceResponse(devices=devices)

    def BeginLogin(
        self, request: identity_pb2.BeginLoginRequest, context: grpc.ServicerContext
    ) -> identity_pb2.BeginLoginResponse:
        account = fields.identifier(request.account_id, "account_id", "account")
        key = device_key(request.device_public_key)
        challenge = self.app.begin_login(account, key)
        return identity_pb2.BeginLoginResponse(
            challenge_id=challenge.challenge_id,
            challenge=challenge.challenge,
            expires_at=timestamp(int(challenge.expires_at)),
        )

    def CompleteLogin(
        self, request: identity_pb2.CompleteLoginRequest, context: grpc.ServicerContext
    ) -> identity_pb2.CompleteLoginResponse:
        if not 0 < len(request.challenge_id) <= MAX_CHALLENGE_ID:
            raise Invalid.field("challenge_id", "is required (as BeginLogin gave it)")
        signed = signature(request.signature, "signature")
        issued = self.app.complete_login(request.challenge_id, signed)
        return identity_pb2.CompleteLoginResponse(
            session_token=issued.token, expires_at=timestamp(issued.expires_at)
        )

    def BeginPasskeyRegistration(
        self, request: identity_pb2.BeginPasskeyRegistrationRequest, context: grpc.ServicerContext
    ) -> identity_pb2.BeginPasskeyRegistrationResponse:
        begun = self.app.passkeys.begin_registration(caller())
        return identity_pb2.BeginPasskeyRegistrationResponse(
            challenge_id=begun.challenge_id,
            options_json=begun.options_json,
            expires_at=timestamp(begun.expires_at),
        )

    def CompletePasskeyRegistration(
        self,
        request: identity_pb2.CompletePasskeyRegistrationRequest,
        context: grpc.ServicerContext,
    ) -> identity_pb2.CompletePasskeyRegistrationResponse:
        challenge_id = passkey_challenge_id(request.challenge_id)
        credential = credential_json(request.credential_json)
        device_id, devices = self.app.passkeys.complete_registration(
            caller(), challenge_id, credential
        )
        return identity_pb2.CompletePasskeyRegistrationResponse(
            device_id=device_id, devices=devices
        )

    def BeginPasskeyEnrolment(
        self, request: identity_pb2.BeginPasskeyEnrolmentRequest, context: grpc.ServicerContext
    ) -> identity_pb2.BeginPasskeyEnrolmentResponse:
        code = request.invitation_code
        if not 0 < len(code) <= fields.MAX_REQUEST_ID:
            raise Invalid.field("invitation_code", "is required (as InviteStaff gave it)")
        name = fields.text(request.display_name, "display_name", max_chars=MAX_TEXT)
        begun = self.app.passkeys.begin_enrolment(code, name)
        return identity_pb2.BeginPasskeyEnrolmentResponse(
            challenge_id=begun.challenge_id,
            options_json=begun.options_json,
            expires_at=timestamp(begun.expires_at),
            account_id=begun.account_id,
        )

    def CompletePasskeyEnrolment(
        self, request: identity_pb2.CompletePasskeyEnrolmentRequest, context: grpc.ServicerContext
    ) -> identity_pb2.CompletePasskeyEnrolmentResponse:
        challenge_id = passkey_challenge_id(request.challenge_id)
        credential = credential_json(request.credential_json)
        enrolled = self.app.passkeys.complete_enrolment(challenge_id, credential)
        return identity_pb2.CompletePasskeyEnrolmentResponse(
            account_id=str(enrolled.account_id),
            device_id=enrolled.device_id,
            session_token=enrolled.session.token,
            expires_at=timestamp(enrolled.session.expires_at),
        )

    def BeginPasskeyLogin(
        self, request: identity_pb2.BeginPasskeyLoginRequest, context: grpc.ServicerContext
    ) -> identity_pb2.BeginPasskeyLoginResponse:
        account = None
        if request.account_id:
            account = fields.identifier(request.account_id, "account_id", "account")
        begun = self.app.passkeys.begin_login(account)
        return identity_pb2.BeginPasskeyLoginResponse(
            challenge_id=begun.challenge_id,
            options_json=begun.options_json,
            expires_at=timestamp(begun.expires_at),
        )

    def CompletePasskeyLogin(
        self, request: identity_pb2.CompletePasskeyLoginRequest, context: grpc.ServicerContext
    ) -> identity_pb2.CompletePasskeyLoginResponse:
        challenge_id = passkey_challenge_id(request.challenge_id)
        credential = credential_json(request.credential_json)
        logged_in = self.app.passkeys.complete_login(challenge_id, credential)
        return identity_pb2.CompletePasskeyLoginResponse(
            session_token=logged_in.session.token,
            expires_at=timestamp(logged_in.session.expires_at),
            account_id=str(logged_in.account_id),
            device_id=logged_in.device_id,
        )

    def RenewSession(
        self, request: identity_pb2.RenewSessionRequest, context: grpc.ServicerContext
    ) -> identity_pb2.RenewSessionResponse:
        issued = self.app.renew_session(caller())
        return identity_pb2.RenewSessionResponse(
            session_token=issued.token, expires_at=timestamp(issued.expires_at)
        )

    def CreateOrganisation(
        self, request: identity_pb2.CreateOrganisationRequest, context: grpc.ServicerContext
    ) -> identity_pb2.CreateOrganisationResponse:
        rid = fields.request_id(request.request_id)
        name = fields.text(request.name, "name", max_chars=MAX_TEXT, required=True)
        created = self.app.create_organisation(caller(), rid, name)
        return identity_pb2.CreateOrganisationResponse(organisation_id=str(created))

    def AddOrganisationMember(
        self, request: identity_pb2.AddOrganisationMemberRequest, context: grpc.ServicerContext
    ) -> identity_pb2.AddOrganisationMemberResponse:
        org = fields.identifier(request.organisation_id, "organisation_id", "organisation")
        member = fields.identifier(request.account_id, "account_id", "account")
        self.app.add_member(caller(), org, member)
        return identity_pb2.AddOrganisationMemberResponse()

    def VetPractitioner(
        self, request: identity_pb2.VetPractitionerRequest, context: grpc.ServicerContext
    ) -> identity_pb2.VetPractitionerResponse:
        org = fields.identifier(request.organisation_id, "organisation_id", "organisation")
        practitioner = fields.identifier(request.account_id, "account_id", "account")
        at = self.app.vet_practitioner(caller(), org, practitioner)
        vetted_at = Timestamp()
        vetted_at.FromDatetime(at)
        return identity_pb2.VetPractitionerResponse(vetted_at=vetted_at)

    def ConsentToGuardianLink(
        self, request: identity_pb2.ConsentToGuardianLinkRequest, context: grpc.ServicerContext
    ) -> identity_pb2.ConsentToGuardianLinkResponse:
        other = fields.identifier(request.other_account_id, "other_account_id", "account")
        linked = self.app.consent_to_link(caller(), other)
        return identity_pb2.ConsentToGuardianLinkResponse(linked=linked)

    def ConfirmGuardianLink(
        self, request: identity_pb2.ConfirmGuardianLinkRequest, context: grpc.ServicerContext
    ) -> identity_pb2.ConfirmGuardianLinkResponse:
        guardian = fields.identifier(request.guardian_account_id, "guardian_account_id", "account")
        child = fields.identifier(request.child_account_id, "child_account_id", "account")
        self.app.confirm_link(caller(), guardian, child)
        return identity_pb2.ConfirmGuardianLinkResponse()

    def RecordGuardianConsent(
        self, request: identity_pb2.RecordGuardianConsentRequest, context: grpc.ServicerContext
    ) -> identity_pb2.RecordGuardianConsentResponse:
        child = fields.identifier(request.child_account_id, "child_account_id", "account")
        self.app.record_guardian_consent(caller(), child, request.granted)
        return identity_pb2.RecordGuardianConsentResponse()

    def ApproveContact(
        self, request: identity_pb2.ApproveContactRequest, context: grpc.ServicerContext
    ) -> identity_pb2.ApproveContactResponse:
        child = fields.identifier(request.child_account_id, "child_account_id", "account")
        contact = fields.identifier(request.contact_account_id, "contact_account_id", "account")
        self.app.approve_contact(caller(), child, contact)
        return identity_pb2.ApproveContactResponse()

    def GetHouseRules(
        self, request: identity_pb2.GetHouseRulesRequest, context: grpc.ServicerContext
    ) -> identity_pb2.GetHouseRulesResponse:
        rules = self.app.house_rules
        return identity_pb2.GetHouseRulesResponse(version=rules.version, text=rules.text)

    def AcceptHouseRules(
        self, request: identity_pb2.AcceptHouseRulesRequest, context: grpc.ServicerContext
    ) -> identity_pb2.AcceptHouseRulesResponse:
        version = fields.positive(request.version, "version")
        self.app.accept_house_rules(caller(), version)
        return identity_pb2.AcceptHouseRulesResponse()

    def RecordConsent(
        self, request: identity_pb2.RecordConsentRequest, context: grpc.ServicerContext
    ) -> identity_pb2.RecordConsentResponse:
        purpose = fields.matching(
            request.purpose,
            "purpose",
            PURPOSE,
            "1..64 lower case letters, digits or underscores",
        )
        self.app.record_consent(caller(), purpose, request.granted)
        return identity_pb2.RecordConsentResponse()

    def ExportMyData(
        self, request: identity_pb2.ExportMyDataRequest, context: grpc.ServicerContext
    ) -> identity_pb2.ExportMyDataResponse:
        document = self.app.export(caller())
        return identity_pb2.ExportMyDataResponse(document=json.dumps(document, indent=2))

    def EraseAccount(
        self, request: identity_pb2.EraseAccountRequest, context: grpc.ServicerContext
    ) -> identity_pb2.EraseAccountResponse:
        me = caller()
        self.app.erase(me, requested_by=me)
        return identity_pb2.EraseAccountResponse()


def _timestamp(at: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(at)
    return stamp
