from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from mend import access
from mend.audit import queries
from mend.audit.forms import AuditFilterForm
from mend.audit.queries import DEFAULT_SORT, AuditFilter
from mend.platform.http import ActorRequest
from mend.platform.pages import actor_required


@actor_required
def audit_log(request: ActorRequest) -> HttpResponse:
    actor = request.actor
    access.require_audit(actor)
    form = AuditFilterForm(request.GET or None, users=queries.audit_members(actor))
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
    try:
        page_number = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page_number = 1
    page = queries.audit_log(actor, filters=filters, page_number=page_number)
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
