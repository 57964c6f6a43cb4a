"""Bodies over the upload limit are refused from their headers, before anything reads them."""

from __future__ import annotations

import io

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


class UnreadableBody(io.RawIOBase):
    """A WSGI input that fails the test if anything reads it."""

    def read(self, size: int = -1) -> bytes:
        raise AssertionError("the request body was read")

    readline = read


def _post(http: Client, path: str, length: str | None, **headers: str):
    extra = {"wsgi.input": UnreadableBody(), **headers}
    if length is not None:
        extra["CONTENT_LENGTH"] = length
    return http.generic("POST", path, b"", content_type="multipart/form-data; boundary=xyz", **extra)


def test_a_page_upload_over_the_limit_is_refused_unread(login, settings):
    http = login("therapist")
    response = _post(http, "/episodes/1/referrals/new/", str(settings.MEND_MAX_REQUEST_BYTES + 1))
    assert response.status_code == 413
    page = response.content.decode()
    assert "Too large" in page and "Mend accepts at most 11 MB" in page and "choose a smaller file" in page
    assert response["Connection"] == "close"


def test_an_api_request_over_the_limit_gets_json(settings):
    response = _post(Client(), "/api/v1/clients", str(2 * 1024**3), HTTP_AUTHORIZATION="Bearer x")
    assert response.status_code == 413
    assert response.json() == {
        "detail": "The request is 2048.0 MB; Mend accepts at most 11 MB (a document may be up to 10 MB)."
    }


def test_a_body_of_unknown_length_is_refused_unread():
    response = _post(Client(), "/accounts/login/", None, HTTP_TRANSFER_ENCODING="chunked")
    assert response.status_code == 411
    assert "Content-Length" in response.content.decode()


def test_a_malformed_length_is_a_bad_request():
    assert _post(Client(), "/accounts/login/", "12abc").status_code == 400


def test_a_request_within_the_limit_is_read_as_usual(settings):
    settings.MEND_MAX_REQUEST_BYTES = 1024 * 1024
    response = Client().post("/accounts/login/", {"username": "nobody@example.com", "password": "x" * 2000})
    assert response.status_code == 200
