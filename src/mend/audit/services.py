"""Writing the audit trail. Every read and write of client information ends up here."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from mend.audit.chain import GENESIS, row_hmac
from mend.audit.models import Action, AuditEvent
from mend.platform import context

# Any fixed number: the key of the PostgreSQL advisory lock that serialises chain appends.
_CHAIN_LOCK_KEY = 0x6D656E64


def _lock_chain() -> None:
    """Serialise appends so each row links to the one written just before it.

    Two requests appending at once would otherwise both read the same tail and fork the
    chain. On PostgreSQL a transaction-scoped advisory lock makes them queue; on SQLite the
    IMMEDIATE transaction mode already holds the database's single write lock.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])


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
) -> AuditEvent:
    """Append one event. Who, where and which request come from the request context.

    ``clinic_id`` and ``role`` override the context for events that happen before a clinic is
    active (signing in).
    """
    ctx = context.current()
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    user_id = getattr(user, "pk", None) if user is not None else ctx.user_id
    if user is not None and not user_email:
        user_email = getattr(user, "email", "")
    with transaction.atomic():
        _lock_chain()
        last = AuditEvent.objects.order_by("-seq").values_list("seq", "hmac").first()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        fields: dict[str, Any] = {
            "seq": seq,
            "at": timezone.now(),
            "user_id": user_id,
            "user_email": user_email[:254],
            "role": role or ctx.role,
            "clinic_id": clinic_id if clinic_id is not None else ctx.clinic_id,
            "action": str(action),
            "object_type": object_type,
            "object_id": str(object_id),
            "client_id": client_id,
            "ip": ctx.ip,
            "request_id": ctx.request_id,
        }
        signature = row_hmac(settings.MEND_AUDIT_KEY, prev, fields)
        return AuditEvent.objects.create(prev_hmac=prev, hmac=signature, **fields)
