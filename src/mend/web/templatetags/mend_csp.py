"""Markup drawn on the server, made fit for the Content-Security-Policy (see settings.CONTENT_SECURITY_POLICY)."""

from __future__ import annotations

import re

from django import template
from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

_STYLE = re.compile(r"<style\b")
# pygal hides each tooltip box with a style attribute, which the policy refuses; the script that
# would show them is removed (mend.outcomes.charts), so the SVG attribute does the same job.
_HIDDEN_TOOLTIP = re.compile(r'\sstyle="opacity: ?0;?"')


def style_nonce(request: HttpRequest | None) -> str:
    """The nonce a ``<style>`` in this response must carry ("" where no policy applies)."""
    nonce = getattr(request, "csp_nonce", None)
    # str(), not truth: django-csp's lazy nonce is falsy until first read, and reading it is what
    # adds it to the response's header.
    return "" if nonce is None else str(nonce)


@register.filter
def inline_svg(svg: str, request: HttpRequest | None) -> SafeString:
    """A chart's SVG, trusted markup drawn by pygal, for a page whose policy allows inline styles
    only with its nonce: each ``<style>`` element carries it. Use as ``{{ svg|inline_svg:request }}``.
    """
    nonce = style_nonce(request or None)  # "" when the template has no request
    if nonce:
        svg = _STYLE.sub(f'<style nonce="{nonce}"', svg)
    return mark_safe(_HIDDEN_TOOLTIP.sub(' opacity="0"', svg))  # noqa: S308 - the chart's own markup, as |safe was
