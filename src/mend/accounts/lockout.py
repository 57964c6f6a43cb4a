"""What django-axes counts failed sign-ins against: the email as stored, whatever its case."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from mend.accounts.models import normalise_email


def attempted_email(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """AXES_USERNAME_CALLABLE: ``Maya@Example.org`` and ``maya@example.org`` share one counter."""
    typed = (credentials or {}).get("username") or request.POST.get("username", "")
    return normalise_email(str(typed))
