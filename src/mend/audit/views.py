from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from mend import access
from mend.audit.forms import AuditFilterForm
from mend.audit.queries import DEFAULT_SORT, AuditFilter, audit_events_for_clinic
from mend.people.models import Client
from mend.platform.pages import actor_required


@actor_required
def audit_log(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    access.require_audit(actor)
    users = [
        (m.user_id, m.user.email) for m in access.memberships(actor).select_related("user").order_by("user__email")
    ]
    form = AuditFilterForm(request.GET or None, users=users)
    filters = AuditFilter()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = AuditFilter(
            user_id=data.get("user"),
            client_id=data.get("client"),
            action=data.get("action") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            sort=data.get("sort") or DEFAULT_SORT,
        )
    events = audit_events_for_clinic(clinic_id=actor.clinic_id, tz=actor.clinic.timezone, filters=filters)
    try:
        page_number = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page_number = 1
    page = Paginator(events, 50).get_page(page_number)
    # One query names the clients on this page; ids of clients since removed stay as ids.
    client_ids = {event.client_id for event in page.object_list if event.client_id}
    names = dict(
        Client.objects.filter(clinic_id=actor.clinic_id, pk__in=client_ids).values_list("pk", "legal_family_name")
    )
    for event in page.object_list:
        event.client_name = names.get(event.client_id, "")  # type: ignore[attr-defined]
    query = request.GET.copy()
    query.pop("page", None)
    sort_query = request.GET.copy()
    sort_query.pop("sort", None)
    sort_query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "sort": filters.sort,
        "query": query.urlencode(),
        "sort_query": sort_query.urlencode(),
    }
    return render(request, "audit/log.html", context)
