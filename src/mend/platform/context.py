"""Who is acting, for whom, in which request: kept in context variables.

The middleware sets these for a web request, the API authenticator for an API call and the
command line for commands. Services read them to fill the audit trail, so the trail is
complete without every function passing the request along.
"""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
from collections.abc import Iterator
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import TypedDict, Unpack


@dataclass(frozen=True, slots=True)
class RequestContext:
    request_id: str
    ip: str | None = None
    user_id: int | None = None
    clinic_id: int | None = None
    role: str = ""


class _Fields(TypedDict, total=False):
    """What a caller may set or change: RequestContext's fields by name."""

    request_id: str
    ip: str | None
    user_id: int | None
    clinic_id: int | None
    role: str


_current: ContextVar[RequestContext | None] = ContextVar("mend_request_context", default=None)


def current() -> RequestContext:
    ctx = _current.get()
    if ctx is None:
        return RequestContext(request_id="cli-" + uuid.uuid4().hex[:12])
    return ctx


def set_context(ctx: RequestContext) -> Token[RequestContext | None]:
    return _current.set(ctx)


def update(**changes: Unpack[_Fields]) -> None:
    _current.set(dataclasses.replace(current(), **changes))


def reset(token: Token[RequestContext | None]) -> None:
    _current.reset(token)


@contextlib.contextmanager
def acting(**fields: Unpack[_Fields]) -> Iterator[RequestContext]:
    """Run a block (a command, a test) as a given actor."""
    ctx = dataclasses.replace(RequestContext(request_id="cli-" + uuid.uuid4().hex[:12]), **fields)
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
