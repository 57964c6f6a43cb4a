"""Content-Security-Policy and Permissions-Policy: on every response, and strict enough to mean something.

The browser test tests/browser/test_every_page.py loads every page with the policy on and fails on
any violation the browser reports; these tests check the headers themselves and that no template
brings back what the policy refuses (inline script, event-handler attributes, style attributes).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import override_settings

import mend

pytestmark = pytest.mark.django_db

TEMPLATES = sorted(Path(mend.__file__).parent.glob("*/templates/**/*.html"))


def _directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in policy.split(";") if part.strip())}


def _assert_headers(response) -> None:
    assert "Content-Security-Policy" in response, (response.status_code, dict(response.headers))
    assert "Permissions-Policy" in response, (response.status_code, dict(response.headers))


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/accounts/login/", 200),  # a page, signed out
        ("/", 302),  # a redirect to sign in
        ("/healthz", 200),
        ("/api/v1/openapi.json", 200),
        ("/api/v1/clients", 401),  # an API refusal
        ("/no-such-page/", 404),
        ("/static/mend/mend.css", 200),
    ],
)
def test_anonymous_responses_carry_both_policies(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    _assert_headers(response)


@pytest.mark.parametrize(
    ("persona", "path", "status"),
    [
        ("owner", "/clients/", 200),
        ("therapist", "/settings/", 403),  # a role refusal
        ("owner", "/clients/999999/", 404),
        ("owner", "/clinic/switch/", 405),  # POST only
    ],
)
def test_signed_in_pages_and_refusals_carry_both_policies(login, persona, path, status):
    response = login(persona).get(path)
    assert response.status_code == status
    _assert_headers(response)


def test_api_answers_carry_both_policies(api):
    therapist = api("therapist")
    _assert_headers(therapist.get("/clients"))
    _assert_headers(therapist.post("/clients", {"legal_given_name": ""}))  # 422
    _assert_headers(therapist.get("/clients/999999"))  # 404


def test_a_server_error_page_carries_both_policies(login, monkeypatch):
    def broken(actor):
        raise RuntimeError("boom")

    monkeypatch.setattr("mend.web.views.queries.home", broken)
    http = login("owner")
    http.raise_request_exception = False
    response = http.get("/")
    assert response.status_code == 500
    _assert_headers(response)


@override_settings(MEND_MAX_REQUEST_BYTES=100)
def test_a_body_refused_before_it_is_read_carries_both_policies(client):
    response = client.post("/accounts/login/", {"username": "x" * 200})
    assert response.status_code == 413
    _assert_headers(response)


def test_the_policy_allows_no_inline_script_eval_inline_style_or_framing(client):
    directives = _directives(client.get("/accounts/login/"))
    assert directives["script-src"] == ["'self'"]
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["form-action"] == ["'self'"]
    everything = " ".join(value for values in directives.values() for value in values)
    for loose in ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "data:", "http:", "https:"):
        assert loose not in everything.split(), loose
    # A page that asks for no nonce gets none: styles come only from Mend's own files.
    assert directives["style-src"] == ["'self'"]


def test_permissions_policy_switches_off_what_mend_never_uses(client):
    policy = dict(
        part.strip().split("=", 1) for part in client.get("/accounts/login/")["Permissions-Policy"].split(",")
    )
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert policy[feature] == "()", feature
    # Passkeys (WebAuthn) stay available to Mend's own pages.
    assert policy["publickey-credentials-get"] == "(self)"


INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)
STYLE_ATTRIBUTE = re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: f"{path.parent.parent.parent.name}/{path.name}")
def test_no_template_has_inline_script_event_handlers_or_style_attributes(template):
    """The policy refuses all three; scripts and styles live in static files."""
    text = template.read_text()
    for pattern, what in ((INLINE_SCRIPT, "an inline <script>"), (EVENT_HANDLER, "an on… event handler attribute")):
        found = pattern.search(text)
        assert found is None, f"{template.name} has {what}: {found.group(0)[:120] if found else ''}"
    found = STYLE_ATTRIBUTE.search(text)
    assert found is None, f"{template.name} has a style attribute: {found.group(0)[:120] if found else ''}"
