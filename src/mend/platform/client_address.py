"""The address a request came from, seen through the reverse proxies Mend is told to trust.

Behind a proxy every request arrives from the proxy's address, so the password-reset limit, the
sign-in lockout (django-axes) and the audit trail would count every client as one. Each trusted
proxy appends the address it received the request from to ``X-Forwarded-For``; anything to the
left of those entries was written by the client and may be made up. With ``MEND_TRUSTED_PROXIES``
set to N, the client is the N-th entry from the right; with 0 (the default) the header is ignored.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or the entry the outermost trusted proxy wrote.

    A request with fewer entries than trusted proxies did not come through them all (or came
    straight to Mend), and an entry that is not an address is not one a proxy wrote: for both,
    the connection's own address is the one that can be relied on.
    """
    remote = request.META.get("REMOTE_ADDR") or None
    trusted: int = settings.MEND_TRUSTED_PROXIES
    if trusted == 0:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if len(hops) < trusted:
        return remote
    try:
        return str(ipaddress.ip_address(hops[-trusted]))
    except ValueError:
        return remote
