"""Django's admin, for clinic owners only, under the same access policy as every page.

Writes go through the same services as the pages, so they are validated and audited; nothing
can be deleted here (clinical records are restricted and purged on a schedule, not deleted).
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, path, reverse
from django.views.generic import RedirectView

from mend import access
from mend.audit.models import Action, AuditEvent
from mend.audit.services import audit_record
from mend.clinics import services as clinic_services
from mend.clinics.models import Location, Membership, Room
from mend.people import services as people_services
from mend.people.models import Client, ReferringProvider, TherapistProfile
from mend.platform.actor import Actor
from mend.platform.http import ActorRequest


class OwnerAdminSite(admin.AdminSite):
    site_header = "Mend administration"
    site_title = "Mend admin"
    index_title = "Clinic data"

    def has_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and access.can_use_admin(getattr(request, "actor", None))

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """One way in: Mend's sign-in page, which asks for the second step; the admin's own form
        checks the password alone. A signed-in person who may not use the admin still reads why."""
        if request.method == "GET" and request.user.is_authenticated:
            return super().login(request, extra_context)
        return redirect_to_login(request.GET.get(REDIRECT_FIELD_NAME) or reverse("admin:index"))

    def get_urls(self) -> list[URLResolver | URLPattern]:
        # The admin's change-password form changes it unrecorded: Mend's own page audits it.
        to_mend = RedirectView.as_view(pattern_name="password_change")
        return [path("password_change/", self.admin_view(to_mend)), *super().get_urls()]


site = OwnerAdminSite(name="admin")


def _actor(request: HttpRequest) -> Actor:
    """The owner acting: ModelAdmin's methods take an HttpRequest, but the site lets only an owner's in."""
    return cast(ActorRequest, request).actor


class ClinicScopedAdmin(admin.ModelAdmin):
    """Rows of the active clinic only; owners may view and change, nobody deletes."""

    writable = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).filter(clinic_id=_actor(request).clinic_id)

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        # Django's admin redirects to its index with "doesn't exist" for a row outside the
        # queryset; another clinic's room, location or membership answers 404 like every page.
        found = super().get_object(request, object_id, from_field)
        if found is None:
            raise Http404("There is nothing here, or it is not yours to see.")
        return found

    def _is_owner(self, request: HttpRequest) -> bool:
        return access.can_use_admin(getattr(request, "actor", None))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._is_owner(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_owner(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.writable and self._is_owner(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.writable and self._is_owner(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Client, site=site)
class ClientAdmin(ClinicScopedAdmin):
    writable = True
    list_display = ["legal_family_name", "legal_given_name", "chosen_name", "date_of_birth", "phone", "email"]
    search_fields = ["legal_family_name", "legal_given_name", "chosen_name", "email", "phone_digits"]
    exclude = ["clinic"]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        if request.method == "GET":
            client = self.get_object(request, object_id)
            if client is not None:
                audit_record(action=Action.VIEW, obj=client, client_id=client.pk, user=request.user)
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request: HttpRequest, obj: Client, form: Any, change: bool) -> None:
        actor = _actor(request)
        data = {name: form.cleaned_data[name] for name in form.cleaned_data}
        if change:
            people_services.client_update(actor=actor, client=obj, data=data)
        else:
            saved = people_services.client_create(actor=actor, data=data)
            obj.pk = saved.pk


@admin.register(ReferringProvider, site=site)
class ReferringProviderAdmin(ClinicScopedAdmin):
    writable = True
    list_display = ["name", "profession", "organisation", "phone", "email"]
    search_fields = ["name", "organisation"]
    exclude = ["clinic"]

    def save_model(self, request: HttpRequest, obj: ReferringProvider, form: Any, change: bool) -> None:
        actor = _actor(request)
        saved = people_services.referring_provider_save(
            actor=actor, data=form.cleaned_data, provider=obj if change else None
        )
        obj.pk = saved.pk


@admin.register(Location, site=site)
class LocationAdmin(ClinicScopedAdmin):
    writable = True
    list_display = ["name", "city", "phone", "is_active"]
    exclude = ["clinic"]

    def save_model(self, request: HttpRequest, obj: Location, form: Any, change: bool) -> None:
        actor = _actor(request)
        saved = clinic_services.location_save(actor=actor, data=form.cleaned_data, location=obj if change else None)
        obj.pk = saved.pk


@admin.register(Room, site=site)
class RoomAdmin(ClinicScopedAdmin):
    list_display = ["name", "location", "is_active"]
    list_select_related = ["location"]


@admin.register(TherapistProfile, site=site)
class TherapistProfileAdmin(ClinicScopedAdmin):
    list_display = ["display_name", "professional_title", "accepting_new_clients"]


@admin.register(Membership, site=site)
class MembershipAdmin(ClinicScopedAdmin):
    list_display = ["user", "role", "is_active"]
    list_select_related = ["user", "clinic"]


@admin.register(AuditEvent, site=site)
class AuditEventAdmin(ClinicScopedAdmin):
    list_display = ["seq", "at", "user_email", "role", "action", "object_type", "object_id", "client_id", "ip"]
    list_filter = ["action"]
