"""Remote collection: a signed, expiring, single-use link sent by email; no sign-in needed."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from mend.audit.models import AuditEvent
from mend.outcomes import score, services
from mend.outcomes.models import MeasureResponse, QuestionnaireLink, Source

from .conftest import token_from_mail

# clock: dates here are the clinic's; scripts/test.sh runs this module at hours where UTC's differ.
pytestmark = [pytest.mark.django_db(transaction=False), pytest.mark.clock]
BASE = "http://clinic.test/"


def send(actor, episode, measures=("nprs", "odi")):
    return services.link_create_and_send(actor=actor, episode=episode, measure_ids=list(measures), base_url=BASE)


def post_answers(client, token, nprs="3", odi=("2",) * 10):
    data = {"nprs-item_0": nprs}
    data.update({f"odi-item_{n}": v for n, v in enumerate(odi)})
    return client.post(f"/q/{token}/", data)


def test_link_is_emailed_after_commit_and_stores_only_a_hash(
    tess, episode, emailable, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sent = send(tess, episode)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["carol@example.net"]
    assert "Harbour Test Clinic" in message.subject
    assert "Hello Carol" in message.body and sent.url in message.body
    token = token_from_mail()
    link = QuestionnaireLink.objects.get()
    assert token not in link.token_hash and len(link.token_hash) == 64
    assert link.measures == ["nprs", "odi"]
    assert link.expires_at - timezone.now() > timedelta(days=6, hours=23)


def test_nothing_is_emailed_when_the_transaction_rolls_back(
    tess, episode, emailable, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        send(tess, episode)
    assert len(callbacks) == 1 and mail.outbox == []


def test_no_email_address_or_no_consent_is_a_clear_error(tess, episode, personas):
    with pytest.raises(ValidationError, match="has not agreed to be contacted by email"):
        send(tess, episode)
    personas.carol.email = ""
    personas.carol.consent_email = True
    personas.carol.save()
    with pytest.raises(ValidationError, match="has no email address"):
        send(tess, episode)
    assert not QuestionnaireLink.objects.exists()


def test_client_answers_without_signing_in_and_the_link_works_once(
    client, tess, episode, emailable, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        send(tess, episode)
    token = token_from_mail()
    page = client.get(f"/q/{token}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Hello Carol" in text and "Harbour Test Clinic" in text
    assert "Numeric Pain Rating Scale" in text and "ODI section 10" in text
    response = post_answers(client, token)
    assert response.status_code == 302 and response["Location"] == "/q/thanks/"
    rows = {r.measure_id: r for r in MeasureResponse.objects.all()}
    assert rows["nprs"].value == 3 and rows["odi"].value == pytest.approx(score("odi", [2] * 10).value)
    assert {r.source for r in rows.values()} == {Source.REMOTE}
    assert all(r.recorded_by is None and r.link is not None for r in rows.values())
    assert AuditEvent.objects.filter(object_type="outcomes.measureresponse", role="client").count() == 2

    again = client.get(f"/q/{token}/")
    assert again.status_code == 410 and "already answered" in again.content.decode()
    resubmitted = post_answers(client, token, nprs="9")
    assert resubmitted.status_code == 410
    assert MeasureResponse.objects.count() == 2


def test_second_redeem_of_a_claimed_link_records_nothing(tess, episode, emailable, django_capture_on_commit_callbacks):
    """The claim is a conditional UPDATE: whoever changes the row first records; the other is refused."""
    with django_capture_on_commit_callbacks(execute=True):
        send(tess, episode, measures=["nprs"])
    token = token_from_mail()
    answers = [services.RemoteAnswers("nprs", [4])]
    services.link_redeem(token=token, responses=answers)
    with pytest.raises(services.LinkUnusable) as caught:
        services.link_redeem(token=token, responses=answers)
    assert caught.value.reason == "used"
    assert MeasureResponse.objects.count() == 1


def test_redeem_claims_atomically_even_if_the_lookup_raced(
    tess, episode, emailable, django_capture_on_commit_callbacks, monkeypatch
):
    with django_capture_on_commit_callbacks(execute=True):
        send(tess, episode, measures=["nprs"])
    token = token_from_mail()
    link = services.link_lookup(token)
    # Another request claims the link between this one's lookup and its update.
    QuestionnaireLink.objects.filter(pk=link.pk).update(used_at=timezone.now())
    monkeypatch.setattr(services, "link_lookup", lambda token: link)
    with pytest.raises(services.LinkUnusable):
        services.link_redeem(token=token, responses=[services.RemoteAnswers("nprs", [4])])
    assert not MeasureResponse.objects.exists()


def test_an_expired_link_is_refused(client, tess, episode, emailable, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        send(tess, episode, measures=["nprs"])
    token = token_from_mail()
    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        page = client.get(f"/q/{token}/")
        assert page.status_code == 410 and "expired" in page.content.decode()
        assert client.post(f"/q/{token}/", {"nprs-item_0": "3"}).status_code == 410
    assert not MeasureResponse.objects.exists()


@pytest.mark.parametrize(
    "mangle", [lambda t: t[:-2] + "xx", lambda t: "x" + t, lambda t: t.split(":")[0], lambda t: "nonsense"]
)
def test_a_tampered_link_is_refused_as_not_found(
    client, tess, episode, emailable, django_capture_on_commit_callbacks, mangle
):
    with django_capture_on_commit_callbacks(execute=True):
        send(tess, episode, measures=["nprs"])
    token = mangle(token_from_mail())
    page = client.get(f"/q/{token}/")
    assert page.status_code == 404 and "does not work" in page.content.decode()
    assert client.post(f"/q/{token}/", {"nprs-item_0": "3"}).status_code == 404


def test_a_blank_questionnaire_keeps_the_link_usable(
    client, tess, episode, emailable, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        send(tess, episode, measures=["nprs"])
    token = token_from_mail()
    response = client.post(f"/q/{token}/", {})
    assert response.status_code == 400 and "Nothing was answered" in response.content.decode()
    assert QuestionnaireLink.objects.get().used_at is None
    assert post_answers(client, token, odi=()).status_code == 302


def test_uncomputable_remote_answers_are_stored_without_a_score(
    client, tess, episode, emailable, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        send(tess, episode, measures=["odi"])
    token = token_from_mail()
    response = client.post(f"/q/{token}/", {"odi-item_0": "2", "odi-item_1": "3"})  # 8 of 10 blank
    assert response.status_code == 302
    assert MeasureResponse.objects.get().value is None


# --- Through a real SMTP server ---------------------------------------------------------------


# The `smtp_server` fixture (tests/conftest.py) is a real aiosmtpd server Django sends to.


def test_the_link_arrives_through_a_real_smtp_server_and_works(
    client, tess, episode, emailable, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sent = send(tess, episode, measures=["nprs"])
    assert len(smtp_server.messages) == 1
    recipients, message = smtp_server.messages[0]
    assert recipients == ["carol@example.net"]
    body = message.get_content()
    assert sent.url in body
    path = sent.url.removeprefix(BASE.rstrip("/"))
    assert client.post(path, {"nprs-item_0": "2"}).status_code == 302
    assert MeasureResponse.objects.get().value == 2


def test_a_licensed_measure_without_its_wording_is_not_sent(tess, episode, emailable, settings):
    settings.MEND_MEASURE_TEXT = ""
    with pytest.raises(ValidationError, match="ODI: the licensed wording is not loaded; record it in clinic"):
        send(tess, episode, measures=["nprs", "odi"])
    assert not QuestionnaireLink.objects.exists()
