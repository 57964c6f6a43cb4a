"""What every page shares: the actor gate, the one htmx switch, and a service's errors on a form.

Apps' views import these; the web shell only wires them (middleware, URLs, error pages).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

from django import forms
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.forms.formsets import BaseFormSet
from django.forms.utils import ErrorList
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render

from mend.platform.errors import Path, messages_by_path, parse
from mend.platform.http import ActorRequest

# The session key holding the active clinic's id: set by signing in and by the clinic switcher,
# read by the middleware that makes ``request.actor``.
SESSION_CLINIC_KEY = "mend_clinic_id"

_Args = ParamSpec("_Args")
_Response = TypeVar("_Response", bound=HttpResponseBase)


def actor_required(
    view: Callable[Concatenate[ActorRequest, _Args], _Response],
) -> Callable[Concatenate[HttpRequest, _Args], _Response | HttpResponse]:
    """Signed in, with an active clinic membership; views then use ``request.actor``."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, /, *args: _Args.args, **kwargs: _Args.kwargs) -> _Response | HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if getattr(request, "actor", None) is None:
            return render(request, "web/no_clinic.html", status=403)
        # ActiveClinicMiddleware set the actor just checked: this is the request ActorRequest describes.
        return view(cast(ActorRequest, request), *args, **kwargs)

    return wrapper


def render_page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    partial: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render ``partial`` for an htmx request that targets part of the page, else the whole page."""
    htmx = getattr(request, "htmx", None)
    is_htmx = bool(htmx) and not getattr(htmx, "boosted", False)
    chosen = partial if (partial and is_htmx) else template
    return render(request, chosen, context, status=status)


def merge_validation_error(
    form: forms.BaseForm,
    error: ValidationError,
    *,
    formsets: Mapping[str, BaseFormSet[Any]] | None = None,
    rows: Mapping[str, Sequence[forms.BaseForm]] | None = None,
    lists: Mapping[str, list[str]] | None = None,
) -> None:
    """Show a service's validation error where its field paths point (see ``mend.platform.errors``).

    ``visit_on`` goes beside the form's field. ``techniques[2].pressure`` goes beside that field of
    the third row: the third of ``rows["techniques"]`` when given (the row forms in the order they
    were sent to the service, which skips blank and removed rows), else the third form of
    ``formsets["techniques"]``. ``techniques`` goes into ``lists["techniques"]`` when given, else
    above that formset. Whatever the page does not show goes above the form, so no message is lost.
    """
    for name, messages in messages_by_path(error).items():
        found = parse(name)
        sent = (rows or {}).get(found.field)
        formset = (formsets or {}).get(found.field)
        if sent is not None and found.row is not None and found.row < len(sent):
            row = sent[found.row]
            row.add_error(found.sub if found.sub in row.fields else None, messages)
        elif found.row is None and found.sub is None and lists is not None and found.field in lists:
            lists[found.field].extend(messages)
        elif formset is not None:
            _onto_formset(formset, found, messages)
        elif found.row is None and found.field in form.fields:
            form.add_error(found.field, messages)
        else:
            form.add_error(None, messages)


def error_messages(errors: ErrorList) -> list[str]:
    """A form's or formset's error list as its messages.

    Iterating an ErrorList already gives each message as ``str`` (its ``__getitem__`` unpacks the
    ValidationErrors it holds), but django-stubs types the items as what the list stores.
    """
    return [str(message) for message in errors]


def _onto_formset(formset: BaseFormSet[Any], found: Path, messages: list[str]) -> None:
    if found.row is not None and found.row < len(formset.forms):
        row = formset.forms[found.row]
        row.add_error(found.sub if found.sub in row.fields else None, messages)
    else:
        # non_form_errors() returns the formset's own list, so extending it shows the messages.
        formset.non_form_errors().extend(messages)
