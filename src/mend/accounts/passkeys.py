"""Passkeys (WebAuthn) through py_webauthn: the options a browser is given, and the checks of
what it sends back. Plain functions over bytes and JSON; the session keeps each challenge.

The relying party is the site the page was served from (its host without the port), so the
same code serves ``localhost`` in a demo and a clinic's own domain in production. Browsers
refuse passkeys on plain HTTP except for ``localhost``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import webauthn
from django.conf import settings
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)


class PasskeyError(ValueError):
    """What the browser sent does not prove the passkey."""


@dataclass(frozen=True, slots=True)
class Site:
    """Where the page is served from: WebAuthn binds every credential to it."""

    rp_id: str
    origin: str


@dataclass(frozen=True, slots=True)
class Challenge:
    options_json: str  # for the browser
    challenge: str  # base64url, for the session


@dataclass(frozen=True, slots=True)
class RegisteredPasskey:
    credential_id: str
    public_key: bytes
    sign_count: int
    transports: list[str]


def _descriptors(credential_ids: list[str]) -> list[PublicKeyCredentialDescriptor]:
    return [PublicKeyCredentialDescriptor(id=base64url_to_bytes(cid)) for cid in credential_ids]


def registration_options(*, site: Site, user_id: int, email: str, name: str, existing: list[str]) -> Challenge:
    """Options to create a passkey for this person, never a second one on the same authenticator."""
    options = webauthn.generate_registration_options(
        rp_id=site.rp_id,
        rp_name=settings.MEND_WEBAUTHN_RP_NAME,
        user_name=email,
        user_id=str(user_id).encode(),
        user_display_name=name or email,
        exclude_credentials=_descriptors(existing),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
    )
    return Challenge(webauthn.options_to_json(options), bytes_to_base64url(options.challenge))


def verify_registration(*, site: Site, challenge: str, credential: str) -> RegisteredPasskey:
    try:
        verified = webauthn.verify_registration_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=site.rp_id,
            expected_origin=site.origin,
        )
    except (InvalidRegistrationResponse, ValueError, KeyError, TypeError) as error:
        raise PasskeyError("The passkey could not be registered. Try again.") from error
    return RegisteredPasskey(
        credential_id=bytes_to_base64url(verified.credential_id),
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=_transports(credential),
    )


def _transports(credential: str) -> list[str]:
    """The transports the browser reported (USB, internal, hybrid…), kept to hint later sign-ins."""
    try:
        sent = json.loads(credential).get("response", {}).get("transports", [])
    except (ValueError, AttributeError):
        return []
    known = {t.value for t in AuthenticatorTransport}
    return [t for t in sent if isinstance(t, str) and t in known] if isinstance(sent, list) else []


def authentication_options(*, site: Site, credential_ids: list[str]) -> Challenge:
    options = webauthn.generate_authentication_options(
        rp_id=site.rp_id,
        allow_credentials=_descriptors(credential_ids),
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    return Challenge(webauthn.options_to_json(options), bytes_to_base64url(options.challenge))


def sent_credential_id(credential: str) -> str:
    """The id of the credential the browser signed with (checked against the person's own)."""
    try:
        value: Any = json.loads(credential).get("id", "")
    except (ValueError, AttributeError):
        return ""
    return value if isinstance(value, str) else ""


def verify_authentication(*, site: Site, challenge: str, credential: str, public_key: bytes, sign_count: int) -> int:
    """Check the signature over the challenge; returns the authenticator's new signature counter."""
    try:
        verified = webauthn.verify_authentication_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=site.rp_id,
            expected_origin=site.origin,
            credential_public_key=public_key,
            credential_current_sign_count=sign_count,
        )
    except (InvalidAuthenticationResponse, ValueError, KeyError, TypeError) as error:
        raise PasskeyError("The passkey did not sign in. Try again, or use a code.") from error
    return verified.new_sign_count
