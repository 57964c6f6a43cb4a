"""mend.platform.pdf: documents printed with their own stylesheet, and nothing fetched from outside."""

from __future__ import annotations

import io

from pypdf import PdfReader

from mend.platform import pdf

A5_POINTS = (420, 595)  # 148 × 210 mm


def _page_size(data: bytes) -> tuple[int, int]:
    box = PdfReader(io.BytesIO(data)).pages[0].mediabox
    return round(float(box.width)), round(float(box.height))


def test_the_documents_stylesheet_is_applied_from_the_static_files(settings, tmp_path):
    """A stylesheet that prints on A5, found under STATIC_ROOT (a deployment's collected, hashed copy)."""
    settings.STATIC_ROOT = tmp_path
    (tmp_path / "print").mkdir()
    (tmp_path / "print" / "a5.0123abcd.css").write_text("@page { size: A5; }")
    html = '<html><head><link rel="stylesheet" href="/static/print/a5.0123abcd.css"></head><body>Hi</body></html>'
    assert _page_size(pdf.render_pdf(html)) == A5_POINTS


def test_the_source_stylesheet_is_found_before_collectstatic(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "empty"
    html = '<html><head><link rel="stylesheet" href="/static/billing/document.css"></head><body>Hi</body></html>'
    width, _height = _page_size(pdf.render_pdf(html))
    assert width == 595  # A4 from billing/document.css, not WeasyPrint's default Letter (612)


def test_nothing_outside_the_static_files_is_fetched(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path
    (tmp_path / "secret.txt").write_text("x")
    for url in (
        "http://169.254.169.254/latest/meta-data/",
        "file:///etc/passwd",
        "https://mend.invalid/static/../secret.txt",
        "https://example.com/static/x.css",
    ):
        assert pdf._static_path(url) is None, url
    html = '<html><body><img src="http://127.0.0.1:9/track.png" alt="x">Hi</body></html>'
    # The image is refused (its alt text stands in), and the document still prints.
    assert PdfReader(io.BytesIO(pdf.render_pdf(html))).pages[0].extract_text().strip() == "Hix"
