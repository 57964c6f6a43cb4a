"""Writes of clinic structure: the clinic's settings, locations, rooms, memberships, invitations."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_encode

from mend import access
from mend.audit.models import Action
from mend.audit.services import audit_record
from mend.clinics.models import Clinic, Location, Membership, Role, Room
from mend.platform.actor import Actor
from mend.writes import apply_fields

CLINIC_FIELDS = {"name", "timezone", "country", "currency", "require_staff_mfa"}
LOCATION_FIELDS = {"name", "street", "city", "region", "postal_code", "phone", "is_active"}
ROOM_FIELDS = {"name", "location", "capabilities", "is_active"}


@transaction.atomic
def clinic_create(*, name: str, slug: str, timezone: str, country: str, currency: str) -> Clinic:
    clinic = Clinic(name=name, slug=slug, timezone=timezone, country=country.upper(), currency=currency.upper())
    clinic.full_clean()
    clinic.save()
    audit_record(action=Action.CREATE, obj=clinic)
    return clinic


@transaction.atomic
def clinic_update(*, actor: Actor, data: Mapping[str, Any]) -> Clinic:
    access.require_manage_clinic(actor)
    clinic = Clinic.objects.select_for_update().get(pk=actor.clinic_id)
    apply_fields(clinic, data, CLINIC_FIELDS)
    clinic.country = clinic.country.upper()
    clinic.currency = clinic.currency.upper()
    clinic.full_clean()
    clinic.save()
    audit_record(action=Action.UPDATE, obj=clinic, user=actor.user)
    return clinic


@transaction.atomic
def location_save(*, actor: Actor, data: Mapping[str, Any], location: Location | None = None) -> Location:
    access.require_manage_clinic(actor)
    created = location is None
    location = location or Location(clinic_id=actor.clinic_id)
    if location.clinic_id != actor.clinic_id:
        raise ValueError("A location can only be changed within its own clinic.")
    apply_fields(location, data, LOCATION_FIELDS)
    location.full_clean()
    location.save()
    audit_record(action=Action.CREATE if created else Action.UPDATE, obj=location, user=actor.user)
    return location


@transaction.atomic
def room_save(*, actor: Actor, data: Mapping[str, Any], room: Room | None = None) -> Room:
    access.require_manage_clinic(actor)
    created = room is None
    room = room or Room(clinic_id=actor.clinic_id)
    apply_fields(room, data, ROOM_FIELDS)
    if room.clinic_id != actor.clinic_id or room.location.clinic_id != actor.clinic_id:
        raise ValueError("A room must belong to a location of the same clinic.")
    room.full_clean()
    room.save()
    audit_record(action=Action.CREATE if created else Action.UPDATE, obj=room, user=actor.user)
    return room


@transaction.atomic
def membership_add(*, clinic: Clinic, user: Any, role: Role | str) -> Membership:
    membership = Membership(clinic=clinic, user=user, role=str(role))
    membership.full_clean()
    membership.save()
    # Privilege changes are auditable events in their own right (ONC 170.315(d)(2)).
    audit_record(action=Action.CREATE, obj=membership)
    return membership


# --- Invitations ------------------------------------------------------------------------


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    """Django's reset tokens under a salt of their own, so a reset link is no invitation and back.

    A token lasts PASSWORD_RESET_TIMEOUT and works once: it signs the password hash, which
    changes when the invitee sets one.
    """

    key_salt = "mend.clinics.services.InvitationTokenGenerator"

    def is_expired(self, token: str) -> bool:
        """Whether the token's timestamp is past the limit (signed or not: only to word the refusal)."""
        try:
            issued = base36_to_int(token.split("-")[0])
        except ValueError:
            return False
        return self._num_seconds(self._now()) - issued > settings.PASSWORD_RESET_TIMEOUT


invitation_tokens = InvitationTokenGenerator()


def invitation_valid_for() -> str:
    """How long an emailed set-password link works, in words ("3 days", "12 hours")."""
    hours = settings.PASSWORD_RESET_TIMEOUT // 3600
    if hours >= 24 and hours % 24 == 0:
        days = hours // 24
        return f"{days} day{'s' if days != 1 else ''}"
    hours = max(hours, 1)
    return f"{hours} hour{'s' if hours != 1 else ''}"


@dataclass(frozen=True, slots=True)
class SentInvitation:
    membership: Membership
    # The set-password link; empty when the person already has a password and only signs in.
    url: str


@transaction.atomic
def invitation_send(*, actor: Actor, membership: Membership, base_url: str) -> SentInvitation:
    """Email the member an invitation to sign in, after commit.

    Someone with no password yet gets a set-password link; someone who already has one (a member
    of another clinic) is told they can now work in this clinic with it. Sending again is safe:
    each link works until it expires or any of them is used.
    """
    access.require_manage_clinic(actor)
    if membership.clinic_id != actor.clinic_id:
        raise ValueError("Invitations are sent only within their own clinic.")
    user = membership.user
    if not (user.is_active and membership.is_active):
        raise ValidationError({"__all__": f"{user.email} is deactivated; reactivate them before inviting them."})
    url = ""
    if not user.has_usable_password():
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        path = reverse("invitation_accept", kwargs={"uidb64": uid, "token": invitation_tokens.make_token(user)})
        url = base_url.rstrip("/") + path
    context = {
        "name": user.get_short_name(),
        "clinic": membership.clinic,
        "role": membership.get_role_display().lower(),
        "invited_by": actor.user.get_full_name(),
        "url": url,
        "sign_in_url": base_url.rstrip("/") + reverse("login"),
        "valid_for": invitation_valid_for(),
    }
    subject = f"{membership.clinic.name}: you are invited to Mend"
    body = render_to_string("clinics/invitation_email.txt", context)
    audit_record(action=Action.CREATE, object_type="clinics.invitation", object_id=membership.pk, user=actor.user)
    transaction.on_commit(lambda: send_mail(subject, body, None, [user.email]))
    return SentInvitation(membership=membership, url=url)


@transaction.atomic
def invitation_accept(*, user: Any, password: str) -> None:
    """Set the invitee's first password (the link was checked by the caller) and audit it in each clinic."""
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        raise ValidationError({"new_password1": error.messages}) from None
    user.set_password(password)
    user.save(update_fields=["password"])
    # One row per clinic, as for sign-ins, so each clinic's owner sees their staff's accounts change.
    for membership in Membership.objects.filter(user_id=user.pk, is_active=True):
        audit_record(
            action=Action.UPDATE,
            object_type="accounts.user",
            object_id=user.pk,
            user=user,
            clinic_id=membership.clinic_id,
            role=membership.role,
        )
