"""Writing the audit trail. Every read and write of client information ends up here."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from mend.audit.chain import GENESIS, row_hmac
from mend.audit.models import Action, AuditEvent
from mend.platform import context

# Any fixed number: the first key of the PostgreSQL advisory locks that serialise chain appends;
# the second is the clinic.
_CHAIN_LOCK_KEY = 0x6D656E64
# Digests are hashes written as printable ASCII ("sha256:…"); no spaces or control characters,
# so the unit separator that joins signed fields can never appear in one.
_DIGEST = re.compile(r"[\x21-\x7e]{0,128}")


def _lock_id(clinic_id: int | None) -> int:
    """The clinic's id folded into PostgreSQL's int4; the no-clinic chain is 0 (ids start at 1).

    Two clinics folding to the same number only share a lock (they queue); nothing forks.
    """
    return ((clinic_id or 0) + 2**31) % 2**32 - 2**31


def _lock_chain(clinic_id: int | None) -> None:
    """Serialise appends to one clinic's chain so each row links to the one written just before it.

    Two requests appending at once would otherwise both read the same tail and fork the chain
    (the (clinic_id, seq) constraint would then refuse the second insert). On PostgreSQL a
    transaction-scoped advisory lock per clinic makes them queue, and a clinic never waits for
    another clinic's appends. SQLite has one write lock for the whole database, which the
    IMMEDIATE transaction mode already holds, so there appends queue across clinics.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s::int4, %s::int4)", [_CHAIN_LOCK_KEY, _lock_id(clinic_id)])


def audit_record(
    *,
    action: Action | str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    client_id: int | None = None,
    user: Any = None,
    user_email: str = "",
    clinic_id: int | None = None,
    role: str = "",
    digest: str = "",
) -> AuditEvent:
    """Append one event. Who, where and which request come from the request context.

    ``clinic_id`` and ``role`` override the context for events that happen before a clinic is
    active (signing in). ``digest`` is a content digest to sign with the event (a signed note's
    seal), so the chain also proves what the content was when the event happened.
    """
    if not _DIGEST.fullmatch(digest):
        raise ValueError("An audit digest is at most 128 printable ASCII characters with no spaces.")
    ctx = context.current()
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    user_id = getattr(user, "pk", None) if user is not None else ctx.user_id
    if user is not None and not user_email:
        user_email = getattr(user, "email", "")
    if clinic_id is None:
        clinic_id = ctx.clinic_id
    with transaction.atomic():
        _lock_chain(clinic_id)
        # The tail of this clinic's chain (clinic_id None: the no-clinic chain), read after taking
        # the lock so it is the row the previous append committed: one (clinic_id, seq) index lookup.
        last = AuditEvent.objects.filter(clinic_id=clinic_id).order_by("-seq").values_list("seq", "hmac").first()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        fields: dict[str, Any] = {
            "seq": seq,
            "at": timezone.now(),
            "user_id": user_id,
            "user_email": user_email[:254],
            "role": role or ctx.role,
            "clinic_id": clinic_id,
            "action": str(action),
            "object_type": object_type,
            "object_id": str(object_id),
            "client_id": client_id,
            "ip": ctx.ip,
            "request_id": ctx.request_id,
            "digest": digest,
        }
        signature = row_hmac(settings.MEND_AUDIT_KEY, prev, fields)
        return AuditEvent.objects.create(prev_hmac=prev, hmac=signature, **fields)


@dataclass(frozen=True, slots=True)
class Entry:
    """One event of a bulk append (:func:`audit_record_many`)."""

    action: str
    object_type: str
    object_id: str | int
    client_id: int | None = None
    digest: str = ""


def audit_record_many(*, clinic_id: int, entries: Sequence[Entry], role: str = "") -> int:
    """Append many events to one clinic's chain under one lock, in one INSERT batch.

    For loaders that write thousands of records at once (the demo's past episodes, benchmark
    seeds): each row is chained and signed exactly as :func:`audit_record` does, only without a
    query per row. Who and which request come from the request context.
    """
    for entry in entries:
        if not _DIGEST.fullmatch(entry.digest):
            raise ValueError("An audit digest is at most 128 printable ASCII characters with no spaces.")
    ctx = context.current()
    rows = []
    with transaction.atomic():
        _lock_chain(clinic_id)
        last = AuditEvent.objects.filter(clinic_id=clinic_id).order_by("-seq").values_list("seq", "hmac").first()
        seq, prev = (last[0], last[1]) if last else (0, GENESIS)
        for entry in entries:
            seq += 1
            fields: dict[str, Any] = {
                "seq": seq,
                "at": timezone.now(),
                "user_id": ctx.user_id,
                "user_email": "",
                "role": role or ctx.role,
                "clinic_id": clinic_id,
                "action": entry.action,
                "object_type": entry.object_type,
                "object_id": str(entry.object_id),
                "client_id": entry.client_id,
                "ip": ctx.ip,
                "request_id": ctx.request_id,
                "digest": entry.digest,
            }
            signature = row_hmac(settings.MEND_AUDIT_KEY, prev, fields)
            rows.append(AuditEvent(prev_hmac=prev, hmac=signature, **fields))
            prev = signature
        AuditEvent.objects.bulk_create(rows, batch_size=1000)
    return len(rows)
