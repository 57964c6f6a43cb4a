from __future__ import annotations

from django.http import HttpRequest, JsonResponse


def field_errors(request: HttpRequest, errors: dict[str, list[str]], status: int = 422) -> JsonResponse:
    """The one error shape of the API: a summary and a list of messages per field name."""
    return JsonResponse({"detail": "The input is not valid.", "errors": errors}, status=status)


def form_errors(form: object) -> dict[str, list[str]]:
    """A bound, invalid Django form's errors as plain strings per field."""
    return {field: [str(message) for message in messages] for field, messages in form.errors.items()}  # type: ignore[attr-defined]
