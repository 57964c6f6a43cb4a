"""What Mend keeps in a signed-in session about the sign-in itself, and the clock rules on it.

- when the session was last used (idle timeout, ONC d(5)) and when the person signed in (absolute
  limit, ASVS 7.1.1);
- whether this sign-in passed a second factor (a clinic may require one of its staff);
- a sign-in half done: the password was right, the second factor is still to come;
- when the person last re-entered their password (changing sign-in factors needs a recent one).

Times are whole seconds since the epoch: sessions are JSON.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest
from django.utils import timezone

SEEN = "mend_seen"
SIGNED_IN = "mend_signed_in"
SECOND_FACTOR = "mend_second_factor"
PENDING = "mend_mfa_pending"
REAUTH = "mend_reauth"

# A password typed on the sign-in page is good for this long while the second factor is asked for.
PENDING_SECONDS = 5 * 60
# Re-entering the password lets the person change their sign-in factors for this long.
REAUTH_SECONDS = 10 * 60
# The last-seen time is written at most this often, so a busy page costs no session write per request.
TOUCH_SECONDS = 60


def now() -> int:
    return int(timezone.now().timestamp())


def clocks_start(sender: object, request: HttpRequest, **kwargs: Any) -> None:
    """On ``user_logged_in``: the idle and absolute clocks start now."""
    moment = now()
    request.session[SIGNED_IN] = moment
    request.session[SEEN] = moment
    request.session.pop(PENDING, None)


def expired(session: SessionBase) -> str:
    """Why the session is over ("idle" or "absolute"), or "" while it is still good.

    A session with no times yet (signed in by a test's ``force_login``) starts its clocks now.
    """
    moment = now()
    seen = session.get(SEEN)
    signed_in = session.get(SIGNED_IN)
    if isinstance(seen, int) and moment - seen > settings.MEND_IDLE_MINUTES * 60:
        return "idle"
    if isinstance(signed_in, int) and moment - signed_in > settings.SESSION_COOKIE_AGE:
        return "absolute"
    if not isinstance(signed_in, int):
        session[SIGNED_IN] = moment
    if not isinstance(seen, int) or moment - seen >= TOUCH_SECONDS:
        session[SEEN] = moment
    return ""


def pending(session: SessionBase) -> dict[str, Any] | None:
    """The half-done sign-in (user id, backend, where to go next), while it is fresh enough."""
    value = session.get(PENDING)
    if not isinstance(value, dict) or not isinstance(value.get("at"), int):
        return None
    if now() - value["at"] > PENDING_SECONDS:
        session.pop(PENDING, None)
        return None
    return value


def start_pending(session: SessionBase, *, user_id: int, backend: str, next_url: str) -> None:
    session[PENDING] = {"user": user_id, "backend": backend, "next": next_url, "at": now()}


def reauthenticated(session: SessionBase) -> None:
    session[REAUTH] = now()


def recently_reauthenticated(session: SessionBase) -> bool:
    value = session.get(REAUTH)
    return isinstance(value, int) and now() - value <= REAUTH_SECONDS


def has_second_factor(session: SessionBase) -> bool:
    return bool(session.get(SECOND_FACTOR))


def second_factor_added(session: SessionBase, kind: str) -> None:
    session[SECOND_FACTOR] = kind


def second_factors_gone(session: SessionBase) -> None:
    session.pop(SECOND_FACTOR, None)
