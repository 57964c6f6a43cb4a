"""Markup drawn on the server, made fit for the Content-Security-Policy (see settings.CONTENT_SECURITY_POLICY)."""

from __future__ import annotations

import re

from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

_STYLE = re.compile(r"<style\b")
# pygal hides each tooltip box with a style attribute, which the policy refuses; the script that
# would show them is removed (mend.outcomes.charts), so the SVG attribute does the same job.
_HIDDEN_TOOLTIP = re.compile(r'\sstyle="opacity: ?0;?"')
_NONCE = re.compile(r"^[A-Za-z0-9+/=_-]+$")


@register.filter
def inline_svg(svg: str, nonce: object) -> SafeString:
    """A chart's SVG, trusted markup drawn by pygal, for a page whose policy allows inline styles
    only with the response's nonce: each ``<style>`` element carries it.

    Use as ``{{ chart_svg|inline_svg:request.csp_nonce }}``; asking for the nonce adds it to the header.
    """
    # str(), not truth: django-csp's lazy nonce is falsy until first read, and reading it is what
    # adds it to the header. None or "" where no policy applies (a response drawn outside a request).
    value = "" if nonce is None else str(nonce)
    if value:
        if not _NONCE.match(value):
            raise ValueError("a CSP nonce is base64 text")
        svg = _STYLE.sub(f'<style nonce="{value}"', svg)
    return mark_safe(_HIDDEN_TOOLTIP.sub(' opacity="0"', svg))  # noqa: S308 - the chart's own markup, as |safe was
