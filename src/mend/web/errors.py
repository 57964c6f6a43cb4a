from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(
        request,
        "web/error.html",
        {"code": 404, "title": "Not found", "message": "There is nothing here, or it is not yours to see."},
        status=404,
    )


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    message = str(exception) if exception and str(exception) else "Your role cannot open this page."
    return render(request, "web/error.html", {"code": 403, "title": "Not allowed", "message": message}, status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "web/error.html",
        {
            "code": 500,
            "title": "Something went wrong",
            "message": "The error was logged. Nothing you saved before this page was lost.",
        },
        status=500,
    )
