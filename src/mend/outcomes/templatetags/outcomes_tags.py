"""Showing scores: unrounded in the database, one decimal on the page, "not computable" for None."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def score(value: float | None) -> str:
    if value is None:
        return "not computable"
    text = f"{value:.1f}"
    return text.removesuffix(".0")


@register.filter
def signed(value: float | None) -> str:
    if value is None:
        return ""
    text = f"{value:+.1f}".removesuffix(".0")
    return text.replace("-", "−")


@register.filter
def magnitude(value: float | None) -> str:
    """The size of a change without its sign, for "2 worse" rather than "−2 worse"."""
    return "" if value is None else score(abs(value))
