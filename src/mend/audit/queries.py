"""Reading the audit trail: the owners' report, chain verification and the extra verifiers."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.utils.module_loading import import_string

from mend import access
from mend.audit.chain import SIGNED_FIELDS, ChainProblem, first_problem
from mend.audit.models import AuditEvent
from mend.platform.actor import Actor

# Only these columns may be sorted on: a sort key is never passed through from the request.
SORTABLE = {
    "at": "at",
    "-at": "-at",
    "user": "user_email",
    "-user": "-user_email",
    "action": "action",
    "-action": "-action",
    "client": "client_id",
    "-client": "-client_id",
}
DEFAULT_SORT = "-at"


@dataclass(frozen=True, slots=True)
class AuditFilter:
    user_id: int | None = None
    client_id: int | None = None
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None
    sort: str = DEFAULT_SORT


def audit_events_for_clinic(*, clinic_id: int, tz: str, filters: AuditFilter) -> QuerySet[AuditEvent]:
    zone = ZoneInfo(tz)
    events = AuditEvent.objects.filter(clinic_id=clinic_id)
    if filters.user_id:
        events = events.filter(user_id=filters.user_id)
    if filters.client_id:
        events = events.filter(client_id=filters.client_id)
    if filters.action:
        events = events.filter(action=filters.action)
    if filters.date_from:
        events = events.filter(at__gte=datetime.combine(filters.date_from, time.min, tzinfo=zone))
    if filters.date_to:
        events = events.filter(at__lte=datetime.combine(filters.date_to, time.max, tzinfo=zone))
    order = SORTABLE.get(filters.sort, SORTABLE[DEFAULT_SORT])
    return events.order_by(order, "-seq")


@dataclass
class ReportNames:
    """Where the owners' report finds names for the ids it shows.

    People and members belong to the people and clinics apps, which write to this trail and so
    sit above it: they lend their loaders here from their ``AppConfig.ready()`` instead of this
    module importing them. Until they do, the report shows bare ids.
    """

    members: Callable[[Actor], list[tuple[int, str]]] = lambda actor: []
    clients: Callable[[Actor, Collection[int]], dict[int, str]] = lambda actor, ids: {}
    clinics: Callable[[], dict[int, str]] = dict


report_names = ReportNames()
REPORT_PAGE_SIZE = 50


def audit_members(actor: Actor) -> list[tuple[int, str]]:
    """The clinic's members as (user id, email), to filter the report by who acted."""
    access.require_audit(actor)
    return report_names.members(actor)


def audit_log(actor: Actor, *, filters: AuditFilter, page_number: int) -> Page[AuditEvent]:
    """One page of the clinic's trail, newest first unless sorted otherwise, each event with its
    client's name (``client_name``): three queries (count, rows, names)."""
    access.require_audit(actor)
    events = audit_events_for_clinic(clinic_id=actor.clinic_id, tz=actor.timezone, filters=filters)
    page = Paginator(events, REPORT_PAGE_SIZE).get_page(page_number)
    # Ids of clients since removed stay as ids.
    names = report_names.clients(actor, {event.client_id for event in page.object_list if event.client_id})
    for event in page.object_list:
        event.client_name = names.get(event.client_id, "") if event.client_id is not None else ""
    return page


@dataclass(frozen=True, slots=True)
class ChainReport:
    clinic_id: int | None
    rows_checked: int
    problem: ChainProblem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def audit_chain_ids() -> list[int | None]:
    """The chains in the table: one per clinic with events, None for the no-clinic chain (first)."""
    # order_by() clears Meta.ordering, which would otherwise join the DISTINCT.
    ids = set(AuditEvent.objects.order_by().values_list("clinic_id", flat=True).distinct())
    return ([None] if None in ids else []) + sorted(i for i in ids if i is not None)


def verify_chain(
    *,
    clinic_id: int | None,
    key: str | None = None,
    progress: Callable[[int], object] | None = None,
    chunk_size: int = 5000,
) -> ChainReport:
    """Walk one clinic's chain (None: the no-clinic chain) in seq order, stopping at the first bad row.

    A row whose fields were edited fails its own HMAC; a removed row leaves a gap in the
    sequence and breaks the link from the row after it. Limit: removing a chain's newest rows,
    or a whole chain, cannot be seen from the table alone.
    """
    key = key or settings.MEND_AUDIT_KEY
    columns = ("id", "prev_hmac", "hmac", *SIGNED_FIELDS)
    rows = (
        AuditEvent.objects.filter(clinic_id=clinic_id)  # None filters IS NULL
        .order_by("seq")
        .values(*columns)
        .iterator(chunk_size=chunk_size)
    )
    checked = 0
    for problem in first_problem(rows, key=key):
        if problem is not None:
            return ChainReport(clinic_id, checked, problem)
        checked += 1
        if progress is not None:
            progress(1)
    return ChainReport(clinic_id, checked, None)


AuditVerifier = Callable[[int | None], list[str]]


def audit_verifiers() -> list[tuple[str, AuditVerifier]]:
    """The extra checks other apps register for ``mend audit verify``, by dotted path.

    ``settings.MEND_AUDIT_VERIFIERS`` lists callables taking a clinic id (None: every clinic)
    and returning a list of problems, empty when all is well. A setting, so the audit app
    never imports the apps whose records it checks.
    """
    verifiers = []
    for path in getattr(settings, "MEND_AUDIT_VERIFIERS", []):
        try:
            verifiers.append((path, import_string(path)))
        except ImportError as error:
            raise ImproperlyConfigured(f"MEND_AUDIT_VERIFIERS: cannot import {path!r}: {error}") from error
    return verifiers
