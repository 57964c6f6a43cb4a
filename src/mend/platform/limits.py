"""Refuse a request whose body is larger than Mend accepts, before anything reads it.

Django reads a form's body when a view (or the CSRF check) first touches ``request.POST``; by then
a 2 GB upload has already been streamed to a temporary file. This middleware runs first and looks
only at the headers: a ``Content-Length`` over ``MEND_MAX_REQUEST_BYTES`` is answered 413, and
a body sent without a length (``Transfer-Encoding: chunked``) is answered 411. (Django would read
such a body as empty anyway, since its WSGI request reads at most ``Content-Length`` bytes, and
gunicorn does not buffer bodies; the 411 says so instead of failing as a form with no file.)
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.html import format_html

MIB = 1024 * 1024


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.META.get("HTTP_ACCEPT", "")


def _refusal(request: HttpRequest, status: int, title: str, message: str, advice: str = "") -> HttpResponse:
    response: HttpResponse
    if _wants_json(request):
        response = JsonResponse({"detail": message}, status=status)
    else:
        page = format_html(
            '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{} · Mend</title></head>'
            "<body><main><h1>{}</h1><p>{}</p><p>{}</p></main></body></html>",
            title,
            title,
            message,
            advice,
        )
        response = HttpResponse(page, status=status)
    # The body was not read: the connection must not be reused for a next request.
    response["Connection"] = "close"
    return response


class RequestSizeLimitMiddleware:
    """Answer 413 when ``Content-Length`` passes ``MEND_MAX_REQUEST_BYTES``, 411 for a body of unknown length."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit: int = settings.MEND_MAX_REQUEST_BYTES
        declared = request.META.get("CONTENT_LENGTH") or ""
        if not declared and "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            return _refusal(
                request,
                411,
                "Length required",
                "Send the request with a Content-Length header; bodies of unknown length are not accepted.",
            )
        try:
            length = int(declared) if declared else 0
        except ValueError:
            return _refusal(request, 400, "Bad request", "The Content-Length header is not a number.")
        if length > limit:
            return _refusal(
                request,
                413,
                "Too large",
                f"The request is {length / MIB:.1f} MB; Mend accepts at most {limit / MIB:.0f} MB "
                "(a document may be up to 10 MB).",
                advice="Go back to choose a smaller file.",
            )
        return self.get_response(request)
