"""The clinic's billing settings under /billing/settings/: the billing profile and the lists it bills from.

Owners and admins open all of it; therapists and front desk get 403 (they bill with these settings,
they do not change them); another clinic's row is 404. The index shows the profile's form and a card
per list (tax rates, prices, products, payers, package plans, membership plans); each row has its own
add/edit page, and a Remove button that deletes an unused row or takes one in use out of use. A
refusal re-renders the form with the message beside the field it names (status 400), saving nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods, require_POST

from mend import access
from mend.billing.forms import setup as f
from mend.billing.queries import setup as q
from mend.billing.services import setup as services
from mend.platform.http import ActorRequest
from mend.platform.pages import actor_required, merge_validation_error, render_page

BAD_REQUEST = 400
SECTION = "clinic_settings"  # the Settings tab stays lit


def _index(request: ActorRequest, form: f.BillingProfileForm | None = None, *, status: int = 200) -> HttpResponse:
    page = q.billing_settings_page(request.actor)
    rates = q.active_or_chosen(page.tax_rates, page.profile.service_tax_rate)
    form = form or f.BillingProfileForm(instance=page.profile, currency=page.currency, tax_rates=rates)
    return render_page(
        request, "billing/setup_index.html", {"section": SECTION, "page": page, "form": form}, status=status
    )


@actor_required
@require_http_methods(["GET", "POST"])
def billing_settings(request: ActorRequest) -> HttpResponse:
    actor = request.actor
    access.require_manage_clinic(actor)
    if request.method == "GET":
        return _index(request)
    profile = q.billing_profile(actor)
    form = f.BillingProfileForm(
        request.POST,
        instance=profile,
        currency=actor.clinic.currency,
        tax_rates=q.tax_rate_choices(actor, profile.service_tax_rate),
    )
    if form.is_valid():
        try:
            services.billing_profile_save(actor=actor, data=form.cleaned_data)
        except ValidationError as error:
            merge_validation_error(form, error)
        else:
            messages.success(request, "Billing settings saved.")
            return redirect("billing_settings")
    return _index(request, form, status=BAD_REQUEST)


# --- One add/edit page and one remove button per kind of row -------------------------------------


def _edit(
    request: ActorRequest,
    *,
    form: f.SettingsForm,
    save: Callable[[dict[str, Any]], models.Model],
    title: str,
    what: str,
    remove: str,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    """Show ``form``; on a valid POST call ``save`` (a service) and go back to the settings page."""
    if request.method == "POST" and form.is_valid():
        try:
            saved = save(form.cleaned_data)
        except ValidationError as error:
            merge_validation_error(form, error)
        else:
            messages.success(request, f"“{saved}” saved.")
            return redirect("billing_settings")
    context = {"section": SECTION, "form": form, "title": title, "what": what, "remove_url": remove, **(extra or {})}
    status = BAD_REQUEST if form.is_bound else 200
    return render_page(request, "billing/setup_form.html", context, status=status)


def _removed(request: ActorRequest, name: str, deleted: bool) -> HttpResponse:
    if deleted:
        messages.success(request, f"“{name}” removed.")
    else:
        messages.success(request, f"“{name}” is in use, so it was kept and marked as no longer in use.")
    return redirect("billing_settings")


def _post(request: ActorRequest) -> Any:
    return request.POST if request.method == "POST" else None


@actor_required
@require_http_methods(["GET", "POST"])
def tax_rate_edit(request: ActorRequest, pk: int | None = None) -> HttpResponse:
    actor = request.actor
    access.require_manage_clinic(actor)
    rate = q.tax_rate_or_404(actor, pk) if pk is not None else None
    return _edit(
        request,
        form=f.TaxRateForm(_post(request), instance=rate),
        save=lambda data: services.tax_rate_save(actor=actor, data=data, tax_rate=rate),
        title=rate.name if rate else "New tax rate",
        what="tax rate",
        remove=reverse("tax_rate_remove", args=[rate.pk]) if rate else "",
    )


@actor_required
@require_POST
def tax_rate_remove(request: ActorRequest, pk: int) -> HttpResponse:
    access.require_manage_clinic(request.actor)
    rate = q.tax_rate_or_404(request.actor, pk)
    return _removed(request, rate.name, services.tax_rate_remove(actor=request.actor, tax_rate=rate))


@actor_required
@require_http_methods(["GET", "POST"])
def price_edit(request: ActorRequest, pk: int | None = None) -> HttpResponse:
    actor = request.actor
    access.require_manage_clinic(actor)
    price = q.price_or_404(actor, pk) if pk is not None else None
    initial = {"appointment_type": request.GET.get("appointment_type", "")} if price is None else None
    form = f.PriceForm(
        _post(request),
        instance=price,
        initial=initial,
        currency=actor.clinic.currency,
        appointment_types=q.appointment_type_choices(actor),
        locations=q.location_choices(actor),
        tax_rates=q.tax_rate_choices(actor, price.tax_rate if price else None),
    )
    return _edit(
        request,
        form=form,
        save=lambda data: services.price_save(actor=actor, data=data, price=price),
        title=f"Price of {price.appointment_type.name}" if price else "New price",
        what="price",
        remove=reverse("price_remove", args=[price.pk]) if price else "",
    )


@actor_required
@require_POST
def price_remove(request: ActorRequest, pk: int) -> HttpResponse:
    access.require_manage_clinic(request.actor)
    price = q.price_or_404(request.actor, pk)
    return _removed(request, str(price), services.price_remove(actor=request.actor, price=price))


@actor_required
@require_http_methods(["GET", "POST"])
def product_edit(request: ActorRequest, pk: int | None = None) -> HttpResponse:
    actor = request.actor
    access.require_manage_clinic(actor)
    product = q.product_or_404(actor, pk) if pk is not None else None
    form = f.ProductForm(
        _post(request),
        instance=product,
        currency=actor.clinic.currency,
        tax_rates=q.tax_rate_choices(actor, product.tax_rate if product else None),
    )
    return _edit(
        request,
        form=form,
        save=lambda data: services.product_save(actor=actor, data=data, product=product),
        title=product.name if product else "New product",
        what="product",
        remove=reverse("product_remove", args=[product.pk]) if product else "",
    )


@actor_required
@require_POST
def product_remove(request: ActorRequest, pk: int) -> HttpResponse:
    access.require_manage_clinic(request.actor)
    product = q.product_or_404(request.actor, pk)
    return _removed(request, product.name, services.product_remove(actor=request.actor, product=product))


@actor_required
@require_http_methods(["GET", "POST"])
def payer_edit(request: ActorRequest, pk: int | None = None) -> HttpResponse:
    actor = request.actor
    access.require_manage_clinic(actor)
    payer = q.payer_or_404(actor, pk) if pk is not None else None
    return _edit(
        request,
        form=f.PayerForm(_post(request), instance=payer),
        save=lambda data: services.payer_save(actor=actor, data=data, payer=payer),
        title=payer.name if payer else "New payer",
        what="payer",
        remove=reverse("payer_remove", args=[payer.pk]) if payer else "",
    )


@actor_required
@require_POST
def payer_remove(request: ActorRequest, pk: int) -> HttpResponse:
    access.require_manage_clinic(request.actor)
    payer = q.payer_or_404(request.actor, pk)
    return _removed(request, payer.name, services.payer_remove(actor=request.actor, payer=payer))


@actor_required
@require_http_methods(["GET", "POST"])
def package_plan_edit(request: ActorRequest, pk: int | None = None) -> HttpResponse:
    actor = request.actor
    access.require_manage_clinic(actor)
    plan = q.package_plan_or_404(actor, pk) if pk is not None else None
    currency = actor.clinic.currency
    form = f.PackagePlanForm(
        _post(request), instance=plan, currency=currency, appointment_types=q.appointment_type_choices(actor)
    )
    return _edit(
        request,
        form=form,
        save=lambda data: services.package_plan_save(actor=actor, data=data, plan=plan),
        title=plan.name if plan else "New package",
        what="package",
        remove=reverse("package_plan_remove", args=[plan.pk]) if plan else "",
        extra={"per_session": q.per_session(plan, currency) if plan else None, "currency": currency},
    )


@actor_required
@require_POST
def package_plan_remove(request: ActorRequest, pk: int) -> HttpResponse:
    access.require_manage_clinic(request.actor)
    plan = q.package_plan_or_404(request.actor, pk)
    return _removed(request, plan.name, services.package_plan_remove(actor=request.actor, plan=plan))


@actor_required
@require_http_methods(["GET", "POST"])
def membership_plan_edit(request: ActorRequest, pk: int | None = None) -> HttpResponse:
    actor = request.actor
    access.require_manage_clinic(actor)
    plan = q.membership_plan_or_404(actor, pk) if pk is not None else None
    form = f.MembershipPlanForm(
        _post(request),
        instance=plan,
        currency=actor.clinic.currency,
        appointment_types=q.appointment_type_choices(actor),
        tax_rates=q.tax_rate_choices(actor, plan.tax_rate if plan else None),
    )
    return _edit(
        request,
        form=form,
        save=lambda data: services.membership_plan_save(actor=actor, data=data, plan=plan),
        title=plan.name if plan else "New membership",
        what="membership",
        remove=reverse("membership_plan_remove", args=[plan.pk]) if plan else "",
    )


@actor_required
@require_POST
def membership_plan_remove(request: ActorRequest, pk: int) -> HttpResponse:
    access.require_manage_clinic(request.actor)
    plan = q.membership_plan_or_404(request.actor, pk)
    return _removed(request, plan.name, services.membership_plan_remove(actor=request.actor, plan=plan))


urlpatterns = [
    path("billing/settings/", billing_settings, name="billing_settings"),
    path("billing/settings/tax-rates/new/", tax_rate_edit, name="tax_rate_create"),
    path("billing/settings/tax-rates/<int:pk>/", tax_rate_edit, name="tax_rate_edit"),
    path("billing/settings/tax-rates/<int:pk>/remove/", tax_rate_remove, name="tax_rate_remove"),
    path("billing/settings/prices/new/", price_edit, name="price_create"),
    path("billing/settings/prices/<int:pk>/", price_edit, name="price_edit"),
    path("billing/settings/prices/<int:pk>/remove/", price_remove, name="price_remove"),
    path("billing/settings/products/new/", product_edit, name="product_create"),
    path("billing/settings/products/<int:pk>/", product_edit, name="product_edit"),
    path("billing/settings/products/<int:pk>/remove/", product_remove, name="product_remove"),
    path("billing/settings/payers/new/", payer_edit, name="payer_create"),
    path("billing/settings/payers/<int:pk>/", payer_edit, name="payer_edit"),
    path("billing/settings/payers/<int:pk>/remove/", payer_remove, name="payer_remove"),
    path("billing/settings/packages/new/", package_plan_edit, name="package_plan_create"),
    path("billing/settings/packages/<int:pk>/", package_plan_edit, name="package_plan_edit"),
    path("billing/settings/packages/<int:pk>/remove/", package_plan_remove, name="package_plan_remove"),
    path("billing/settings/memberships/new/", membership_plan_edit, name="membership_plan_create"),
    path("billing/settings/memberships/<int:pk>/", membership_plan_edit, name="membership_plan_edit"),
    path("billing/settings/memberships/<int:pk>/remove/", membership_plan_remove, name="membership_plan_remove"),
]
