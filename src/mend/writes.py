"""Small helpers every service module shares: copy allowed fields, list editable ones, and
gather validation errors by field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models

M = TypeVar("M", bound=models.Model)


def apply_fields(instance: M, data: Mapping[str, Any], allowed: set[str]) -> M:
    """Set the attributes of ``data`` that are in ``allowed``; anything else is ignored."""
    for name, value in data.items():
        if name in allowed:
            setattr(instance, name, value)
    return instance


def editable_fields(model: type[models.Model], exclude: set[str]) -> set[str]:
    return {
        f.name
        for f in model._meta.get_fields()
        if isinstance(f, models.Field) and f.editable and not f.primary_key and f.name not in exclude
    }


def merge_errors(errors: dict[str, list[str]], error: ValidationError) -> None:
    """Add a ValidationError's messages to ``errors``, field by field, so one response names them all."""
    for field, messages in error.message_dict.items():
        errors.setdefault(field, []).extend(messages)
