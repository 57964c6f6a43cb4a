"""Financial reports for owners and admins: the overview with its charts, the write-offs, and each
section as CSV (text cells neutralised against spreadsheet formulas, numbers left as numbers)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import Http404, HttpResponse
from django.urls import URLPattern, path

from mend.access import require_manage_clinic
from mend.billing import charts
from mend.billing.forms.reports import ReportPeriodForm
from mend.billing.queries import reports as q
from mend.platform.csv_export import write_csv
from mend.platform.http import ActorRequest
from mend.platform.pages import actor_required, render_page


def _period(request: ActorRequest) -> tuple[ReportPeriodForm, q.Period, str]:
    form = ReportPeriodForm(request.GET, today=request.actor.today())
    period, basis = form.result()
    return form, period, basis


def _query(request: ActorRequest) -> str:
    """The page's own period and basis, for the links to its CSVs and to the write-offs."""
    return urlencode({k: v for k, v in request.GET.items() if k in ("preset", "first", "last", "basis")})


@actor_required
def report_index(request: ActorRequest) -> HttpResponse:
    require_manage_clinic(request.actor)
    form, period, basis = _period(request)
    if request.GET.get("format") == "csv":
        return report_csv(request, request.GET.get("section", "revenue-month"))
    page = q.report_page(request.actor, period, basis)
    chart = charts.revenue_chart(page.revenue.by_month, currency=page.currency, basis=basis)
    return render_page(
        request,
        "billing/report_index.html",
        {
            "section": "billing",
            "form": form,
            "page": page,
            "chart": chart,
            "bucket_labels": q.BUCKET_LABELS,
            "query": _query(request),
        },
    )


@actor_required
def report_write_offs(request: ActorRequest) -> HttpResponse:
    require_manage_clinic(request.actor)
    form, period, _basis = _period(request)
    found = q.write_offs(request.actor, period)
    return render_page(
        request,
        "billing/report_write_offs.html",
        {"section": "billing", "form": form, "period": period, "found": found, "query": _query(request)},
    )


@actor_required
def report_csv(request: ActorRequest, section: str) -> HttpResponse:
    require_manage_clinic(request.actor)
    if section not in q.SECTIONS:
        raise Http404("No such report.")
    _form, period, basis = _period(request)
    header, rows = q.section_table(request.actor, section, period, basis)
    response = HttpResponse(write_csv(header, rows), content_type="text/csv; charset=utf-8")
    name = f"{section}-{period.first:%Y%m%d}-{period.last:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


urlpatterns: list[URLPattern] = [
    path("billing/reports/", report_index, name="billing_reports"),
    path("billing/reports/write-offs/", report_write_offs, name="billing_report_write_offs"),
    path("billing/reports/<slug:section>.csv", report_csv, name="billing_report_csv"),
]
