"""``Idempotency-Key``: a retried request gets the answer the first one got, and never books twice.

The key's row is written first, in the same transaction as the work it guards, under the unique
constraint ``(clinic, scope, key)``. A second request with the key waits on that row (PostgreSQL's
unique index; SQLite's write lock, every transaction there being IMMEDIATE) until the first one
commits, then finds it and answers with the stored status and body. Should the first one fail
outright (a server error), its transaction and the key's row roll back together, so a retry runs
the work again. Conflicts (409) and refusals (422) are answers like any other and are stored.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from mend.clinics.models import Clinic
from mend.scheduling.models import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200

Answer = tuple[int, dict[str, Any]]


def request_digest(payload: Any) -> str:
    """The request's fingerprint: its JSON body with keys sorted, so key order never matters."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def check_key(key: str) -> str:
    """The header's value, or a ``ValidationError`` naming the header."""
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationError({HEADER: f"Send a key of 1 to {MAX_KEY_LENGTH} printable characters, e.g. a UUID."})
    return key


@transaction.atomic
def idempotency_key_use(
    *, clinic: Clinic, scope: str, key: str, digest: str, run: Callable[[], Answer]
) -> tuple[Answer, bool]:
    """``run()``'s answer, stored under ``key``; or the stored answer of an earlier request with the key.

    Returns the answer and whether it is a replay. The same key with another request's body raises
    ``ValidationError`` naming the header: a key is for retrying one request, not for several.
    """
    key = check_key(key)
    try:
        with transaction.atomic():
            row = IdempotencyKey.objects.create(
                clinic=clinic, scope=scope, key=key, request_digest=digest, status_code=0, response={}
            )
    except IntegrityError:
        earlier = IdempotencyKey.objects.get(clinic=clinic, scope=scope, key=key)
        if earlier.request_digest != digest:
            raise ValidationError(
                {HEADER: "This key was already used for a different request: use a new key for a new request."}
            ) from None
        return (earlier.status_code, dict(earlier.response)), True
    status, body = run()
    row.status_code = status
    row.response = body
    row.save(update_fields=["status_code", "response"])
    return (status, body), False
