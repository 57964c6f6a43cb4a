"""Reads of people data: clients, therapists and their credentials, referring providers.

``clients(actor)``, ``therapists(actor)`` and ``referring_providers(actor)`` are the querysets
restricted to what the actor may see (NetBox's ``restrict()``); ``*_or_404`` loads one of them or
answers 404. The page and API reads below build on them, load everything their output shows in a
fixed number of queries, and audit themselves when they show a client.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet, prefetch_related_objects
from django.http import Http404

from mend import access
from mend.audit.models import Action
from mend.audit.services import audit_record
from mend.clinics import queries as clinic_queries
from mend.clinics.models import Membership
from mend.core.credentials import LicenceStatus, licence_status
from mend.core.search import SearchQuery, parse_search
from mend.people.models import CareTeamMember, Certification, Client, Licence, ReferringProvider, TherapistProfile
from mend.platform.actor import Actor

# --- Restricted querysets and loaders ---------------------------------------------------


def clients(actor: Actor) -> QuerySet[Client]:
    """Owners, admins and front desk see every client of the clinic; a therapist their care team's."""
    visible = Client.objects.filter(clinic_id=actor.clinic_id)
    if actor.is_therapist:
        visible = visible.filter(care_team__therapist_id=actor.membership.pk)
    return visible


def client_or_404(actor: Actor, pk: int | str) -> Client:
    return access.object_or_404(clients(actor), pk, "client")


def therapists(actor: Actor) -> QuerySet[TherapistProfile]:
    return TherapistProfile.objects.filter(clinic_id=actor.clinic_id, membership__is_active=True)


def therapist_or_404(actor: Actor, pk: int | str) -> TherapistProfile:
    return access.object_or_404(therapists(actor).select_related("membership__user"), pk, "therapist")


def referring_providers(actor: Actor) -> QuerySet[ReferringProvider]:
    return ReferringProvider.objects.filter(clinic_id=actor.clinic_id)


def referring_provider_or_404(actor: Actor, pk: int | str) -> ReferringProvider:
    return access.object_or_404(referring_providers(actor), pk, "referring provider")


# --- Clients --------------------------------------------------------------------------


def _care_team_prefetch() -> Prefetch[str, QuerySet[CareTeamMember], str]:
    return Prefetch(
        "care_team",
        queryset=CareTeamMember.objects.select_related("therapist__user", "therapist__therapist_profile"),
    )


def apply_client_search(found: QuerySet[Client], query: SearchQuery) -> QuerySet[Client]:
    if query.birth_date is not None:
        return found.filter(date_of_birth=query.birth_date)
    if query.email:
        return found.filter(email__icontains=query.email)
    if query.digits:
        return found.filter(phone_digits__contains=query.digits)
    for word in query.words:
        found = found.filter(
            Q(legal_given_name__icontains=word)
            | Q(legal_family_name__icontains=word)
            | Q(chosen_name__icontains=word)
            | Q(email__icontains=word)
        )
    return found


def client_list(actor: Actor, *, q: str = "") -> QuerySet[Client]:
    """Clients the actor may see, matching ``q``, with their care team loaded (one extra query).

    Listing or searching clients is a read of client information: it is audited here.
    """
    audit_record(action=Action.SEARCH if q else Action.VIEW, object_type="people.client_list", user=actor.user)
    found = apply_client_search(clients(actor), parse_search(q))
    return found.prefetch_related(_care_team_prefetch()).order_by("legal_family_name", "legal_given_name", "id")


def client_with_care_team(actor: Actor, pk: int | str) -> Client:
    """One client with the care team attached (two queries), not audited: for a write and its answer."""
    client = client_or_404(actor, pk)
    prefetch_related_objects([client], _care_team_prefetch())
    return client


def client_detail(actor: Actor, pk: int | str) -> Client:
    """One client for reading (the API's client, the edit form), audited as a view."""
    client = client_with_care_team(actor, pk)
    audit_record(action=Action.VIEW, obj=client, client_id=client.pk, user=actor.user)
    return client


# Apps that build on people cannot be imported here (clinical loads episodes through people's
# loaders), so to show their data on the client page they hand people a loader instead, from an
# AppConfig.ready(). Each returns entries for the page's context.
ClientSection = Callable[[Actor, Client], Mapping[str, Any]]
_client_sections: list[ClientSection] = []


def add_client_section(section: ClientSection) -> None:
    """Show another app's data on the client page (episodes of care: see ``mend.web.apps``)."""
    if section not in _client_sections:
        _client_sections.append(section)


@dataclass(frozen=True, slots=True)
class ClientPage:
    client: Client
    care_team: list[CareTeamMember]
    age: int
    sections: dict[str, Any] = field(default_factory=dict)

    @property
    def primary(self) -> CareTeamMember | None:
        return next((m for m in self.care_team if m.is_primary), None)


def client_page(actor: Actor, pk: int | str) -> ClientPage:
    """The client page: the client and care team (two queries), the audit row, and each section's own."""
    client = client_detail(actor, pk)
    sections: dict[str, Any] = {}
    for section in _client_sections:
        sections.update(section(actor, client))
    return ClientPage(
        client=client, care_team=list(client.care_team.all()), age=client.age_on(actor.today()), sections=sections
    )


def therapist_choices(actor: Actor) -> QuerySet[Membership]:
    """Therapists a client can be assigned to, with the profile names the choices show."""
    return clinic_queries.therapist_memberships(actor).select_related("therapist_profile")


def therapist_membership_id(actor: Actor, profile_id: int) -> int | None:
    """The membership behind a therapist profile id the API was given, or None if not the clinic's."""
    return therapists(actor).filter(pk=profile_id).values_list("membership_id", flat=True).first()


def client_names(actor: Actor, ids: Collection[int]) -> dict[int, str]:
    """Family names of the given clients, by id, for the audit report: one query, none for no ids."""
    if not ids:
        return {}
    return dict(clients(actor).filter(pk__in=ids).values_list("pk", "legal_family_name"))


# --- Therapists -----------------------------------------------------------------------


def therapist_list(actor: Actor, *, q: str = "") -> QuerySet[TherapistProfile]:
    """Active therapists by name, with their users and licences (two queries however many)."""
    found = therapists(actor)
    if q:
        found = found.filter(display_name__icontains=q[:100])
    return (
        found.select_related("membership__user")
        .prefetch_related(Prefetch("licences", queryset=Licence.objects.order_by("expires_on")))
        .order_by("display_name")
    )


def licence_flags(profile: TherapistProfile, *, today: date, warning_days: int) -> list[tuple[Licence, LicenceStatus]]:
    return [(lic, licence_status(lic.expires_on, today, warning_days)) for lic in profile.licences.all()]


def therapist_rows(actor: Actor) -> list[tuple[TherapistProfile, list[tuple[Licence, LicenceStatus]]]]:
    """The therapist list page: each therapist with their licences' state on the clinic's today."""
    today, warning = actor.today(), settings.MEND_LICENCE_WARNING_DAYS
    return [(p, licence_flags(p, today=today, warning_days=warning)) for p in therapist_list(actor)]


def therapist_detail(actor: Actor, pk: int | str) -> TherapistProfile:
    """One therapist with their user, licences, certifications and locations (four queries)."""
    profile = therapist_or_404(actor, pk)
    prefetch_related_objects([profile], "licences", "certifications", "locations")
    return profile


@dataclass(frozen=True, slots=True)
class TherapistPage:
    profile: TherapistProfile
    licences: list[tuple[Licence, LicenceStatus]]
    can_edit: bool
    today: date


def therapist_page(actor: Actor, pk: int | str) -> TherapistPage:
    profile = therapist_detail(actor, pk)
    today = actor.today()
    return TherapistPage(
        profile=profile,
        licences=licence_flags(profile, today=today, warning_days=settings.MEND_LICENCE_WARNING_DAYS),
        can_edit=access.can_edit_therapist(actor, profile),
        today=today,
    )


def licence_or_404(profile: TherapistProfile, licence_id: int) -> Licence:
    """One of the profile's own licences (already loaded by ``therapist_detail``), else 404."""
    return _own(profile.licences.all(), licence_id)


def certification_or_404(profile: TherapistProfile, certification_id: int) -> Certification:
    return _own(profile.certifications.all(), certification_id)


Credential = TypeVar("Credential", Licence, Certification)


def _own(items: QuerySet[Credential], item_id: int) -> Credential:
    for item in items:
        if item.pk == item_id:
            return item
    raise Http404("No such credential.")


def expiring_licences(actor: Actor, *, today: date, warning_days: int) -> list[tuple[Licence, LicenceStatus]]:
    """Licences expired or expiring within the warning window: the clinic's, or a therapist's own."""
    licences = Licence.objects.filter(
        clinic_id=actor.clinic_id,
        profile__membership__is_active=True,
        expires_on__lte=today + timedelta(days=warning_days),
    )
    if actor.is_therapist:
        licences = licences.filter(profile__membership_id=actor.membership.pk)
    return [
        (lic, licence_status(lic.expires_on, today, warning_days))
        for lic in licences.select_related("profile").order_by("expires_on")
    ]


# --- Referring providers --------------------------------------------------------------


def referrer_list(actor: Actor, *, q: str = "") -> QuerySet[ReferringProvider]:
    """Referring providers by name, matching ``q`` in the name or the organisation."""
    found = referring_providers(actor)
    if q:
        found = found.filter(Q(name__icontains=q) | Q(organisation__icontains=q))
    return found.order_by("name")
