"""One error shape from services to every interface.

Services raise Django's ``ValidationError`` with a dict keyed by *field path*: a field name
(``visit_on``), a row of a nested list (``techniques[2]``), a field of that row
(``techniques[2].pressure``), or ``__all__`` for the whole input. Each interface renders the
paths once: the API as dotted names (``techniques.2.pressure``), pages beside the field or the
formset row they name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

WHOLE = "__all__"
_PATH = re.compile(r"^(?P<field>[A-Za-z_][A-Za-z0-9_]*)(?:\[(?P<row>\d+)\](?:\.(?P<sub>[A-Za-z_][A-Za-z0-9_]*))?)?$")


@dataclass(frozen=True, slots=True)
class Path:
    field: str
    row: int | None = None
    sub: str | None = None


def path(field: str, row: int | None = None, sub: str | None = None) -> str:
    """Build a field path: ``path("techniques", 2, "pressure") == "techniques[2].pressure"``."""
    text = field if row is None else f"{field}[{row}]"
    return f"{text}.{sub}" if sub else text


def parse(name: str) -> Path:
    """Read a field path back; anything that is not one is a field name as it stands."""
    match = _PATH.match(name)
    if match is None:
        return Path(name)
    row = match.group("row")
    return Path(match.group("field"), int(row) if row is not None else None, match.group("sub"))


def messages_by_path(error: ValidationError) -> dict[str, list[str]]:
    """Every message of ``error`` under its path; messages without a field go under ``__all__``."""
    if hasattr(error, "error_dict"):
        return {(WHOLE if k == NON_FIELD_ERRORS else k): list(v) for k, v in error.message_dict.items()}
    return {WHOLE: list(error.messages)}


def dotted(name: str) -> str:
    """A path as the API names it: ``techniques[2].pressure`` → ``techniques.2.pressure``."""
    found = parse(name)
    parts = [found.field] + ([str(found.row)] if found.row is not None else []) + ([found.sub] if found.sub else [])
    return ".".join(parts)
