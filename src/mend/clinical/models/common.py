"""Choices and field helpers the clinical models share."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

if TYPE_CHECKING:
    from django.db.models.expressions import Combinable

SIDE_CHOICES = [("left", "Left"), ("right", "Right"), ("bilateral", "Both sides")]


def score_field(name: str) -> models.PositiveSmallIntegerField[float | int | str | Combinable | None, int | None]:
    """An optional 0–10 rating (what the model's field would be as ``PositiveSmallIntegerField(null=True)``)."""
    return models.PositiveSmallIntegerField(
        name, null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(10)]
    )
