"""Writes of people data: clients, care teams, therapist profiles, credentials, referrers.

Every function validates, writes inside one transaction and appends to the audit trail.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from mend import access
from mend.audit.models import Action
from mend.audit.services import audit_record
from mend.clinics.models import Clinic, Location, Membership, Role
from mend.clinics.services import SentInvitation, invitation_send, membership_add
from mend.core.search import phone_digits
from mend.people.models import (
    CareTeamMember,
    Certification,
    Client,
    Licence,
    ReferringProvider,
    TherapistProfile,
)
from mend.platform.actor import Actor
from mend.writes import apply_fields, editable_fields

CLIENT_FIELDS = editable_fields(Client, {"clinic", "created_at", "updated_at"})


def _check_therapist(actor: Actor, therapist: Membership | None) -> None:
    if therapist is not None and (therapist.clinic_id != actor.clinic_id or therapist.role != Role.THERAPIST):
        raise ValueError("The primary therapist must be a therapist of this clinic.")


def _set_primary(actor: Actor, client: Client, therapist: Membership | None) -> None:
    _check_therapist(actor, therapist)
    current = next((m for m in client.care_team.all() if m.is_primary), None)
    if current is not None and therapist is not None and current.therapist_id == therapist.pk:
        return
    if current is not None:
        # The former primary therapist stays on the care team: they keep access to the
        # client they treated until someone removes them on purpose.
        CareTeamMember.objects.filter(pk=current.pk).update(is_primary=False)
    if therapist is not None:
        member, created = CareTeamMember.objects.get_or_create(
            client=client, therapist=therapist, defaults={"clinic_id": client.clinic_id, "is_primary": True}
        )
        if not created:
            CareTeamMember.objects.filter(pk=member.pk).update(is_primary=True)


@transaction.atomic
def client_create(*, actor: Actor, data: Mapping[str, Any], primary_therapist: Membership | None = None) -> Client:
    client = apply_fields(Client(clinic=actor.clinic), data, CLIENT_FIELDS)
    client.phone_digits = phone_digits(client.phone)
    client.full_clean()
    client.save()
    if primary_therapist is None and actor.role == Role.THERAPIST:
        primary_therapist = actor.membership
    _set_primary(actor, client, primary_therapist)
    if actor.role == Role.THERAPIST and (primary_therapist is None or primary_therapist.pk != actor.membership.pk):
        # A therapist never creates a client they then cannot see.
        CareTeamMember.objects.get_or_create(
            client=client, therapist=actor.membership, defaults={"clinic_id": client.clinic_id}
        )
    audit_record(action=Action.CREATE, obj=client, client_id=client.pk, user=actor.user)
    return client


# What a person booking online tells about themselves; everything else the clinic fills in later.
ONLINE_REGISTRATION_FIELDS = {
    "legal_given_name",
    "legal_family_name",
    "date_of_birth",
    "email",
    "phone",
    "consent_email",
}


@transaction.atomic
def client_register_online(*, clinic: Clinic, data: Mapping[str, Any]) -> Client:
    """A new client who booked online, without an account: no actor, no care team yet (the clinic
    assigns one), and only the few fields the public form asks. Audited with no user."""
    client = apply_fields(Client(clinic=clinic), data, ONLINE_REGISTRATION_FIELDS)
    client.phone_digits = phone_digits(client.phone)
    client.full_clean()
    client.save()
    audit_record(action=Action.CREATE, obj=client, client_id=client.pk, user=None, clinic_id=clinic.pk)
    return client


@transaction.atomic
def client_update(
    *,
    actor: Actor,
    client: Client,
    data: Mapping[str, Any],
    primary_therapist: Membership | None = None,
    change_primary: bool = False,
) -> Client:
    if client.clinic_id != actor.clinic_id:
        raise ValueError("A client can only be changed within its own clinic.")
    apply_fields(client, data, CLIENT_FIELDS)
    client.phone_digits = phone_digits(client.phone)
    client.full_clean()
    client.save()
    if change_primary and access.can_assign_therapists(actor):
        _set_primary(actor, client, primary_therapist)
    audit_record(action=Action.UPDATE, obj=client, client_id=client.pk, user=actor.user)
    return client


@transaction.atomic
def client_share(*, actor: Actor, client: Client, therapist: Membership) -> CareTeamMember:
    _check_therapist(actor, therapist)
    member, _ = CareTeamMember.objects.get_or_create(
        client=client, therapist=therapist, defaults={"clinic_id": client.clinic_id}
    )
    audit_record(action=Action.UPDATE, obj=member, client_id=client.pk, user=actor.user)
    return member


@transaction.atomic
def client_unshare(*, actor: Actor, client: Client, therapist: Membership) -> None:
    deleted, _ = CareTeamMember.objects.filter(client=client, therapist=therapist).delete()
    if deleted:
        audit_record(
            action=Action.DELETE,
            object_type="people.careteammember",
            object_id=f"{client.pk}:{therapist.pk}",
            client_id=client.pk,
            user=actor.user,
        )


# --- Therapists -----------------------------------------------------------------------

PROFILE_FIELDS = editable_fields(TherapistProfile, {"membership", "clinic"})
LICENCE_FIELDS = editable_fields(Licence, {"profile", "clinic"})
CERTIFICATION_FIELDS = editable_fields(Certification, {"profile", "clinic"})
REFERRER_FIELDS = editable_fields(ReferringProvider, {"clinic"})


def _set_locations(profile: TherapistProfile, locations: Collection[Location] | None) -> None:
    """Where the therapist works: only locations of the profile's clinic. None leaves them as they are."""
    if locations is None:
        return
    if any(location.clinic_id != profile.clinic_id for location in locations):
        raise ValidationError({"locations": "Choose locations of this clinic."})
    profile.locations.set(locations)


@transaction.atomic
def therapist_profile_create(
    *, membership: Membership, data: Mapping[str, Any], locations: Collection[Location] | None = None
) -> TherapistProfile:
    profile = apply_fields(
        TherapistProfile(membership=membership, clinic_id=membership.clinic_id), data, PROFILE_FIELDS
    )
    if not profile.display_name:
        profile.display_name = membership.user.get_full_name()
    profile.full_clean()
    profile.save()
    _set_locations(profile, locations)
    audit_record(action=Action.CREATE, obj=profile)
    return profile


@transaction.atomic
def therapist_profile_update(
    *,
    actor: Actor,
    profile: TherapistProfile,
    data: Mapping[str, Any],
    locations: Collection[Location] | None = None,
) -> TherapistProfile:
    access.require_edit_therapist(actor, profile)
    apply_fields(profile, data, PROFILE_FIELDS)
    profile.full_clean()
    profile.save()
    _set_locations(profile, locations)
    audit_record(action=Action.UPDATE, obj=profile, user=actor.user)
    return profile


@transaction.atomic
def licence_save(
    *, actor: Actor, profile: TherapistProfile, data: Mapping[str, Any], licence: Licence | None = None
) -> Licence:
    access.require_edit_therapist(actor, profile)
    created = licence is None
    licence = licence or Licence(profile=profile, clinic_id=profile.clinic_id)
    if licence.profile_id != profile.pk:
        raise ValueError("That licence belongs to another therapist.")
    apply_fields(licence, data, LICENCE_FIELDS)
    licence.full_clean()
    licence.save()
    audit_record(action=Action.CREATE if created else Action.UPDATE, obj=licence, user=actor.user)
    return licence


@transaction.atomic
def licence_delete(*, actor: Actor, profile: TherapistProfile, licence: Licence) -> None:
    access.require_edit_therapist(actor, profile)
    if licence.profile_id != profile.pk:
        raise ValueError("That licence belongs to another therapist.")
    audit_record(action=Action.DELETE, obj=licence, user=actor.user)
    licence.delete()


@transaction.atomic
def certification_save(
    *,
    actor: Actor,
    profile: TherapistProfile,
    data: Mapping[str, Any],
    certification: Certification | None = None,
) -> Certification:
    access.require_edit_therapist(actor, profile)
    created = certification is None
    certification = certification or Certification(profile=profile, clinic_id=profile.clinic_id)
    if certification.profile_id != profile.pk:
        raise ValueError("That certification belongs to another therapist.")
    apply_fields(certification, data, CERTIFICATION_FIELDS)
    certification.full_clean()
    certification.save()
    audit_record(action=Action.CREATE if created else Action.UPDATE, obj=certification, user=actor.user)
    return certification


@transaction.atomic
def certification_delete(*, actor: Actor, profile: TherapistProfile, certification: Certification) -> None:
    access.require_edit_therapist(actor, profile)
    if certification.profile_id != profile.pk:
        raise ValueError("That certification belongs to another therapist.")
    audit_record(action=Action.DELETE, obj=certification, user=actor.user)
    certification.delete()


# --- Referring providers --------------------------------------------------------------


@transaction.atomic
def referring_provider_save(
    *, actor: Actor, data: Mapping[str, Any], provider: ReferringProvider | None = None
) -> ReferringProvider:
    created = provider is None
    provider = provider or ReferringProvider(clinic_id=actor.clinic_id)
    if provider.clinic_id != actor.clinic_id:
        raise ValueError("A referring provider can only be changed within its own clinic.")
    apply_fields(provider, data, REFERRER_FIELDS)
    provider.full_clean()
    provider.save()
    audit_record(action=Action.CREATE if created else Action.UPDATE, obj=provider, user=actor.user)
    return provider


@transaction.atomic
def therapist_create(
    *,
    actor: Actor,
    email: str,
    full_name: str,
    data: Mapping[str, Any],
    base_url: str,
    locations: Collection[Location] | None = None,
) -> TherapistProfile:
    """Add a therapist to the clinic and invite them: the user (found by email, whatever its case,
    or created), a membership, a profile, and an emailed invitation sent after commit.

    A new user has no usable password; the invitation's link lets them choose one. Someone who
    already has an account (a therapist of another clinic) keeps it and is told they can sign in.
    """
    access.require_manage_clinic(actor)
    user_model = get_user_model()
    email = email.strip().lower()
    user = user_model.objects.filter(email__iexact=email).first()
    if user is None:
        user = user_model.objects.create_user(email=email, password=None, full_name=full_name.strip())
        audit_record(action=Action.CREATE, obj=user, user=actor.user)
    membership = Membership.objects.filter(clinic_id=actor.clinic_id, user=user).first()
    if membership is not None:
        raise ValidationError({"email": f"{email} is already a member of this clinic."})
    membership = membership_add(clinic=actor.clinic, user=user, role=Role.THERAPIST)
    values = dict(data)
    values.setdefault("display_name", full_name.strip())
    if not values.get("display_name"):
        values["display_name"] = full_name.strip()
    profile = therapist_profile_create(membership=membership, data=values, locations=locations)
    invitation_send(actor=actor, membership=membership, base_url=base_url)
    return profile


def therapist_invite(*, actor: Actor, profile: TherapistProfile, base_url: str) -> SentInvitation:
    """Email the therapist their invitation again (a new link; the earlier ones keep working until used)."""
    if profile.clinic_id != actor.clinic_id:
        raise ValueError("Invitations are sent only within their own clinic.")
    return invitation_send(actor=actor, membership=profile.membership, base_url=base_url)
