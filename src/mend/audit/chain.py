"""The audit chain's arithmetic: which fields are signed, and how."""

from __future__ import annotations

import hashlib
import hmac as hmac_lib
from collections.abc import Mapping
from datetime import datetime

GENESIS = "0" * 64
SIGNED_FIELDS = (
    "seq",
    "at",
    "user_id",
    "user_email",
    "role",
    "clinic_id",
    "action",
    "object_type",
    "object_id",
    "client_id",
    "ip",
    "request_id",
)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    return str(value)


def row_hmac(key: str, prev_hmac: str, fields: Mapping[str, object]) -> str:
    """HMAC-SHA256 over the previous row's HMAC and this row's signed fields.

    Fields are joined with the unit separator (0x1f), which cannot be typed into any field
    Mend writes, so two different rows can never serialise to the same message.
    """
    message = "\x1f".join([prev_hmac, *(_text(fields[name]) for name in SIGNED_FIELDS)])
    return hmac_lib.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()
