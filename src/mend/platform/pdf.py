"""PDF documents (invoices, receipts, superbills) rendered by WeasyPrint from the pages' own templates.

The HTML a page shows is the HTML the PDF prints: the view renders its template once and hands the
markup here. WeasyPrint fetches nothing from the network: stylesheets and images resolve to the
project's static files (found by Django's staticfiles finders, so it works before and after
``collectstatic``) and ``data:`` URIs; anything else is refused, so a client's name that smuggles an
``<img src="http://…">`` into a document cannot make the server call out.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders

# The documents' base URL: "/static/…" in the markup resolves under it, and only there.
BASE_URL = "https://mend.invalid/"


class RefusedResource(ValueError):
    """A document asked for something outside the static files."""


def _static_path(url: str) -> Path | None:
    parts = urlsplit(url)
    prefix = "/" + settings.STATIC_URL.strip("/") + "/"
    if parts.scheme != "https" or parts.netloc != "mend.invalid" or not parts.path.startswith(prefix):
        return None
    relative = unquote(parts.path[len(prefix) :])
    if ".." in Path(relative).parts:
        return None
    # Collected files first: a deployment's {% static %} names the hashed copy (document.1a2b3c.css),
    # which only STATIC_ROOT holds; in development and tests the finders know the source file.
    collected = Path(settings.STATIC_ROOT) / relative if settings.STATIC_ROOT else None
    if collected is not None and collected.is_file():
        return collected
    found = finders.find(relative)
    if isinstance(found, list):
        found = found[0] if found else None
    return Path(found) if found else None


def _fetcher() -> Any:
    # Imported here: WeasyPrint loads Pango and fonts, which only the processes that print need.
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    fetcher = URLFetcher(timeout=2, allowed_protocols=("https", "data"), fail_on_errors=False)
    default_fetch = fetcher.fetch

    def fetch(url: str, headers: Any = None) -> Any:
        if url.startswith("data:"):
            return default_fetch(url, headers)
        path = _static_path(url)
        if path is None:
            raise RefusedResource(f"documents load only the clinic's static files, not {url[:80]}")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": content_type})

    fetcher.fetch = fetch
    return fetcher


def render_pdf(html: str) -> bytes:
    """The document ``html`` (a whole page, with its print stylesheet) as PDF bytes."""
    from weasyprint import HTML

    pdf = HTML(string=html, base_url=BASE_URL, url_fetcher=_fetcher()).write_pdf()
    assert isinstance(pdf, bytes)
    return pdf
