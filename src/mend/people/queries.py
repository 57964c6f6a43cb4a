"""Reads of people data. Each function returns querysets that load everything a page shows."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Prefetch, Q, QuerySet, prefetch_related_objects

from mend import access
from mend.core.credentials import LicenceStatus, licence_status
from mend.core.search import SearchQuery, parse_search
from mend.people.models import CareTeamMember, Client, Licence, TherapistProfile
from mend.platform.actor import Actor


def _care_team_prefetch() -> Prefetch[CareTeamMember]:
    return Prefetch(
        "care_team",
        queryset=CareTeamMember.objects.select_related("therapist__user", "therapist__therapist_profile"),
    )


def apply_client_search(clients: QuerySet[Client], query: SearchQuery) -> QuerySet[Client]:
    if query.birth_date is not None:
        return clients.filter(date_of_birth=query.birth_date)
    if query.email:
        return clients.filter(email__icontains=query.email)
    if query.digits:
        return clients.filter(phone_digits__contains=query.digits)
    for word in query.words:
        clients = clients.filter(
            Q(legal_given_name__icontains=word)
            | Q(legal_family_name__icontains=word)
            | Q(chosen_name__icontains=word)
            | Q(email__icontains=word)
        )
    return clients


def client_list(actor: Actor, *, q: str = "") -> QuerySet[Client]:
    """Clients the actor may see, matching ``q``, with their care team loaded (one extra query)."""
    clients = apply_client_search(access.clients(actor), parse_search(q))
    return clients.prefetch_related(_care_team_prefetch()).order_by("legal_family_name", "legal_given_name", "id")


def client_detail(actor: Actor, pk: int | str) -> Client:
    client = access.client_or_404(actor, pk)
    # Reuse the fetched row and attach the care team in one more query.
    prefetch_related_objects([client], _care_team_prefetch())
    return client


def therapist_list(actor: Actor) -> QuerySet[TherapistProfile]:
    return (
        access.therapists(actor)
        .select_related("membership__user")
        .prefetch_related(Prefetch("licences", queryset=Licence.objects.order_by("expires_on")))
        .order_by("display_name")
    )


def therapist_detail(actor: Actor, pk: int | str) -> TherapistProfile:
    profile = access.therapist_or_404(actor, pk)
    prefetch_related_objects([profile], "licences", "certifications")
    return profile


def licence_flags(profile: TherapistProfile, *, today: date, warning_days: int) -> list[tuple[Licence, LicenceStatus]]:
    return [(lic, licence_status(lic.expires_on, today, warning_days)) for lic in profile.licences.all()]


def expiring_licences(actor: Actor, *, today: date, warning_days: int) -> list[tuple[Licence, LicenceStatus]]:
    """Licences in the clinic that are expired or expire within the warning window."""
    licences = (
        Licence.objects.filter(clinic_id=actor.clinic_id, profile__membership__is_active=True)
        .filter(expires_on__lte=today + timedelta(days=warning_days))
        .select_related("profile")
        .order_by("expires_on")
    )
    return [(lic, licence_status(lic.expires_on, today, warning_days)) for lic in licences]
