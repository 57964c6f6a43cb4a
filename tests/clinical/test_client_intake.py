"""The health history a new client answers from home through an emailed link: sent without health
information, answered once, checked like the therapist's own questionnaire, reviewed by a clinician,
shown to front desk without the answers, and holding booking while a REFER or BLOCK answer waits."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mend.audit.models import Action, AuditEvent
from mend.clinical import services
from mend.clinical.models import ClientIntake, HealthHistory, ScreeningFinding
from mend.clinical.queries.intake import IntakeUnusable, client_questions
from mend.clinical.screening import catalogue
from mend.clinical.services import FindingInput
from mend.outbox.models import OutboundMessage
from mend.scheduling.queries.flags import DO_NOT_BOOK, booking_flags

pytestmark = pytest.mark.django_db


def _send(personas) -> tuple[ClientIntake, str]:
    """Send Carol the questionnaire; the intake and the token from the emailed link."""
    intake = services.client_intake_send(clinic=personas.harbour, client=personas.carol, now=timezone.now())
    body = OutboundMessage.objects.get(key=f"intake:{intake.pk}").body
    token = re.search(r"/intake/([^/\s]+)/", body).group(1)
    return intake, token


def _answers(*yes: str) -> dict[str, bool]:
    return {rule.id: rule.id in yes for rule in client_questions()}


def _post(*yes: str, **extra: str) -> dict[str, str]:
    data = {rule.id: ("yes" if rule.id in yes else "no") for rule in client_questions()}
    data.update(extra)
    return data


def test_sending_queues_one_email_with_the_link_and_no_health_information(personas):
    intake, token = _send(personas)
    (message,) = OutboundMessage.objects.filter(key__startswith="intake:")
    assert message.channel == OutboundMessage.Channel.EMAIL and message.to == "carol@example.net"
    assert message.key == f"intake:{intake.pk}"
    assert f"{settings.MEND_PUBLIC_URL.rstrip('/')}/intake/{token}/" in message.body
    assert "Hello Carol" in message.body and "Harbour" in message.body
    assert "The link works once, until" in message.body
    # No health information: no question, condition or rule of the catalogue is in the email.
    for rule in catalogue().rules.values():
        assert rule.name not in message.body and rule.question not in message.body
    # Only the token's digest is stored: the database cannot rebuild the link.
    assert intake.token_digest == hashlib.sha256(token.encode()).hexdigest() and token not in intake.token_digest
    assert intake.submitted_at is None and intake.reviewed_at is None
    assert AuditEvent.objects.filter(action=Action.CREATE, object_type="clinical.clientintake").exists()


def test_the_page_asks_every_client_question_unanswered_and_not_the_therapists_observations(client, personas):
    _intake, token = _send(personas)
    response = client.get(f"/intake/{token}/")
    page = response.content.decode()
    assert response.status_code == 200 and "Hello Carol" in page
    assert "checked" not in page  # nothing pre-selected: "no" is an answer nobody gave yet
    for rule in client_questions():
        assert f'id="q-{rule.id}"' in page
    assert "impaired_consent" not in page and "physician_consent_refused" not in page
    assert 'name="csrfmiddlewaretoken"' in page


def test_an_unanswered_question_is_refused_naming_it_and_the_answers_stay(client, personas):
    _intake, token = _send(personas)
    data = _post("anticoagulant")
    del data["fever"]
    response = client.post(f"/intake/{token}/", data)
    page = response.content.decode()
    assert response.status_code == 400
    assert "1 question not answered yet" in page and 'href="#q-fever"' in page
    assert not ClientIntake.objects.filter(submitted_at__isnull=False).exists()
    # The service says the same, naming the field, whoever calls it.
    answers = _answers()
    del answers["fever"]
    with pytest.raises(ValidationError) as refused:
        services.client_intake_submit(token=token, answers=answers, now=timezone.now())
    assert list(refused.value.message_dict) == ["answers.fever"]


def test_a_yes_needs_the_follow_ups_the_catalogue_asks(client, personas):
    _intake, token = _send(personas)
    with pytest.raises(ValidationError) as refused:
        services.client_intake_submit(token=token, answers=_answers("lymphedema"), now=timezone.now())
    assert "answers.lymphedema" in refused.value.message_dict
    with pytest.raises(ValidationError) as no_side:
        services.client_intake_submit(
            token=token,
            answers=_answers("lymphedema"),
            findings=[FindingInput("lymphedema", region="upper_arm")],
            now=timezone.now(),
        )
    assert "which side" in " ".join(no_side.value.message_dict["answers.lymphedema"])
    with pytest.raises(ValidationError) as weeks:
        services.client_intake_submit(
            token=token, answers=_answers("pregnancy_first_trimester"), pregnancy_weeks=20, now=timezone.now()
        )
    assert "answers.pregnancy_first_trimester" in weeks.value.message_dict
    # The page shows the missing site beside the question's own field.
    response = client.post(f"/intake/{token}/", _post("lymphedema"))
    assert response.status_code == 400 and 'id="id_lymphedema__region_error"' in response.content.decode()


def test_answers_are_recorded_once_audited_as_the_client_and_make_no_finding(client, personas):
    intake, token = _send(personas)
    data = _post("lymphedema", lymphedema__region="upper_arm", lymphedema__side="left", notes="Mastectomy 2019")
    sent = client.post(f"/intake/{token}/", data)
    assert sent.status_code == 302 and sent["Location"] == "/intake/thanks/"
    assert "Thank you" in client.get(sent["Location"]).content.decode()
    intake.refresh_from_db()
    assert intake.submitted_at is not None and intake.answers["lymphedema"] is True
    assert intake.answers["fever"] is False and "impaired_consent" not in intake.answers
    assert intake.details["lymphedema"]["side"] == "left" and intake.notes == "Mastectomy 2019"
    event = AuditEvent.objects.get(action=Action.UPDATE, object_type="clinical.clientintake")
    assert (event.client_id, event.role, event.user_email) == (personas.carol.pk, "client", "carol@example.net")
    # Reported by the client, to be reviewed: nothing lands on the chart by itself.
    assert not ScreeningFinding.objects.exists() and not HealthHistory.objects.exists()
    # The link works once: the page and the service both refuse it now.
    again = client.post(f"/intake/{token}/", data)
    assert again.status_code == 409 and "already sent" in again.content.decode()
    assert client.get(f"/intake/{token}/").status_code == 409
    with pytest.raises(IntakeUnusable):
        services.client_intake_submit(token=token, answers=_answers(), now=timezone.now())


def test_an_expired_or_unknown_link_says_to_call_the_clinic(client, personas):
    intake, token = _send(personas)
    with time_machine.travel(intake.expires_at + timedelta(seconds=1), tick=False):
        expired = client.get(f"/intake/{token}/")
        assert expired.status_code == 410 and "Call the clinic" in expired.content.decode()
        assert client.post(f"/intake/{token}/", _post()).status_code == 410
    assert client.get("/intake/not-a-token/").status_code == 404
    assert not ClientIntake.objects.filter(submitted_at__isnull=False).exists()


def test_the_page_needs_csrf(personas):
    _intake, token = _send(personas)
    browser = HttpClient(enforce_csrf_checks=True)
    assert browser.post(f"/intake/{token}/", _post()).status_code == 403


def _submitted(personas, *yes: str) -> ClientIntake:
    _intake, token = _send(personas)
    return services.client_intake_submit(token=token, answers=_answers(*yes), now=timezone.now())


def test_staff_see_the_report_front_desk_only_that_it_arrived(login, personas):
    intake = _submitted(personas, "anticoagulant", "dvt_suspected", "osteoporosis")
    owner = login("owner").get(f"/clients/{personas.carol.pk}/").content.decode()
    assert f"Health history reported by {personas.carol.display_name} on" in owner and "to review" in owner
    assert "Mark reviewed" in owner
    # The REFER answer first and marked, then the others with a "yes", then the "no".
    names = {rule_id: rule.name for rule_id, rule in catalogue().rules.items()}
    assert ">REFER<" in owner and owner.index(names["dvt_suspected"]) < owner.index(names["anticoagulant"])
    assert owner.index(names["osteoporosis"]) < owner.index(names["fever"])
    read = AuditEvent.objects.filter(action=Action.VIEW, object_type="clinical.client_intakes")
    assert read.get().client_id == personas.carol.pk

    desk = login("front_desk").get(f"/clients/{personas.carol.pk}/").content.decode()
    assert "Intake questionnaire received (clinical details for the therapist)" in desk
    for rule_id in ("anticoagulant", "dvt_suspected", "osteoporosis"):
        assert catalogue().rules[rule_id].name not in desk
    assert "REFER" not in desk and "Mark reviewed" not in desk
    assert login("front_desk").post(f"/intakes/{intake.pk}/review/").status_code == 403
    intake.refresh_from_db()
    assert intake.reviewed_at is None


def test_a_clinician_marks_it_reviewed_and_another_clinic_cannot(login, personas):
    intake = _submitted(personas, "fever")
    assert login("outsider").post(f"/intakes/{intake.pk}/review/").status_code == 404
    done = login("therapist").post(f"/intakes/{intake.pk}/review/")
    assert done.status_code == 302 and done["Location"] == f"/clients/{personas.carol.pk}/"
    intake.refresh_from_db()
    assert intake.reviewed_at is not None and intake.reviewed_by == personas.memberships["therapist"]
    assert "to review" not in login("therapist").get(f"/clients/{personas.carol.pk}/").content.decode()


def test_a_block_answer_holds_booking_until_a_therapist_reviews_it(personas, tess):
    desk = personas.actor("front_desk")
    carol = personas.carol.pk
    assert booking_flags(desk, [carol], today=desk.today())[carol].booking_flag == ""
    intake = _submitted(personas, "contagious_infection")
    flags = booking_flags(desk, [carol], today=desk.today())[carol]
    assert flags.booking_flag == DO_NOT_BOOK == "do not book: see therapist"
    services.client_intake_review(actor=tess, intake=intake)
    assert booking_flags(desk, [carol], today=desk.today())[carol].booking_flag == ""


def test_a_precaution_alone_does_not_stop_booking(personas):
    _submitted(personas, "anticoagulant")
    desk = personas.actor("front_desk")
    assert booking_flags(desk, [personas.carol.pk], today=desk.today())[personas.carol.pk].booking_flag == ""


def test_review_is_for_clinical_roles_only(personas):
    intake = _submitted(personas)
    with pytest.raises(PermissionDenied):
        services.client_intake_review(actor=personas.actor("front_desk"), intake=intake)


def _queries(request) -> int:
    request()  # warm up: session, first-visit work
    with CaptureQueriesContext(connection) as captured:
        response = request()
    assert response.status_code == 200, response.content[:300]
    return len(captured.captured_queries)


def test_the_questionnaire_page_reads_one_row(client, personas):
    _intake, token = _send(personas)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(f"/intake/{token}/").status_code == 200
    # The intake by its token's digest, with its client and clinic joined: nothing else, signed out.
    assert len(captured.captured_queries) == 1, [q["sql"] for q in captured.captured_queries]


@pytest.mark.parametrize("persona", ["owner", "front_desk"])
def test_the_client_page_costs_the_same_with_one_or_three_questionnaires_to_review(login, personas, persona):
    http = login(persona)
    _submitted(personas, "fever")
    one = _queries(lambda: http.get(f"/clients/{personas.carol.pk}/"))
    _submitted(personas, "anticoagulant")
    _submitted(personas)
    # The section's questionnaires are one query (and, for a clinician, one audit row) however many.
    assert _queries(lambda: http.get(f"/clients/{personas.carol.pk}/")) == one


def test_the_therapists_health_history_shows_the_clients_answers_beside_it_never_selected(login, personas, episode):
    _intake, token = _send(personas)
    services.client_intake_submit(
        token=token,
        answers=_answers("lymphedema"),
        findings=[FindingInput("lymphedema", region="upper_arm", side="left", note="since 2019")],
        now=timezone.now(),
    )
    page = login("therapist").get(f"/episodes/{episode.pk}/intake/").content.decode()
    assert "Reported by the client" in page and "yes (Left upper arm) “since 2019”" in page
    # Every question still starts unanswered: the therapist asks it again and answers it here.
    assert "checked" not in page
