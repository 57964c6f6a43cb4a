"""Who is acting, for whom, in which request: kept in context variables.

The middleware sets these for a web request, the API authenticator for an API call and the
command line for commands. Services read them to fill the audit trail, so the trail is
complete without every function passing the request along.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RequestContext:
    request_id: str
    ip: str | None = None
    user_id: int | None = None
    clinic_id: int | None = None
    role: str = ""


_current: ContextVar[RequestContext | None] = ContextVar("mend_request_context", default=None)


def current() -> RequestContext:
    ctx = _current.get()
    if ctx is None:
        return RequestContext(request_id="cli-" + uuid.uuid4().hex[:12])
    return ctx


def set_context(ctx: RequestContext) -> object:
    return _current.set(ctx)


def update(**changes: object) -> None:
    ctx = current()
    fields = {
        "request_id": ctx.request_id,
        "ip": ctx.ip,
        "user_id": ctx.user_id,
        "clinic_id": ctx.clinic_id,
        "role": ctx.role,
    }
    fields.update(changes)
    _current.set(RequestContext(**fields))  # type: ignore[arg-type]


def reset(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]


@contextlib.contextmanager
def acting(**fields: object) -> Iterator[RequestContext]:
    """Run a block (a command, a test) as a given actor."""
    base = {"request_id": "cli-" + uuid.uuid4().hex[:12]}
    base.update(fields)  # type: ignore[arg-type]
    token = _current.set(RequestContext(**base))  # type: ignore[arg-type]
    try:
        yield _current.get()  # type: ignore[misc]
    finally:
        _current.reset(token)
