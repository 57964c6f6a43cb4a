"""Behind reverse proxies (MEND_TRUSTED_PROXIES): the sign-in lockout, the reset limit and the
audit trail see each client's address, not the proxy's, and no client can choose its own."""

from __future__ import annotations

import pytest
from django.test import RequestFactory, override_settings

from mend.audit.models import Action, AuditEvent
from mend.platform.client_address import client_ip
from mend.testing import PASSWORD

PROXY = "10.0.0.2"
ALICE = "203.0.113.7"
BOB = "198.51.100.9"


def _ip(trusted: int, forwarded: str | None) -> str | None:
    headers = {"REMOTE_ADDR": PROXY}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    with override_settings(MEND_TRUSTED_PROXIES=trusted):
        return client_ip(RequestFactory().get("/", **headers))


def test_without_trusted_proxies_the_header_is_ignored():
    assert _ip(0, ALICE) == PROXY


def test_one_trusted_proxy_takes_the_entry_it_appended():
    assert _ip(1, ALICE) == ALICE


@pytest.mark.parametrize("spoofed", ["1.2.3.4", "1.2.3.4, 5.6.7.8", "not-an-address"])
def test_entries_the_client_wrote_before_the_proxies_are_ignored(spoofed):
    assert _ip(1, f"{spoofed}, {ALICE}") == ALICE
    # Two proxies: the outer one appended Alice, the inner one the outer's address.
    assert _ip(2, f"{spoofed}, {ALICE}, 10.0.0.1") == ALICE


def test_too_few_entries_or_a_made_up_one_fall_back_to_the_connection():
    assert _ip(2, ALICE) == PROXY
    assert _ip(1, None) == PROXY
    assert _ip(1, "") == PROXY
    assert _ip(1, "1.2.3.4, <script>") == PROXY


@override_settings(MEND_TRUSTED_PROXIES=1)
def test_the_lockout_counts_each_client_behind_the_proxy(client, personas):
    """Someone guessing Tess's password from home locks that address out, not Tess at the clinic;
    changing the entries they send in front of the proxy's does not reset their count."""
    email = personas.therapist.email
    for attempt in range(5):
        forwarded = f"192.0.2.{attempt}, {ALICE}"
        response = client.post(
            "/accounts/login/",
            {"username": email, "password": f"wrong-{attempt}"},
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR=forwarded,
        )
        assert response.status_code == (429 if attempt == 4 else 200)
    locked = client.post(
        "/accounts/login/", {"username": email, "password": PASSWORD}, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=ALICE
    )
    assert locked.status_code == 429
    tess = client.post(
        "/accounts/login/", {"username": email, "password": PASSWORD}, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=BOB
    )
    assert tess.status_code == 302


@override_settings(MEND_TRUSTED_PROXIES=1)
def test_the_audit_trail_and_the_reset_limit_see_the_client_behind_the_proxy(client, personas, mailoutbox):
    for persona in ("therapist", "front_desk", "admin"):
        client.post(
            "/accounts/password/reset/",
            {"email": getattr(personas, persona).email},
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR=f"1.1.1.1, {ALICE}",
        )
    assert len(mailoutbox) == 3
    assert set(AuditEvent.objects.filter(object_type="accounts.password_reset").values_list("ip", flat=True)) == {ALICE}
    # Alice's fourth is refused; Bob, behind the same proxy, still gets his email.
    client.post(
        "/accounts/password/reset/", {"email": personas.owner.email}, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=ALICE
    )
    assert len(mailoutbox) == 3
    client.post(
        "/accounts/password/reset/", {"email": personas.owner.email}, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=BOB
    )
    assert [message.to for message in mailoutbox][-1] == [personas.owner.email]
    failed = client.post(
        "/accounts/login/",
        {"username": personas.owner.email, "password": "wrong"},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=BOB,
    )
    assert failed.status_code == 200
    assert AuditEvent.objects.filter(action=Action.FAILED_LOGIN).latest("pk").ip == BOB
