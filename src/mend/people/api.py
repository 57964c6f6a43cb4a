"""API routes for clients and therapists. Validation is the pages' own forms; writes are services."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms.models import model_to_dict
from ninja import Router, Schema, Status
from ninja.pagination import paginate
from pydantic import Field

from mend import access
from mend.core.credentials import licence_status
from mend.people import queries, services
from mend.people.forms import ClientForm, LicenceForm, TherapistProfileForm
from mend.people.models import Client, Sex, TherapistProfile
from mend.platform.actor import Actor
from mend.platform.api import Pages, invalid
from mend.platform.http import ActorRequest

clients_router = Router(tags=["clients"])
therapists_router = Router(tags=["therapists"])


# --- Clients --------------------------------------------------------------------------


class ClientOut(Schema):
    id: int
    display_name: str
    legal_given_name: str
    legal_family_name: str
    chosen_name: str
    pronouns: str
    date_of_birth: date
    sex: str
    gender_identity: str
    phone: str
    email: str
    street: str
    city: str
    region: str
    postal_code: str
    country: str
    emergency_contact_name: str
    emergency_contact_relationship: str
    emergency_contact_phone: str
    preferred_language: str
    consent_email: bool
    consent_sms: bool
    notes: str
    primary_therapist_id: int | None = Field(None, description="Therapist id (see /therapists).")
    care_team_therapist_ids: list[int] = []
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_primary_therapist_id(obj: Client) -> int | None:
        for member in obj.care_team.all():
            if member.is_primary:
                profile = getattr(member.therapist, "therapist_profile", None)
                return profile.pk if profile else None
        return None

    @staticmethod
    def resolve_care_team_therapist_ids(obj: Client) -> list[int]:
        ids = []
        for member in obj.care_team.all():
            profile = getattr(member.therapist, "therapist_profile", None)
            if profile is not None:
                ids.append(profile.pk)
        return ids


class ClientIn(Schema):
    """Fields to set. On create, legal names and date of birth are required; on update, send only changes."""

    legal_given_name: str | None = None
    legal_family_name: str | None = None
    chosen_name: str | None = None
    pronouns: str | None = None
    date_of_birth: str | None = Field(None, description="YYYY-MM-DD")
    sex: str | None = Field(None, description="female, male, intersex or unknown")
    gender_identity: str | None = None
    phone: str | None = None
    email: str | None = None
    street: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = Field(None, description="ISO 3166 alpha-2")
    emergency_contact_name: str | None = None
    emergency_contact_relationship: str | None = None
    emergency_contact_phone: str | None = None
    preferred_language: str | None = None
    consent_email: bool | None = None
    consent_sms: bool | None = None
    notes: str | None = None
    primary_therapist_id: int | None = Field(None, description="Therapist id; owners, admins and front desk only.")


def _client_form(actor: Actor, payload: ClientIn, instance: Client | None) -> ClientForm:
    supplied = payload.dict(exclude_unset=True)
    therapist_profile_id = supplied.pop("primary_therapist_id", None)
    data: dict[str, Any] = {}
    if instance is not None:
        data.update({k: v for k, v in model_to_dict(instance).items() if v is not None})
        primary = next((m for m in instance.care_team.all() if m.is_primary), None)
        if primary is not None:
            data["primary_therapist"] = primary.therapist_id
    data.update({k: ("" if v is None else v) for k, v in supplied.items()})
    if instance is None and not data.get("sex"):
        # As on the page, where the form starts at the model's default: only names and birth date are required.
        data["sex"] = Sex.UNKNOWN
    if therapist_profile_id is not None:
        # An unknown or foreign therapist id becomes an invalid choice, reported on the field.
        data["primary_therapist"] = queries.therapist_membership_id(actor, therapist_profile_id) or -1
    for flag in ("consent_email", "consent_sms"):
        if data.get(flag) in (False, "", None):
            data.pop(flag, None)
    return ClientForm(
        data,
        instance=instance,
        therapists=queries.therapist_choices(actor),
        can_assign=access.can_assign_therapists(actor),
    )


# The form's field is the membership; the API names the therapist's profile id.
CLIENT_RENAME = {"primary_therapist": "primary_therapist_id"}


@clients_router.get("", response=list[ClientOut], summary="List clients, newest search first")
@paginate(Pages, page_size=25)
def list_clients(request: ActorRequest, q: str = "") -> Any:
    return queries.client_list(request.actor, q=q[:200])


@clients_router.get("/{client_id}", response=ClientOut, summary="Read one client")
def get_client(request: ActorRequest, client_id: int) -> Any:
    return queries.client_detail(request.actor, client_id)


@clients_router.post("", response={201: ClientOut, 422: dict[str, Any]}, summary="Create a client")
def create_client(request: ActorRequest, payload: ClientIn) -> Any:
    actor = request.actor
    form = _client_form(actor, payload, None)
    if not form.is_valid():
        return invalid(request, form, rename=CLIENT_RENAME)
    data = dict(form.cleaned_data)
    therapist = data.pop("primary_therapist", None)
    client = services.client_create(actor=actor, data=data, primary_therapist=therapist)
    return Status(201, queries.client_with_care_team(actor, client.pk))


@clients_router.patch("/{client_id}", response={200: ClientOut, 422: dict[str, Any]}, summary="Change a client")
def update_client(request: ActorRequest, client_id: int, payload: ClientIn) -> Any:
    actor = request.actor
    client = queries.client_with_care_team(actor, client_id)
    form = _client_form(actor, payload, client)
    if not form.is_valid():
        return invalid(request, form, rename=CLIENT_RENAME)
    data = dict(form.cleaned_data)
    therapist = data.pop("primary_therapist", None)
    change_primary = "primary_therapist_id" in payload.dict(exclude_unset=True)
    services.client_update(
        actor=actor, client=client, data=data, primary_therapist=therapist, change_primary=change_primary
    )
    return queries.client_with_care_team(actor, client_id)


# --- Therapists -----------------------------------------------------------------------


class LicenceOut(Schema):
    id: int
    licence_type: str
    number: str
    issuing_body: str
    jurisdiction: str
    expires_on: date
    status: str
    days_left: int

    # Expiry is counted from the clinic's today, the date its front desk would write down.
    @staticmethod
    def resolve_status(obj: Any, context: dict[str, Any]) -> str:
        return str(licence_status(obj.expires_on, context["request"].actor.today()).state)

    @staticmethod
    def resolve_days_left(obj: Any, context: dict[str, Any]) -> int:
        return licence_status(obj.expires_on, context["request"].actor.today()).days_left


class TherapistOut(Schema):
    id: int
    email: str
    display_name: str
    professional_title: str
    bio: str
    specialties: list[str]
    techniques: list[str]
    languages: list[str]
    accepting_new_clients: bool
    inclusive_practice_statement: str
    licences: list[LicenceOut]

    @staticmethod
    def resolve_email(obj: TherapistProfile) -> str:
        return obj.membership.user.email

    @staticmethod
    def resolve_licences(obj: TherapistProfile) -> list[Any]:
        return list(obj.licences.all())


class TherapistIn(Schema):
    display_name: str | None = None
    professional_title: str | None = None
    bio: str | None = None
    specialties: list[str] | None = Field(None, description="Condition ids from the knowledge base")
    techniques: list[str] | None = Field(None, description="Technique ids from the knowledge base")
    languages: list[str] | None = None
    accepting_new_clients: bool | None = None
    inclusive_practice_statement: str | None = None


class TherapistCreateIn(TherapistIn):
    email: str
    full_name: str


class LicenceIn(Schema):
    licence_type: str
    number: str
    issuing_body: str
    jurisdiction: str
    expires_on: str = Field(description="YYYY-MM-DD")


def _profile_form(payload: TherapistIn, instance: TherapistProfile | None) -> TherapistProfileForm:
    supplied = payload.dict(exclude_unset=True)
    supplied.pop("email", None)
    supplied.pop("full_name", None)
    data: dict[str, Any] = {}
    if instance is not None:
        data.update(model_to_dict(instance, fields=TherapistProfileForm.Meta.fields))
    data.update(supplied)
    data["languages"] = ", ".join(data.get("languages") or [])
    if not data.get("accepting_new_clients"):
        data.pop("accepting_new_clients", None)
    return TherapistProfileForm(data, instance=instance)


@therapists_router.get("", response=list[TherapistOut], summary="List therapists")
@paginate(Pages, page_size=25)
def list_therapists(request: ActorRequest, q: str = "") -> Any:
    return queries.therapist_list(request.actor, q=q)


@therapists_router.get("/{therapist_id}", response=TherapistOut, summary="Read one therapist")
def get_therapist(request: ActorRequest, therapist_id: int) -> Any:
    return queries.therapist_detail(request.actor, therapist_id)


@therapists_router.post("", response={201: TherapistOut, 422: dict[str, Any]}, summary="Add a therapist")
def create_therapist(request: ActorRequest, payload: TherapistCreateIn) -> Any:
    actor = request.actor
    access.require_manage_clinic(actor)
    form = _profile_form(payload, None)
    errors = dict(form.errors.as_data()) if not form.is_valid() else {}
    if "@" not in payload.email or len(payload.email) > 254:
        errors["email"] = [ValidationError("Enter a valid email address.")]
    if not payload.full_name.strip():
        errors["full_name"] = [ValidationError("This field is required.")]
    if errors:
        return invalid(request, ValidationError(errors))
    with transaction.atomic():
        profile = services.therapist_create(
            actor=actor,
            email=payload.email,
            full_name=payload.full_name,
            data=form.cleaned_data,
            base_url=request.build_absolute_uri("/"),
        )
    return Status(201, queries.therapist_detail(actor, profile.pk))


@therapists_router.patch("/{therapist_id}", response={200: TherapistOut, 422: dict[str, Any]})
def update_therapist(request: ActorRequest, therapist_id: int, payload: TherapistIn) -> Any:
    actor = request.actor
    profile = queries.therapist_detail(actor, therapist_id)
    access.require_edit_therapist(actor, profile)
    form = _profile_form(payload, profile)
    if not form.is_valid():
        return invalid(request, form)
    services.therapist_profile_update(actor=actor, profile=profile, data=form.cleaned_data)
    return queries.therapist_detail(actor, therapist_id)


@therapists_router.post(
    "/{therapist_id}/licences", response={201: TherapistOut, 422: dict[str, Any]}, summary="Add a licence"
)
def add_licence(request: ActorRequest, therapist_id: int, payload: LicenceIn) -> Any:
    actor = request.actor
    profile = queries.therapist_detail(actor, therapist_id)
    access.require_edit_therapist(actor, profile)
    form = LicenceForm(payload.dict())
    if not form.is_valid():
        return invalid(request, form)
    services.licence_save(actor=actor, profile=profile, data=form.cleaned_data)
    return Status(201, queries.therapist_detail(actor, therapist_id))
