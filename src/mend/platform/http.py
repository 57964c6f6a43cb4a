"""The typed request every interface adapter receives.

``ActiveClinicMiddleware`` sets ``actor`` and ``memberships`` on each page request and the API's
bearer authentication sets ``actor``; annotating a view's argument as :class:`ActorRequest`
lets the type checker see them instead of every view casting its own way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

    from mend.clinics.models import Membership
    from mend.platform.actor import Actor


class MendRequest(HttpRequest):
    """A request after Mend's middleware: the actor may be missing (signed out, no clinic)."""

    actor: Actor | None
    memberships: list[Membership]
    htmx: HtmxDetails


class ActorRequest(MendRequest):
    """A request that passed ``actor_required`` (pages) or bearer authentication (API)."""

    actor: Actor
