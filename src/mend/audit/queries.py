"""Reading the audit trail: the owners' report and chain verification."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import QuerySet

from mend.audit.chain import GENESIS, SIGNED_FIELDS, row_hmac
from mend.audit.models import AuditEvent

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


@dataclass(frozen=True, slots=True)
class ChainProblem:
    seq: int
    row_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class ChainReport:
    rows_checked: int
    problem: ChainProblem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify_chain(
    *, key: str | None = None, progress: Callable[[int], None] | None = None, chunk_size: int = 5000
) -> ChainReport:
    """Walk the chain in order and stop at the first row that does not check out.

    A row whose fields were edited fails its own HMAC; a removed row leaves a gap in the
    sequence and breaks the link from the row after it.
    """
    key = key or settings.MEND_AUDIT_KEY
    expected_prev = GENESIS
    expected_seq = 1
    checked = 0
    columns = ("id", "prev_hmac", "hmac", *SIGNED_FIELDS)
    for row in AuditEvent.objects.order_by("seq").values(*columns).iterator(chunk_size=chunk_size):
        if row["seq"] != expected_seq:
            missing = f"{expected_seq}" if row["seq"] == expected_seq + 1 else f"{expected_seq}–{row['seq'] - 1}"
            return ChainReport(checked, ChainProblem(row["seq"], row["id"], f"row(s) {missing} removed before it"))
        if row["prev_hmac"] != expected_prev:
            return ChainReport(checked, ChainProblem(row["seq"], row["id"], "does not link to the row before it"))
        if row_hmac(key, row["prev_hmac"], row) != row["hmac"]:
            return ChainReport(checked, ChainProblem(row["seq"], row["id"], "was altered (HMAC mismatch)"))
        expected_prev = row["hmac"]
        expected_seq += 1
        checked += 1
        if progress is not None:
            progress(1)
    return ChainReport(checked, None)
