"""Identity's WebAuthn checks against published responses of real authenticators.

The vectors are py_webauthn's test data (duo-labs/py_webauthn, tests/
test_verify_registration_response.py and test_verify_authentication_response.py): a "none"
attestation and assertions recorded on http://localhost:5000 for RP id localhost. They are
run through identity's own `RelyingParty` and `Passkey`, with its policy (user verification
required, the counter checked against the recorded one). The test authenticator's CBOR is
checked against RFC 8949's Appendix A.
"""

from __future__ import annotations

import base64

import pytest

from hearth_eventlog.settings import ConfigError
from hearth_identity.passkeys import (
    AssertionRefused,
    AttestationRefused,
    ClonedAuthenticator,
    Passkey,
    RelyingParty,
    authentication_credential,
    registration_credential,
)
from tests.support.passkeys import cbor


def b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


LOCALHOST = RelyingParty("localhost", ("http://localhost:5000",))

NONE_ATTESTATION = """{
    "id": "9y1xA8Tmg1FEmT-c7_fvWZ_uoTuoih3OvR45_oAK-cwHWhAbXrl2q62iLVTjiyEZ7O7n-CROOY494k7Q3xrs_w",
    "rawId": "9y1xA8Tmg1FEmT-c7_fvWZ_uoTuoih3OvR45_oAK-cwHWhAbXrl2q62iLVTjiyEZ7O7n-CROOY494k7Q3xrs_w",
    "response": {
        "attestationObject": "o2NmbXRkbm9uZWdhdHRTdG10oGhhdXRoRGF0YVjESZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2NFAAAAFwAAAAAAAAAAAAAAAAAAAAAAQPctcQPE5oNRRJk_nO_371mf7qE7qIodzr0eOf6ACvnMB1oQG165dqutoi1U44shGezu5_gkTjmOPeJO0N8a7P-lAQIDJiABIVggSFbUJF-42Ug3pdM8rDRFu_N5oiVEysPDB6n66r_7dZAiWCDUVnB39FlGypL-qAoIO9xWHtJygo2jfDmHl-_eKFRLDA",
        "clientDataJSON": "eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIiwiY2hhbGxlbmdlIjoiVHdON240V1R5R0tMYzRaWS1xR3NGcUtuSE00bmdscXN5VjBJQ0psTjJUTzlYaVJ5RnRya2FEd1V2c3FsLWdrTEpYUDZmbkYxTWxyWjUzTW00UjdDdnciLCJvcmlnaW4iOiJodHRwOi8vbG9jYWxob3N0OjUwMDAiLCJjcm9zc09yaWdpbiI6ZmFsc2V9"
    },
    "type": "public-key",
    "clientExtensionResults": {},
    "transports": ["nfc", "usb"]
}"""  # noqa: E501
NONE_CHALLENGE = b64(
    "TwN7n4WTyGKLc4ZY-qGsFqKnHM4nglqsyV0ICJlN2TO9XiRyFtrkaDwUvsql-gkLJXP6fnF1MlrZ53Mm4R7Cvw"
)
NONE_PUBLIC_KEY = b64(
    "pQECAyYgASFYIEhW1CRfuNlIN6XTPKw0RbvzeaIlRMrDwwep-uq_-3WQIlgg1FZwd_RZRsqS_qgKCDvcVh7ScoKNo3w5h5fv3ihUSww"
)

# An RS256 assertion with user verification (flags UP|UV), counter 1.
RSA_ASSERTION = """{
    "id": "ZoIKP1JQvKdrYj1bTUPJ2eTUsbLeFkv-X5xJQNr4k6s",
    "rawId": "ZoIKP1JQvKdrYj1bTUPJ2eTUsbLeFkv-X5xJQNr4k6s",
    "response": {
        "authenticatorData": "SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2MFAAAAAQ",
        "clientDataJSON": "eyJ0eXBlIjoid2ViYXV0aG4uZ2V0IiwiY2hhbGxlbmdlIjoiaVBtQWkxUHAxWEw2b0FncTNQV1p0WlBuWmExekZVRG9HYmFRMF9LdlZHMWxGMnMzUnRfM280dVN6Y2N5MHRtY1RJcFRUVDRCVTFULUk0bWFhdm5kalEiLCJvcmlnaW4iOiJodHRwOi8vbG9jYWxob3N0OjUwMDAiLCJjcm9zc09yaWdpbiI6ZmFsc2V9",
        "signature": "iOHKX3erU5_OYP_r_9HLZ-CexCE4bQRrxM8WmuoKTDdhAnZSeTP0sjECjvjfeS8MJzN1ArmvV0H0C3yy_FdRFfcpUPZzdZ7bBcmPh1XPdxRwY747OrIzcTLTFQUPdn1U-izCZtP_78VGw9pCpdMsv4CUzZdJbEcRtQuRS03qUjqDaovoJhOqEBmxJn9Wu8tBi_Qx7A33RbYjlfyLm_EDqimzDZhyietyop6XUcpKarKqVH0M6mMrM5zTjp8xf3W7odFCadXEJg-ERZqFM0-9Uup6kJNLbr6C5J4NDYmSm3HCSA6lp2iEiMPKU8Ii7QZ61kybXLxsX4w4Dm3fOLjmDw",
        "userHandle": "T1RWa1l6VXdPRFV0WW1NNVlTMDBOVEkxTFRnd056Z3RabVZpWVdZNFpEVm1ZMk5p"
    },
    "type": "public-key",
    "clientExtensionResults": {}
}"""  # noqa: E501
RSA_CHALLENGE = b64(
    "iPmAi1Pp1XL6oAgq3PWZtZPnZa1zFUDoGbaQ0_KvVG1lF2s3Rt_3o4uSzccy0tmcTIpTTT4BU1T-I4maavndjQ"
)
RSA_PUBLIC_KEY = b64(
    "pAEDAzkBACBZAQDfV20epzvQP-HtcdDpX-cGzdOxy73WQEvsU7Dnr9UWJophEfpngouvgnRLXaEUn_d8HGkp_HIx8rrpkx4BVs6X_B6ZjhLlezjIdJbLbVeb92BaEsmNn1HW2N9Xj2QM8cH-yx28_vCjf82ahQ9gyAr552Bn96G22n8jqFRQKdVpO-f-bvpvaP3IQ9F5LCX7CUaxptgbog1SFO6FI6ob5SlVVB00lVXsaYg8cIDZxCkkENkGiFPgwEaZ7995SCbiyCpUJbMqToLMgojPkAhWeyktu7TlK6UBWdJMHc3FPAIs0lH_2_2hKS-mGI1uZAFVAfW1X-mzKL0czUm2P1UlUox7IUMBAAE"
)

# An ES256 assertion whose authenticator only saw the user present (flags UP), counter 78.
EC2_ASSERTION_WITHOUT_UV = """{
    "id": "EDx9FfAbp4obx6oll2oC4-CZuDidRVV4gZhxC529ytlnqHyqCStDUwfNdm1SNHAe3X5KvueWQdAX3x9R1a2b9Q",
    "rawId": "EDx9FfAbp4obx6oll2oC4-CZuDidRVV4gZhxC529ytlnqHyqCStDUwfNdm1SNHAe3X5KvueWQdAX3x9R1a2b9Q",
    "response": {
        "authenticatorData": "SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2MBAAAATg",
        "clientDataJSON": "eyJjaGFsbGVuZ2UiOiJ4aTMwR1BHQUZZUnhWRHBZMXNNMTBEYUx6VlFHNjZudi1fN1JVYXpIMHZJMll2RzhMWWdERW52TjVmWlpOVnV2RUR1TWk5dGUzVkxxYjQyTjBma0xHQSIsImNsaWVudEV4dGVuc2lvbnMiOnt9LCJoYXNoQWxnb3JpdGhtIjoiU0hBLTI1NiIsIm9yaWdpbiI6Imh0dHA6Ly9sb2NhbGhvc3Q6NTAwMCIsInR5cGUiOiJ3ZWJhdXRobi5nZXQifQ",
        "signature": "MEUCIGisVZOBapCWbnJJvjelIzwpixxIwkjCCb5aCHafQu68AiEA88v-2pJNNApPFwAKFiNuf82-2hBxYW5kGwVweeoxCwo"
    },
    "type": "public-key",
    "clientExtensionResults": {}
}"""  # noqa: E501
EC2_CHALLENGE = b64(
    "xi30GPGAFYRxVDpY1sM10DaLzVQG66nv-_7RUazH0vI2YvG8LYgDEnvN5fZZNVuvEDuMi9te3VLqb42N0fkLGA"
)
EC2_PUBLIC_KEY = b64(
    "pQECAyYgASFYIIeDTe-gN8A-zQclHoRnGFWN8ehM1b7yAsa8I8KIvmplIlgg4nFGT5px8o6gpPZZhO01wdy9crDSA_Ngtkx0vGpvPHI"
)


def passkey(credential_id: str, public_key: bytes, sign_count: int) -> Passkey:
    return Passkey(
        account_id="00000000-0000-4000-8000-000000000001",
        credential_id=b64(credential_id),
        credential_public_key=public_key,
        sign_count=sign_count,
        rp_id="localhost",
        aaguid=bytes(16),
        multi_device=False,
    )


def test_a_published_none_attestation_verifies_to_its_published_key() -> None:
    new = LOCALHOST.verify_creation(registration_credential(NONE_ATTESTATION), NONE_CHALLENGE)
    assert new.credential_id == b64(
        "9y1xA8Tmg1FEmT-c7_fvWZ_uoTuoih3OvR45_oAK-cwHWhAbXrl2q62iLVTjiyEZ7O7n-CROOY494k7Q3xrs_w"
    )
    assert new.public_key == NONE_PUBLIC_KEY
    assert (new.sign_count, new.aaguid, new.multi_device) == (23, bytes(16), False)


@pytest.mark.parametrize(
    ("relying_party", "challenge", "why"),
    [
        (RelyingParty("localhost", ("http://localhost:5001",)), NONE_CHALLENGE, "origin"),
        (RelyingParty("example.org", ("https://example.org",)), NONE_CHALLENGE, "origin"),
        (RelyingParty("localhost", ("http://localhost:5000",)), b"\x00" * 64, "challenge"),
    ],
)
def test_the_published_attestation_is_refused_elsewhere(
    relying_party: RelyingParty, challenge: bytes, why: str
) -> None:
    with pytest.raises(AttestationRefused, match=why):
        relying_party.verify_creation(registration_credential(NONE_ATTESTATION), challenge)


def test_a_published_verified_assertion_verifies_and_advances_the_counter() -> None:
    key = passkey("ZoIKP1JQvKdrYj1bTUPJ2eTUsbLeFkv-X5xJQNr4k6s", RSA_PUBLIC_KEY, 0)
    count = LOCALHOST.verify_assertion(authentication_credential(RSA_ASSERTION), RSA_CHALLENGE, key)
    assert count == 1
    key.count_signature(count)
    assert key.sign_count == 1
    with pytest.raises(ClonedAuthenticator, match="from 1 to 1"):
        key.count_signature(count)  # the same assertion's counter again: a copy


def test_a_published_assertion_without_user_verification_is_refused() -> None:
    # py_webauthn accepts this one when user verification is not required; identity requires it.
    key = passkey(
        "EDx9FfAbp4obx6oll2oC4-CZuDidRVV4gZhxC529ytlnqHyqCStDUwfNdm1SNHAe3X5KvueWQdAX3x9R1a2b9Q",
        EC2_PUBLIC_KEY,
        77,
    )
    with pytest.raises(AssertionRefused, match="User verification is required"):
        LOCALHOST.verify_assertion(
            authentication_credential(EC2_ASSERTION_WITHOUT_UV), EC2_CHALLENGE, key
        )


def test_a_published_assertion_under_another_key_is_refused() -> None:
    key = passkey("ZoIKP1JQvKdrYj1bTUPJ2eTUsbLeFkv-X5xJQNr4k6s", EC2_PUBLIC_KEY, 0)
    with pytest.raises(AssertionRefused, match="signature"):
        LOCALHOST.verify_assertion(authentication_credential(RSA_ASSERTION), RSA_CHALLENGE, key)


def test_a_passkey_of_another_rp_id_is_refused() -> None:
    key = passkey("ZoIKP1JQvKdrYj1bTUPJ2eTUsbLeFkv-X5xJQNr4k6s", RSA_PUBLIC_KEY, 0)
    other = RelyingParty("localhost", ("http://localhost:5000",), name="Other")
    key.rp_id = "console.example.org"
    with pytest.raises(AssertionRefused, match="RP id"):
        other.verify_assertion(authentication_credential(RSA_ASSERTION), RSA_CHALLENGE, key)


@pytest.mark.parametrize(
    ("rp_id", "origins"),
    [
        ("", ("http://localhost:8470",)),
        ("localhost", ()),
        ("localhost", ("http://127.0.0.1:8470",)),  # not on the RP id
        ("example.org", ("https://evil-example.org",)),  # a suffix, but not a subdomain
        ("example.org", ("ftp://example.org",)),
        ("example.org", ("https://example.org/console",)),  # an origin has no path
        ("https://example.org", ("https://example.org",)),  # an RP id is a domain
    ],
)
def test_a_misconfigured_relying_party_is_refused_at_start(
    rp_id: str, origins: tuple[str, ...]
) -> None:
    with pytest.raises(ConfigError):
        RelyingParty(rp_id, origins)


def test_subdomain_origins_serve_their_registrable_rp_id() -> None:
    party = RelyingParty("example.org", ("https://console.example.org", "https://example.org"))
    assert party.origins == ("https://console.example.org", "https://example.org")


# RFC 8949 Appendix A: value -> its CBOR encoding (hex).
RFC8949 = [
    (0, "00"),
    (23, "17"),
    (24, "1818"),
    (100, "1864"),
    (1000, "1903e8"),
    (1000000, "1a000f4240"),
    (1000000000000, "1b000000e8d4a51000"),
    (-1, "20"),
    (-10, "29"),
    (-100, "3863"),
    (-1000, "3903e7"),
    (False, "f4"),
    (True, "f5"),
    (b"", "40"),
    (bytes.fromhex("01020304"), "4401020304"),
    ("", "60"),
    ("a", "6161"),
    ("IETF", "6449455446"),
    ("\u00fc", "62c3bc"),
    ([], "80"),
    ([1, 2, 3], "83010203"),
    ([1, [2, 3], [4, 5]], "8301820203820405"),
    ({}, "a0"),
    ({1: 2, 3: 4}, "a201020304"),
    ({"a": 1, "b": [2, 3]}, "a26161016162820203"),
]


@pytest.mark.parametrize(("value", "encoded"), RFC8949)
def test_the_test_authenticators_cbor_matches_rfc_8949(value: object, encoded: str) -> None:
    assert cbor(value).hex() == encoded
