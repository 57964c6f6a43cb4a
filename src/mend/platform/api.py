"""What every API route shares: the one JSON error shape and a validation error rendered into it.

Field paths are dotted in the API (``techniques.2.pressure``), the way schema errors name them,
whatever the service or form called them (``techniques[2].pressure``, see ``mend.platform.errors``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, JsonResponse
from ninja import Schema
from ninja.pagination import PageNumberPagination
from pydantic import Field

from mend.platform.errors import dotted, messages_by_path, parse, path


def field_errors(request: HttpRequest, errors: dict[str, list[str]], status: int = 422) -> JsonResponse:
    """The one error shape of the API: a summary and a list of messages per field path."""
    return JsonResponse({"detail": "The input is not valid.", "errors": errors}, status=status)


def invalid(
    request: HttpRequest,
    error: ValidationError | forms.BaseForm,
    *,
    rename: Mapping[str, str] | None = None,
) -> JsonResponse:
    """A service's ``ValidationError`` (or an invalid form's errors) as the API's 422.

    ``rename`` maps a field the service or form knows to the payload key the API calls it
    (``primary_therapist`` → ``primary_therapist_id``); rows and sub-fields keep their place.
    """
    if isinstance(error, forms.BaseForm):
        error = ValidationError(error.errors.as_data())
    errors: dict[str, list[str]] = {}
    for name, messages in messages_by_path(error).items():
        found = parse(name)
        key = dotted(path((rename or {}).get(found.field, found.field), found.row, found.sub))
        errors.setdefault(key, []).extend(messages)
    return field_errors(request, errors)


# Lists answer pages of at most MAX_PAGE_SIZE items, and a page number past MAX_PAGE is refused
# (422 naming ``page``) rather than turned into an offset the database cannot hold.
MAX_PAGE = 100_000
MAX_PAGE_SIZE = 100


class Pages(PageNumberPagination):
    """Ninja's page-number pagination with both numbers bounded: out of bounds is a 422 naming the field."""

    class Input(Schema):
        page: int = Field(1, ge=1, le=MAX_PAGE)
        page_size: int | None = Field(None, ge=1, le=MAX_PAGE_SIZE)


class Detail(Schema):
    detail: str


class FieldErrors(Schema):
    detail: str
    errors: dict[str, list[str]] = Field(description="Messages per field; nested rows as `rom.0`, `techniques.1`.")


# Every route may answer these besides its success: 403 for front desk, 404 for what the token
# cannot see, 422 for input that does not validate.
ERRORS: dict[int, Any] = {403: Detail, 404: Detail, 422: FieldErrors}
