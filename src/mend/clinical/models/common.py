"""Choices and field helpers the clinical models share."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

SIDE_CHOICES = [("left", "Left"), ("right", "Right"), ("bilateral", "Both sides")]


def score_field(name: str, **kwargs: object) -> models.PositiveSmallIntegerField:  # type: ignore[type-arg]
    return models.PositiveSmallIntegerField(
        name, null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(10)], **kwargs
    )
